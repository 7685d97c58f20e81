//! A TCP forwarder in front of a real server that a test can close (connections refused and dropped),
//! hold (connections kept open but silent: packets go nowhere, as in a network partition) and reopen, to
//! make PostgreSQL or Redis unreachable for one app without touching the shared server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const OPEN: u8 = 0;
const CLOSED: u8 = 1;
const HELD: u8 = 2;

pub struct TcpGate {
    pub addr: SocketAddr,
    state: Arc<AtomicU8>,
    /// Bumped at every change of state: forwarded connections stop relaying (and are dropped, or kept
    /// silent while held), held ones are released.
    epoch: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpGate {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gate");
        let addr = listener.local_addr().expect("gate addr");
        let state = Arc::new(AtomicU8::new(OPEN));
        let (epoch, _) = watch::channel(0u64);
        let (st, e) = (state.clone(), epoch.clone());
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let mut changed = e.subscribe();
                match st.load(Ordering::SeqCst) {
                    CLOSED => drop(inbound), // the peer sees the connection end at once
                    HELD => {
                        // Accepted, never answered, until the gate changes again.
                        tokio::spawn(async move {
                            let _silent = inbound;
                            let _ = changed.changed().await;
                        });
                    }
                    _ => {
                        let st = st.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) = TcpStream::connect(target).await else {
                                return;
                            };
                            let mut inbound = inbound;
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => return,
                                _ = changed.changed() => {}
                            }
                            if st.load(Ordering::SeqCst) == HELD {
                                // Keep both ends open and silent until the gate changes again.
                                let _ = changed.changed().await;
                            }
                        });
                    }
                }
            }
        });
        Self {
            addr,
            state,
            epoch,
            task,
        }
    }

    fn set(&self, state: u8) {
        self.state.store(state, Ordering::SeqCst);
        self.epoch.send_modify(|e| *e += 1);
    }

    /// Drops every forwarded connection and refuses new ones.
    pub fn close(&self) {
        self.set(CLOSED);
    }

    /// Keeps every connection, old and new, open and silent: nothing is relayed, nothing is refused.
    pub fn hold(&self) {
        self.set(HELD);
    }

    /// Forwards new connections again; held ones are dropped.
    pub fn reopen(&self) {
        self.set(OPEN);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.close();
        self.task.abort();
    }
}
