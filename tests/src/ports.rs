//! Ports for child processes that must be told their port before they listen (oidc-provider, proxies,
//! `tessera serve`).
//!
//! Binding port 0 and handing the number over leaves a window in which the kernel may give the same
//! port to anything else binding port 0 — another test's `free_port`, a server, an outgoing connection —
//! and a child then fails to listen, or another test's server answers in its place. These ports come
//! from below the kernel's ephemeral range (32768–60999 here), which port-0 binds never use, each handed
//! out once per test process, from a base that differs between concurrent processes.

use std::sync::atomic::{AtomicU32, Ordering};

const FIRST: u32 = 20_000;
const COUNT: u32 = 12_000;

/// A port no other caller in this process got and that is free right now.
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id().wrapping_mul(7919) % COUNT;
    for _ in 0..COUNT {
        let offset = (base + NEXT.fetch_add(1, Ordering::Relaxed)) % COUNT;
        let port = u16::try_from(FIRST + offset).expect("below 32768");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + COUNT);
}
