"""Lints and renders helm/tessera with Helm's own library (PyPI helm-python-sdk, no helm binary) and
checks that the rendered manifests contain what the values ask for. Run by .ci/run; exits non-zero on
any failure."""

import os
import sys

import helm_python as helm
import yaml

CHART = os.path.join(os.path.dirname(__file__), "..", "tessera")
KEK = "ab" * 32


def render(values):
    chart = helm.Chart.load(CHART)
    out = chart.render(values, name="tessera", namespace="ids", is_install=True)
    docs = []
    for path, text in out.items():
        if path.endswith(".txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                docs.append(doc)
    return docs


def kind(docs, k):
    found = [d for d in docs if d["kind"] == k]
    return found


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


failures = []


def check(cond, message):
    if not cond:
        failures.append(message)


# Lint: clean with the default values and with an HA setup.
ha = {
    "replicaCount": 3,
    "postgresql": {"url": "postgres://t:t@pg:5432/t"},
    "redis": {"url": "redis://redis:6379"},
    "keyEncryptionKey": KEK,
    "serviceKey": "cd" * 32,
    "ingress": {"enabled": True, "host": "id.example.com", "className": "nginx"},
    "podDisruptionBudget": {"enabled": True, "minAvailable": 2},
}
for name, values in [("defaults", None), ("ha", ha)]:
    report = helm.lint(CHART, values, strict=True)
    errors = [m for m in report.get("messages", []) if m.get("severity", 0) >= 2] + report.get("errors", [])
    check(not errors, f"helm lint ({name}): {errors}")

# One replica: SQLite on a PVC, Recreate, no migration job, hardened pod.
docs = render(None)
dep = kind(docs, "Deployment")[0]
spec = dep["spec"]["template"]["spec"]
c = spec["containers"][0]
check(dep["spec"]["replicas"] == 1, "one replica by default")
check(dep["spec"].get("strategy", {}).get("type") == "Recreate", "SQLite: Recreate strategy")
check(spec["enableServiceLinks"] is False, "enableServiceLinks: false")
check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "liveness on /healthz")
check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readiness on /readyz")
check(env_of(c).get("TESSERA_SERVER__SHUTDOWN_DELAY_SECS", {}).get("value") == "5", "a shutdown delay with readiness off")
check(spec["terminationGracePeriodSeconds"] == 45, "grace covers the delay and the drain")
check(c["securityContext"]["readOnlyRootFilesystem"] is True, "read-only root fs")
check(spec["securityContext"]["runAsNonRoot"] is True, "non-root")
check(kind(docs, "PersistentVolumeClaim"), "a PVC for SQLite")
check(not kind(docs, "Job"), "no migration job without PostgreSQL")
check(not kind(docs, "Ingress") and not kind(docs, "PodDisruptionBudget"), "ingress and PDB off by default")
check("TESSERA_DATABASE_URL" not in env_of(c), "no database URL: SQLite default")

# HA: replicas, PostgreSQL and Redis from the Secret, the migration hook, ingress, PDB.
docs = render(ha)
dep = kind(docs, "Deployment")[0]
c = dep["spec"]["template"]["spec"]["containers"][0]
env = env_of(c)
check(dep["spec"]["replicas"] == 3, "replicaCount is honoured")
check("strategy" not in dep["spec"], "rolling updates with PostgreSQL")
for var in ["TESSERA_DATABASE_URL", "TESSERA_STORE_URL", "TESSERA_JWT__KEY_ENCRYPTION_KEY", "TESSERA_AUTH__SERVICE_KEY"]:
    check("secretKeyRef" in env.get(var, {}).get("valueFrom", {}), f"{var} from a Secret")
secret = kind(docs, "Secret")[0]
check(secret["stringData"]["database-url"] == ha["postgresql"]["url"], "database URL in the Secret")
check(secret["stringData"]["key-encryption-key"] == KEK, "KEK in the Secret")
jobs = kind(docs, "Job")
check(len(jobs) == 1 and jobs[0]["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"], "migrate job")
check("pre-install" in jobs[0]["metadata"]["annotations"]["helm.sh/hook"], "the job is a pre-install hook")
check(kind(docs, "Ingress")[0]["spec"]["rules"][0]["host"] == "id.example.com", "ingress host")
check(kind(docs, "PodDisruptionBudget")[0]["spec"]["minAvailable"] == 2, "PDB minAvailable")
check(not kind(docs, "PersistentVolumeClaim"), "no PVC with PostgreSQL")

# Several replicas without shared state or keys: the chart refuses to render.
for missing, values in [
    ("postgres", {"replicaCount": 2, "redis": {"url": "redis://r"}, "keyEncryptionKey": KEK, "serviceKey": "x" * 64}),
    ("redis", {"replicaCount": 2, "postgresql": {"url": "postgres://p"}, "keyEncryptionKey": KEK, "serviceKey": "x" * 64}),
    ("keys", {"replicaCount": 2, "postgresql": {"url": "postgres://p"}, "redis": {"url": "redis://r"}}),
]:
    try:
        render(values)
        failures.append(f"replicaCount 2 without {missing} must fail")
    except Exception as e:  # HelmRenderError
        check("replicaCount > 1" in str(e), f"the failure names the problem ({missing}): {e}")

if failures:
    print("helm chart test: FAILED")
    for f in failures:
        print("  -", f)
    sys.exit(1)
print("helm chart test: lint clean, rendered manifests match the values")
