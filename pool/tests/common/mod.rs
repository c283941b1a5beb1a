//! Two daemons on loopback, one per side, each with its own identity and the other's keys.
#![allow(dead_code, reason = "each test file uses part of it")]

use btls_pool::client::{ClientError, PoolClient};
use btls_pool::config::Config;
use btls_pool::daemon::{Daemon, DaemonHandle};
use btls_pool::packet::Starttls;
use btls_pool::sample::{config_text, make_keys, IdentityKeys};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, short folder (socket paths are limited to 108 bytes).
pub(crate) fn dir(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pool");
    let d = base.join(format!(
        "{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("test dir");
    d
}

/// What one side's daemon is made of.
#[derive(Default)]
pub(crate) struct SideSpec<'a> {
    pub(crate) identities: &'a [&'a str],
    pub(crate) password: Option<&'a str>,
    pub(crate) extra: &'a str,
}

/// Two daemons: `a` for the client side, `b` for the server side.
pub(crate) struct World {
    pub(crate) dir: PathBuf,
    pub(crate) a: DaemonHandle,
    pub(crate) b: DaemonHandle,
    pub(crate) a_keys: Vec<IdentityKeys>,
    pub(crate) b_keys: Vec<IdentityKeys>,
}

fn keys_for(dir: &Path, spec: &SideSpec<'_>, seed: u64) -> Vec<IdentityKeys> {
    let mut rng = btls::SeededRandom::new(seed);
    spec.identities
        .iter()
        .map(|id| make_keys(&dir.join("keys"), id, spec.password, &mut rng).expect("keys"))
        .collect()
}

fn start(
    dir: &Path,
    name: &str,
    keys: &[IdentityKeys],
    known: &[PathBuf],
    extra: &str,
) -> DaemonHandle {
    let sub = dir.join(name);
    std::fs::create_dir_all(&sub).expect("dir");
    let path = sub.join("pool.toml");
    let text = config_text(&sub, &sub.join("s"), keys, known, extra);
    std::fs::write(&path, text).expect("config");
    let config = Config::load(&path).expect("config loads");
    Daemon::bind(config).expect("bind").spawn().expect("spawn")
}

impl World {
    pub(crate) fn new(name: &str, a: SideSpec<'_>, b: SideSpec<'_>) -> Self {
        let dir = dir(name);
        let a_keys = keys_for(&dir.join("a"), &a, 1);
        let b_keys = keys_for(&dir.join("b"), &b, 2);
        let a_known: Vec<PathBuf> = b_keys.iter().flat_map(|k| k.public.clone()).collect();
        let b_known: Vec<PathBuf> = a_keys.iter().flat_map(|k| k.public.clone()).collect();
        let da = start(&dir, "a", &a_keys, &a_known, a.extra);
        let db = start(&dir, "b", &b_keys, &b_known, b.extra);
        Self {
            dir,
            a: da,
            b: db,
            a_keys,
            b_keys,
        }
    }

    /// The usual pair: `client.example` on a, `server.example` on b.
    pub(crate) fn pair(name: &str) -> Self {
        Self::new(
            name,
            SideSpec {
                identities: &["client.example"],
                ..SideSpec::default()
            },
            SideSpec {
                identities: &["server.example"],
                ..SideSpec::default()
            },
        )
    }
}

/// A connected TCP pair on loopback: (client end, server end).
pub(crate) fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (s, _) = l.accept().expect("accept");
    (c, s)
}

pub(crate) type Started = Result<(UnixStream, Starttls), ClientError>;

/// STARTTLS on both sides at once: the client through `a`, the server through `b`.
pub(crate) fn starttls_both(
    a: &Path,
    client: Starttls,
    b: &Path,
    server: Starttls,
) -> (Started, Started) {
    let (c, s) = tcp_pair();
    let b = b.to_owned();
    let server_side = std::thread::spawn(move || {
        let mut pool = PoolClient::connect(&b)?;
        pool.set_timeout(Duration::from_secs(15));
        pool.starttls_server(s, &server, |_| None)
    });
    let client_side = PoolClient::connect(a).and_then(|mut pool| {
        pool.set_timeout(Duration::from_secs(15));
        pool.starttls_client(c, &client, |_| None)
    });
    let server_side = server_side.join().expect("server thread");
    (client_side, server_side)
}

/// Waits (bounded) until `cond` holds; false if it never did.
pub(crate) fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::yield_now();
        std::thread::park_timeout(Duration::from_millis(5));
    }
    cond()
}

/// Open descriptors of this process.
pub(crate) fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}
