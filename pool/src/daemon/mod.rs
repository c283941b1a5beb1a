//! The daemon: listens on its UNIX socket, serves each application connection on a thread of
//! its own, runs each STARTTLS on a thread that does the bTLS handshake and then relays.
//!
//! ```text
//!  application ──UNIX socket──▶ conn (reads packets; answers PING, errors; routes callbacks)
//!                                 │ STARTTLS + TCP fd
//!                                 ▼
//!                              starttls (local identity → callbacks → PIN → bTLS handshake)
//!                                 │ plaintext fd back in the response
//!                                 ▼
//!                              relay (poll: TCP ⇄ bTLS ⇄ socketpair, until both ends are done)
//! ```

mod callbacks;
mod conn;
mod relay;
mod starttls;
mod tls_session;

use crate::config::Config;
use btls::conn::{ClientSessionStore, ServerSessionCache};
use btls::keys::{DirectoryRegistry, KeyCache, PeerKeys, TrustedRegistry};
use callbacks::Callbacks;
use std::collections::HashMap;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Stack size of the daemon's threads (a handshake needs far less).
const STACK: usize = 256 * 1024;

/// What the daemon holds right now, for benchmarks and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Open application connections.
    pub connections: usize,
    /// STARTTLS requests being handled (handshake, callbacks) or relaying.
    pub sessions: usize,
    /// Open callbacks.
    pub callbacks: usize,
    /// Whether a PIN-entry program is registered.
    pub pin_program: bool,
}

/// The PIN-entry program registered with the daemon (POOL-PIN-1).
#[derive(Debug, Clone)]
struct PinProgram {
    conn: Arc<conn::ConnShared>,
    reqid: u16,
}

/// Caches that live as long as the daemon, per local identity.
#[derive(Debug)]
struct IdentityState {
    client_sessions: Arc<ClientSessionStore>,
    server_sessions: Arc<ServerSessionCache>,
}

/// Everything the daemon's threads share.
struct Shared {
    config: Config,
    callbacks: Callbacks,
    pin: Mutex<Option<PinProgram>>,
    peer_keys: PeerKeys,
    identities: HashMap<String, IdentityState>,
    next_id: AtomicU64,
    connections: AtomicUsize,
    sessions: AtomicUsize,
    stopping: AtomicBool,
    log: Mutex<()>,
}

impl Shared {
    fn new(config: Config) -> Self {
        let r = &config.remote;
        let mut peer_keys = PeerKeys {
            cache: Arc::new(KeyCache::new(r.key_cache)),
            registry_timeout: r.registry_timeout,
            ..PeerKeys::default()
        };
        for k in &r.known {
            peer_keys.add_known(k.clone());
        }
        if let Some(dir) = &r.registry {
            peer_keys.registry = Some(Arc::new(DirectoryRegistry::new(dir)));
        }
        peer_keys.policy.trusted_registries = r
            .trusted_registries
            .iter()
            .map(|k| TrustedRegistry::unscoped(k.clone()))
            .collect();
        peer_keys.policy.accept_unsigned = r.trust_on_first_use;
        peer_keys.policy.allowed_algorithms = r.allowed_algorithms.clone();
        let identities = config
            .local
            .iter()
            .map(|l| {
                (
                    l.identity.clone(),
                    IdentityState {
                        client_sessions: Arc::new(ClientSessionStore::new(64)),
                        server_sessions: Arc::new(ServerSessionCache::new(1024)),
                    },
                )
            })
            .collect();
        Self {
            config,
            callbacks: Callbacks::default(),
            pin: Mutex::new(None),
            peer_keys,
            identities,
            next_id: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            sessions: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
            log: Mutex::new(()),
        }
    }

    fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// One line on standard error. Never given a PIN.
    fn log(&self, line: std::fmt::Arguments<'_>) {
        let _guard = self.log.lock();
        eprintln!("btls-pool: {line}");
    }
}

/// A daemon bound to its socket.
pub struct Daemon {
    listener: UnixListener,
    path: PathBuf,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon").field("path", &self.path).finish()
    }
}

