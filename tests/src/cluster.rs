//! Cluster test support: finding PostgreSQL and NATS, starting nodes that share them, and a
//! small TCP balancer standing in for nginx.
//!
//! Without the services the cluster tests print what is missing and pass as skipped; with
//! `CONFAB_REQUIRE_SERVICES=1` (as `.ci/run` sets) a missing service fails them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_server::config::Config;
use confab_server::RunningServer;
use tokio::net::{TcpListener, TcpStream};

use crate::{nats_url, postgres_url, rand_u32, PgSchema};

/// Where the shared services are.
#[derive(Debug, Clone)]
pub struct Services {
    pub postgres_url: String,
    pub nats_url: String,
}

/// `host:port` of a service URL.
pub fn host_port(url: &str, default_port: u16) -> Option<String> {
    let rest = url.split("://").nth(1)?;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit('@').next()?;
    Some(if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    })
}

async fn reachable(addr: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// PostgreSQL and NATS when both answer. When one is missing this prints why and returns
/// `None` (the test skips), unless `CONFAB_REQUIRE_SERVICES=1`, where it panics.
pub async fn services(test: &str) -> Option<Services> {
    let s = Services {
        postgres_url: postgres_url(),
        nats_url: nats_url(),
    };
    let mut missing = vec![];
    let pg = host_port(&s.postgres_url, 5432).unwrap_or_default();
    if !reachable(&pg).await {
        missing.push(format!(
            "PostgreSQL at {pg} (set CONFAB_TEST_POSTGRES_URL, default {})",
            crate::DEFAULT_POSTGRES_URL
        ));
    } else if let Err(e) = tokio_postgres::connect(&s.postgres_url, tokio_postgres::NoTls).await {
        missing.push(format!("PostgreSQL at {}: {e}", s.postgres_url));
    }
    let nats = host_port(&s.nats_url, 4222).unwrap_or_default();
    if !reachable(&nats).await {
        missing.push(format!(
            "NATS at {nats} (set CONFAB_TEST_NATS_URL, default {})",
            crate::DEFAULT_NATS_URL
        ));
    }
    if missing.is_empty() {
        return Some(s);
    }
    let what = missing.join("; ");
    if std::env::var("CONFAB_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("{test}: required services are missing: {what}");
    }
    skip(&format!(
        "SKIPPED {test}: needs {what} (CONFAB_REQUIRE_SERVICES=1 makes this a failure)"
    ));
    None
}

/// Prints past the test harness's output capture, so a skip shows in a normal `cargo test`.
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{reason}");
}

/// Several nodes in this process sharing one PostgreSQL schema and one NATS subject prefix.
pub struct Cluster {
    pub nodes: Vec<Option<RunningServer>>,
    pub urls: Vec<String>,
    pub schema: PgSchema,
    pub prefix: String,
    pub services: Services,
}

impl Cluster {
    /// Starts `n` nodes (direct messages open to anyone, cheap password hashing).
    pub async fn start(services: &Services, n: usize) -> Cluster {
        let schema = PgSchema::create().await;
        let prefix = format!("ct{:08x}", rand_u32());
        let mut cluster = Cluster {
            nodes: vec![],
            urls: vec![],
            schema,
            prefix,
            services: services.clone(),
        };
        for i in 0..n {
            let server = RunningServer::start(cluster.config(i))
                .await
                .expect("node starts");
            cluster.urls.push(format!("http://{}", server.addr));
            cluster.nodes.push(Some(server));
        }
        cluster.wait_linked().await;
        cluster
    }

    /// The configuration of node `i`.
    pub fn config(&self, i: usize) -> Config {
        Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: std::env::temp_dir().join(format!("{}-{i}", self.prefix)),
            argon2_memory_kib: 256,
            argon2_iterations: 1,
            open_direct_messages: true,
            postgres_url: Some(self.schema.url()),
            db_timeout_secs: 30,
            nats_url: Some(self.services.nats_url.clone()),
            nats_subject_prefix: self.prefix.clone(),
            node_id: Some(format!("node{i}")),
            // One address registers and connects hundreds of users: limits off, as in TestServer.
            rate_requests_per_connection: 0,
            rate_sends_per_user: 0,
            rate_connects_per_ip: 0,
            rate_registrations_per_ip: 0,
            max_connections_per_ip: 0,
            ..Config::default()
        }
    }

    /// The flags that make a `confab-server` process a node of this cluster.
    pub fn process_args(&self, i: usize) -> Vec<String> {
        vec![
            "--postgres-url".into(),
            self.schema.url(),
            "--nats-url".into(),
            self.services.nats_url.clone(),
            "--nats-subject-prefix".into(),
            self.prefix.clone(),
            "--node-id".into(),
            format!("node{i}"),
            "--db-timeout-secs".into(),
            "30".into(),
            "--data-dir".into(),
            std::env::temp_dir()
                .join(format!("{}-p{i}", self.prefix))
                .display()
                .to_string(),
        ]
    }

    pub fn node(&self, i: usize) -> &RunningServer {
        self.nodes[i].as_ref().expect("node running")
    }

    /// Waits until every node's broker is connected.
    pub async fn wait_linked(&self) {
        for _ in 0..100 {
            if self
                .nodes
                .iter()
                .flatten()
                .all(|n| n.state.broker.health().ok)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nodes did not connect to NATS");
    }
}

/// A round-robin TCP balancer on a loopback port: each new connection goes to the next
/// backend that accepts it, as a load balancer in front of the nodes would.
pub struct Balancer {
    pub addr: SocketAddr,
    backends: Arc<Mutex<Vec<SocketAddr>>>,
    /// The connections being relayed, so that [`Balancer::cut`] can drop them.
    relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    pub async fn start(backends: Vec<SocketAddr>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let backends = Arc::new(Mutex::new(backends));
        let next = Arc::new(AtomicUsize::new(0));
        let list = backends.clone();
        let relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let tracked = relays.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let list = list.clone();
                let next = next.clone();
                let mut relays = tracked.lock().unwrap();
                relays.retain(|r| !r.is_finished());
                relays.push(
                    tokio::spawn(async move {
                        let candidates = list.lock().unwrap().clone();
                        let start = next.fetch_add(1, Ordering::Relaxed);
                        for k in 0..candidates.len() {
                            let backend = candidates[(start + k) % candidates.len()];
                            if let Ok(Ok(mut server)) = tokio::time::timeout(
                                Duration::from_secs(1),
                                TcpStream::connect(backend),
                            )
                            .await
                            {
                                let _ =
                                    tokio::io::copy_bidirectional(&mut client, &mut server).await;
                                return;
                            }
                        }
                    })
                    .abort_handle(),
                );
            }
        });
        Balancer {
            addr,
            backends,
            relays,
            task,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the backends new connections go to.
    pub fn set_backends(&self, backends: Vec<SocketAddr>) {
        *self.backends.lock().unwrap() = backends;
    }

    /// A network cut: drops every relayed connection and refuses new ones until
    /// [`Balancer::set_backends`].
    pub fn cut(&self) {
        self.backends.lock().unwrap().clear();
        for r in self.relays.lock().unwrap().drain(..) {
            r.abort();
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
