//! The same tests against the memory store and the real Redis.

use std::sync::Arc;

use tessera_core::UnixTime;
use tessera_store::DynStore;
use tessera_tests::{redis_url, StoreKind, T0};

fn at(secs: i64) -> UnixTime {
    UnixTime(T0.0 + secs)
}

fn open(kind: StoreKind) -> Option<DynStore> {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let url = match kind {
        StoreKind::Memory => "memory://".to_owned(),
        StoreKind::Redis => redis_url()?,
    };
    Some(tessera_store::open(&url, &prefix).unwrap())
}

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$name(tessera_tests::StoreKind::Memory).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    super::$name(tessera_tests::StoreKind::Redis).await
                }
            }
        )*
    };
}

async fn values_expire_by_the_clock(kind: StoreKind) {
    let Some(s) = open(kind) else { return };
    s.set("code", b"v1", at(600), at(0)).await.unwrap();
    assert_eq!(s.get("code", at(599)).await.unwrap().as_deref(), Some(&b"v1"[..]));
    assert_eq!(
        s.get("code", at(600)).await.unwrap(),
        None,
        "expired at its absolute expiry"
    );
    assert_eq!(s.take("code", at(601)).await.unwrap(), None);
    assert_eq!(s.get("missing", at(0)).await.unwrap(), None);
    s.set("gone", b"x", at(60), at(0)).await.unwrap();
    s.delete("gone").await.unwrap();
    assert_eq!(s.get("gone", at(1)).await.unwrap(), None);
}

async fn take_is_exactly_once_under_concurrency(kind: StoreKind) {
    let Some(s) = open(kind) else { return };
    s.set("device-code", b"approved", at(600), at(0)).await.unwrap();
    let takers = (0..20).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move { s.take("device-code", at(1)).await.unwrap() })
    });
    let got: Vec<_> = futures::future::join_all(takers)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got.iter().filter(|v| v.is_some()).count(), 1);
    assert_eq!(
        got.iter().flatten().next().map(Vec::as_slice),
        Some(&b"approved"[..])
    );
}

async fn set_if_absent_respects_live_values_only(kind: StoreKind) {
    let Some(s) = open(kind) else { return };
    assert!(s.set_if_absent("k", b"a", at(10), at(0)).await.unwrap());
    assert!(!s.set_if_absent("k", b"b", at(10), at(5)).await.unwrap());
    assert_eq!(s.get("k", at(5)).await.unwrap().as_deref(), Some(&b"a"[..]));
    assert!(
        s.set_if_absent("k", b"c", at(30), at(10)).await.unwrap(),
        "an expired value does not block"
    );
    assert_eq!(s.get("k", at(11)).await.unwrap().as_deref(), Some(&b"c"[..]));
}

async fn counters_count_and_restart_after_expiry(kind: StoreKind) {
    let Some(s) = open(kind) else { return };
    assert_eq!(s.incr("c", 1, at(60), at(0)).await.unwrap(), 1);
    assert_eq!(
        s.incr("c", 1, at(999), at(1)).await.unwrap(),
        2,
        "expiry is fixed at creation"
    );
    assert_eq!(s.incr("c", -1, at(60), at(2)).await.unwrap(), 1);
    assert_eq!(
        s.incr("c", 1, at(120), at(60)).await.unwrap(),
        1,
        "a new window starts from zero"
    );
    let adds = (0..20).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move { s.incr("many", 1, at(60), at(0)).await.unwrap() })
    });
    let mut seen: Vec<i64> = futures::future::join_all(adds)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=20).collect::<Vec<_>>());
}

async fn published_messages_reach_subscribers(kind: StoreKind) {
    let Some(s) = open(kind) else { return };
    let mut a = s.subscribe("evict").await.unwrap();
    let mut b = s.subscribe("evict").await.unwrap();
    let mut other = s.subscribe("other").await.unwrap();
    s.publish("evict", "user:42").await.unwrap();
    s.publish("evict", "token:7").await.unwrap();
    for sub in [&mut a, &mut b] {
        assert_eq!(sub.recv().await.as_deref(), Some("user:42"));
        assert_eq!(sub.recv().await.as_deref(), Some("token:7"));
    }
    assert!(other.try_recv().is_err(), "other channels hear nothing");
    s.ping().await.unwrap();
}

async fn prefixes_isolate_deployments(kind: StoreKind) {
    let (Some(a), Some(b)) = (open(kind), open(kind)) else {
        return;
    };
    a.set("shared-name", b"a", at(60), at(0)).await.unwrap();
    assert_eq!(b.get("shared-name", at(1)).await.unwrap(), None);
    assert_eq!(
        a.get("shared-name", at(1)).await.unwrap().as_deref(),
        Some(&b"a"[..])
    );
}

both_stores!(
    values_expire_by_the_clock,
    take_is_exactly_once_under_concurrency,
    set_if_absent_respects_live_values_only,
    counters_count_and_restart_after_expiry,
    published_messages_reach_subscribers,
    prefixes_isolate_deployments,
);

#[test]
fn unknown_store_schemes_are_refused() {
    assert!(tessera_store::open("memcache://x", "p:").is_err());
}