impl Daemon {
    /// Binds the configured socket (replacing a stale socket file nobody listens on), and sets
    /// its mode and owner (POOL-SEC-1).
    pub fn bind(config: Config) -> io::Result<Self> {
        let path = config.socket.clone();
        if std::fs::symlink_metadata(&path).is_ok() {
            if UnixStream::connect(&path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{}: another daemon listens here", path.display()),
                ));
            }
            std::fs::remove_file(&path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        }
        let listener = UnixListener::bind(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(config.socket_mode))?;
        let uid = config
            .socket_owner
            .as_deref()
            .map(|o| lookup_id(Path::new("/etc/passwd"), o, "user"))
            .transpose()?;
        let gid = config
            .socket_group
            .as_deref()
            .map(|g| lookup_id(Path::new("/etc/group"), g, "group"))
            .transpose()?;
        if uid.is_some() || gid.is_some() {
            std::os::unix::fs::chown(&path, uid, gid)
                .map_err(|e| io::Error::new(e.kind(), format!("chown {}: {e}", path.display())))?;
        }
        Ok(Self {
            listener,
            path,
            shared: Arc::new(Shared::new(config)),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves until the process ends.
    pub fn serve(self) -> io::Result<()> {
        serve(&self.listener, &self.shared);
        Ok(())
    }

    /// Serves on a thread of its own until the handle is dropped or stopped.
    pub fn spawn(self) -> io::Result<DaemonHandle> {
        let shared = self.shared.clone();
        let path = self.path.clone();
        let listener = self.listener;
        let thread = std::thread::Builder::new()
            .name("btls-pool accept".into())
            .spawn(move || serve(&listener, &shared))?;
        Ok(DaemonHandle {
            path,
            shared: self.shared,
            thread: Some(thread),
        })
    }
}

fn serve(listener: &UnixListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors (EMFILE, ENFILE) the pending connection stays queued and
                // accept fails again at once: back off instead of spinning.
                shared.log(format_args!("accept: {e}"));
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
        };
        if shared.connections.load(Ordering::SeqCst) >= shared.config.max_connections {
            shared.log(format_args!(
                "refused a connection: {} are open (max_connections)",
                shared.config.max_connections
            ));
            continue; // dropping the stream closes it
        }
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("btls-pool conn".into())
            .stack_size(STACK)
            .spawn(move || {
                conn::serve(&s, stream);
                s.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A daemon serving on a thread (tests, benchmarks, the demo).
#[derive(Debug)]
pub struct DaemonHandle {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl DaemonHandle {
    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the daemon holds now.
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.shared.connections.load(Ordering::SeqCst),
            sessions: self.shared.sessions.load(Ordering::SeqCst),
            callbacks: self.shared.callbacks.len(),
            pin_program: self.shared.pin.lock().map(|p| p.is_some()).unwrap_or(false),
        }
    }

    /// Stops accepting (sessions already running go on until they end) and removes the socket.
    pub fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.path); // wakes the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Drop for DaemonHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A user or group name (or number) from `/etc/passwd` or `/etc/group`.
fn lookup_id(file: &Path, name: &str, what: &str) -> io::Result<u32> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    let text = std::fs::read_to_string(file)?;
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            Some((f.next()?, f.nth(1)?))
        })
        .find(|(n, _)| *n == name)
        .and_then(|(_, id)| id.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no {what} {name:?} in {}", file.display()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_and_groups_are_found_by_name_or_number() {
        assert_eq!(
            lookup_id(Path::new("/etc/passwd"), "root", "user").unwrap(),
            0
        );
        assert_eq!(
            lookup_id(Path::new("/etc/group"), "root", "group").unwrap(),
            0
        );
        assert_eq!(
            lookup_id(Path::new("/etc/group"), "4242", "group").unwrap(),
            4242
        );
        let e = lookup_id(Path::new("/etc/passwd"), "no-such-user-x", "user").unwrap_err();
        assert!(e.to_string().contains("no user \"no-such-user-x\""), "{e}");
    }
}
