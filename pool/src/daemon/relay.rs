//! The relay of an established session: one thread polls the TCP stream and the daemon's end
//! of the socketpair, both non-blocking, with bounded buffers each way (a side that does not
//! read stops the other side being read, and nothing else).
//!
//! bTLS has no half-close (BT-CLOSE-2: a close_notify is answered at once), so the ends map
//! like this (POOL-REL-1):
//! - the application shuts its writing down (or closes): the daemon sends close_notify and
//!   waits, at most [`CLOSE_WAIT`], for the peer's; what the peer sent before it is delivered;
//! - the peer's close_notify: everything before it is delivered, then the daemon shuts down
//!   its writing on the socketpair, so the application reads the end of data;
//! - an error (a truncation, BT-CLOSE-3; a bad record): the daemon delivers what it has, then
//!   closes both ends.
//!
//! Every descriptor is closed when the relay returns.

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a closing session waits for the network to make progress (the peer's
/// close_notify, the last records written).
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// Bytes buffered in one direction before the other side stops being read.
const CAP: usize = 256 * 1024;

/// What a relay moved.
#[derive(Debug, Default)]
pub(crate) struct RelayStats {
    pub(crate) to_peer: u64,
    pub(crate) from_peer: u64,
    pub(crate) error: Option<String>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted
}

/// Writes as much of `buf` as the stream takes now; drops what was written.
fn drain(stream: &mut impl Write, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    while !buf.is_empty() {
        match stream.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf.drain(..n);
                total += n;
            }
            Err(e) if would_block(&e) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// A protocol session as the relay drives it: bytes from the network in, records out,
/// application data both ways (bTLS's `Connection`; TLS 1.3's in `tls.rs`).
pub(crate) trait Session {
    /// Takes bytes that arrived from the network.
    fn receive(&mut self, data: &[u8], now_ms: u64) -> Result<(), String>;
    /// The network's end of stream.
    fn receive_eof(&mut self) -> Result<(), String>;
    /// Queues application data to protect and send.
    fn send(&mut self, data: &[u8]) -> Result<(), String>;
    /// Sends close_notify.
    fn close(&mut self);
    /// Bytes to write to the network.
    fn take_output(&mut self) -> Vec<u8>;
    /// Application data received.
    fn take_application_data(&mut self) -> Vec<u8>;
    /// Whether the session has ended (cleanly or not).
    fn is_closed(&self) -> bool;
}

impl Session for btls::Connection {
    fn receive(&mut self, data: &[u8], now_ms: u64) -> Result<(), String> {
        btls::Connection::receive(self, data, now_ms).map_err(|e| e.to_string())
    }
    fn receive_eof(&mut self) -> Result<(), String> {
        btls::Connection::receive_eof(self).map_err(|e| e.to_string())
    }
    fn send(&mut self, data: &[u8]) -> Result<(), String> {
        btls::Connection::send(self, data).map_err(|e| e.to_string())
    }
    fn close(&mut self) {
        btls::Connection::close(self);
    }
    fn take_output(&mut self) -> Vec<u8> {
        btls::Connection::take_output(self)
    }
    fn take_application_data(&mut self) -> Vec<u8> {
        btls::Connection::take_application_data(self)
    }
    fn is_closed(&self) -> bool {
        btls::Connection::is_closed(self)
    }
}

/// Relays until the session has ended both ways.
pub(crate) fn relay(
    mut tcp: TcpStream,
    conn: &mut dyn Session,
    mut plain: UnixStream,
) -> RelayStats {
    let mut stats = RelayStats::default();
    if tcp.set_nonblocking(true).is_err() || plain.set_nonblocking(true).is_err() {
        stats.error = Some("cannot make the descriptors non-blocking".into());
        return stats;
    }
    let mut buf = vec![0u8; 32 * 1024];
    let mut to_app = conn.take_application_data();
    let mut to_net = conn.take_output();
    stats.from_peer += to_app.len() as u64;
    let mut app_done = false; // the application will send nothing more
    let mut net_done = false; // the TCP stream gave its end, or broke
    let mut app_shut = false;
    let mut close_deadline: Option<Instant> = None;
    loop {
        let finished = conn.is_closed() || net_done;
        if finished && to_app.is_empty() && !app_shut {
            let _ = plain.shutdown(Shutdown::Write);
            app_shut = true;
        }
        if finished && to_app.is_empty() && (to_net.is_empty() || net_done) {
            break;
        }
        let mut tcp_flags = PollFlags::empty();
        if !net_done && !conn.is_closed() && to_app.len() < CAP {
            tcp_flags |= PollFlags::IN;
        }
        if !to_net.is_empty() && !net_done {
            tcp_flags |= PollFlags::OUT;
        }
        let mut app_flags = PollFlags::empty();
        if !app_done && !finished && to_net.len() < CAP {
            app_flags |= PollFlags::IN;
        }
        if !to_app.is_empty() {
            app_flags |= PollFlags::OUT;
        }
        // Once the session is closing, the network must make progress within CLOSE_WAIT (the
        // peer's close_notify, our last records taken); delivering to the application has no
        // such bound: a slow reader only slows its own session.
        let net_pending = !net_done && (!conn.is_closed() || !to_net.is_empty());
        let timeout = close_deadline.filter(|_| net_pending).map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            Timespec {
                tv_sec: i64::try_from(left.as_secs()).unwrap_or(i64::MAX),
                tv_nsec: i64::from(left.subsec_nanos()),
            }
        });
        if tcp_flags.is_empty() && app_flags.is_empty() && timeout.is_none() {
            break; // nothing can move any more
        }
        let (tcp_ready, app_ready) = {
            // A descriptor with nothing to wait for stays out: its HUP would wake every poll.
            let mut fds = Vec::with_capacity(2);
            if !tcp_flags.is_empty() {
                fds.push(PollFd::new(&tcp, tcp_flags));
            }
            if !app_flags.is_empty() {
                fds.push(PollFd::new(&plain, app_flags));
            }
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    stats.error = Some(format!("poll: {e}"));
                    break;
                }
            }
            let mut ready = fds.iter().map(PollFd::revents);
            let t = if tcp_flags.is_empty() {
                PollFlags::empty()
            } else {
                ready.next().unwrap_or(PollFlags::empty())
            };
            let a = if app_flags.is_empty() {
                PollFlags::empty()
            } else {
                ready.next().unwrap_or(PollFlags::empty())
            };
            (t, a)
        };
        if net_pending && close_deadline.is_some_and(|d| Instant::now() >= d) {
            stats.error = Some(format!(
                "the peer made no progress for {} s while closing",
                CLOSE_WAIT.as_secs()
            ));
            net_done = true; // give the network up; what the application is owed is still delivered
            to_net.clear();
            continue;
        }
        if tcp_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
            && tcp_flags.contains(PollFlags::IN)
        {
            loop {
                match tcp.read(&mut buf) {
                    Ok(0) => {
                        net_done = true;
                        if let Err(e) = conn.receive_eof() {
                            stats.error = Some(e); // BT-CLOSE-3
                        }
                        break;
                    }
                    Ok(n) => {
                        if close_deadline.is_some() {
                            close_deadline = Some(Instant::now() + CLOSE_WAIT); // progress
                        }
                        if let Err(e) = conn.receive(buf.get(..n).unwrap_or_default(), now_ms()) {
                            stats.error = Some(e);
                        }
                        if conn.is_closed() {
                            break;
                        }
                    }
                    Err(e) if would_block(&e) => break,
                    Err(e) => {
                        net_done = true;
                        stats.error = Some(format!("TCP: {e}"));
                        break;
                    }
                }
            }
            if conn.is_closed() && close_deadline.is_none() {
                close_deadline = Some(Instant::now() + CLOSE_WAIT); // our close_notify to send
            }
            let data = conn.take_application_data();
            stats.from_peer += data.len() as u64;
            to_app.extend_from_slice(&data);
            to_net.extend_from_slice(&conn.take_output());
        }
        if app_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR)
            && app_flags.contains(PollFlags::IN)
        {
            match plain.read(&mut buf) {
                Ok(0) => app_done = true,
                Ok(n) => {
                    let data = buf.get(..n).unwrap_or_default();
                    stats.to_peer += n as u64;
                    if let Err(e) = conn.send(data) {
                        stats.error = Some(e);
                        app_done = true;
                    }
                }
                Err(e) if would_block(&e) => {}
                Err(_) => app_done = true,
            }
            if app_done && close_deadline.is_none() {
                conn.close(); // BT-CLOSE-1
                close_deadline = Some(Instant::now() + CLOSE_WAIT);
            }
            to_net.extend_from_slice(&conn.take_output());
        }
        if !to_net.is_empty() && !net_done {
            match drain(&mut tcp, &mut to_net) {
                Ok(n) if n > 0 && close_deadline.is_some() => {
                    close_deadline = Some(Instant::now() + CLOSE_WAIT); // progress
                }
                Ok(_) => {}
                Err(e) => {
                    stats.error = Some(format!("TCP: {e}"));
                    net_done = true;
                    to_net.clear();
                }
            }
        }
        if !to_app.is_empty() && drain(&mut plain, &mut to_app).is_err() {
            // The application went away: nothing more can be delivered.
            to_app.clear();
            if !app_done {
                app_done = true;
                conn.close();
                close_deadline = Some(Instant::now() + CLOSE_WAIT);
                to_net.extend_from_slice(&conn.take_output());
            }
        }
    }
    let _ = tcp.set_nonblocking(false);
    if !to_net.is_empty() && !net_done {
        let _ = tcp.set_write_timeout(Some(Duration::from_secs(1)));
        let _ = tcp.write_all(&to_net);
    }
    let _ = tcp.shutdown(Shutdown::Both);
    stats
}
