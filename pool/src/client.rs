//! The client library for applications: PING, STARTTLS as client or server with the local
//! identity callback, and PIN entry, over the same V1 packets the original library sends.
//!
//! ```no_run
//! use btls_pool::client::PoolClient;
//! use btls_pool::packet::Starttls;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tcp = std::net::TcpStream::connect("127.0.0.1:4433")?;
//! let mut pool = PoolClient::connect("/var/run/tlspool.sock")?;
//! println!("pool: {}", pool.ping("20261203app@example.org")?);
//! let (mut plain, session) =
//!     pool.starttls_client(tcp, &Starttls::tcp("client.example", "server.example"), |_| None)?;
//! println!("talking to {}", session.remoteid);
//! std::io::Write::write_all(&mut plain, b"hello")?;
//! # Ok(()) }
//! ```

use crate::errno;
use crate::fdpass::{recv_packet, send_bytes, Received};
use crate::packet::{
    ping_identity, ping_packet, Command, ErrorBody, Packet, PacketError, Pinentry, Starttls,
};
use std::io;
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// How long the library waits for a response by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket failed.
    #[error("TLS Pool socket: {0}")]
    Io(#[from] io::Error),
    /// The daemon answered ERROR.
    #[error("TLS Pool: {} {message}", errno::label(*errno))]
    Daemon {
        /// `tlserrno`.
        errno: i32,
        /// The daemon's message.
        message: String,
    },
    /// The daemon's answer breaks the protocol.
    #[error("TLS Pool protocol: {0}")]
    Protocol(String),
}

impl From<PacketError> for ClientError {
    fn from(e: PacketError) -> Self {
        Self::Protocol(e.to_string())
    }
}

impl ClientError {
    /// The errno the daemon sent, if it sent one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Daemon { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// One connection to the daemon.
#[derive(Debug)]
pub struct PoolClient {
    stream: UnixStream,
    next_reqid: u16,
    timeout: Duration,
}

fn check_error(p: &Packet) -> Result<(), ClientError> {
    if p.cmd == Command::ERROR {
        let e = ErrorBody::read(p)?;
        return Err(ClientError::Daemon {
            errno: e.errno,
            message: e.message,
        });
    }
    Ok(())
}

impl PoolClient {
    /// Connects to the daemon's socket.
    pub fn connect(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        Ok(Self {
            stream: UnixStream::connect(path)?,
            next_reqid: 1,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sets how long a response may take.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn reqid(&mut self) -> u16 {
        let id = self.next_reqid;
        self.next_reqid = self.next_reqid.wrapping_add(1).max(1);
        id
    }

    fn receive(&self) -> Result<(Packet, Option<std::os::fd::OwnedFd>), ClientError> {
        match recv_packet(&self.stream, Some(self.timeout), self.timeout)? {
            Received::Packet { bytes, fd, .. } => Ok((Packet::decode(bytes.as_slice())?, fd)),
            Received::Short { got, .. } => Err(ClientError::Protocol(format!(
                "the daemon sent {got} bytes of a packet"
            ))),
            Received::Closed => Err(ClientError::Protocol("the daemon closed the socket".into())),
        }
    }

    /// Sends PING with the application's identity (`YYYYMMDD` + producer); returns the
    /// daemon's.
    pub fn ping(&mut self, identity: &str) -> Result<String, ClientError> {
        let reqid = self.reqid();
        send_bytes(&self.stream, &ping_packet(reqid, identity)?.encode(), None)?;
        let (p, _) = self.receive()?;
        check_error(&p)?;
        if p.cmd != Command::PING {
            return Err(ClientError::Protocol(format!(
                "PING answered with {}",
                p.cmd
            )));
        }
        Ok(ping_identity(&p)?)
    }

    /// Hands `tcp` to the daemon for a bTLS client handshake. `localid` answers each local
    /// identity the daemon proposes (when `request.localid` is empty): `None` accepts it,
    /// `Some("")` refuses it, `Some(other)` changes it. Returns the plaintext stream and what
    /// the handshake established.
    pub fn starttls_client(
        &mut self,
        tcp: TcpStream,
        request: &Starttls,
        localid: impl FnMut(&Starttls) -> Option<String>,
    ) -> Result<(UnixStream, Starttls), ClientError> {
        self.starttls(Command::STARTTLS_CLIENT, tcp, request, localid)
    }

    /// [`PoolClient::starttls_client`] for the server side of the connection.
    pub fn starttls_server(
        &mut self,
        tcp: TcpStream,
        request: &Starttls,
        localid: impl FnMut(&Starttls) -> Option<String>,
    ) -> Result<(UnixStream, Starttls), ClientError> {
        self.starttls(Command::STARTTLS_SERVER, tcp, request, localid)
    }

    fn starttls(
        &mut self,
        cmd: Command,
        tcp: TcpStream,
        request: &Starttls,
        mut localid: impl FnMut(&Starttls) -> Option<String>,
    ) -> Result<(UnixStream, Starttls), ClientError> {
        let reqid = self.reqid();
        let packet = request.packet(cmd, reqid, 0)?;
        send_bytes(&self.stream, &packet.encode(), Some(tcp.as_fd()))?;
        drop(tcp); // as V1's library does: the daemon owns the connection now
        loop {
            let (p, fd) = self.receive()?;
            check_error(&p)?;
            if p.cmd == Command::STARTTLS_LOCALID {
                let proposal = Starttls::read(&p)?;
                let choice = localid(&proposal).unwrap_or_else(|| proposal.localid.clone());
                let answer = Starttls {
                    localid: choice,
                    ..proposal
                };
                let back = answer.packet(Command::STARTTLS_LOCALID, p.reqid, p.cbid)?;
                send_bytes(&self.stream, &back.encode(), None)?;
                continue;
            }
            if p.cmd != cmd {
                return Err(ClientError::Protocol(format!(
                    "{cmd} answered with {}",
                    p.cmd
                )));
            }
            let fd = fd.ok_or_else(|| {
                ClientError::Protocol(format!("the {cmd} response carries no descriptor"))
            })?;
            return Ok((UnixStream::from(fd), Starttls::read(&p)?));
        }
    }
}

/// A PIN-entry program's connection: registered with an empty PIN, it answers the daemon's
/// PINENTRY callbacks.
#[derive(Debug)]
pub struct PinEntry {
    client: PoolClient,
    reqid: u16,
}

impl PinEntry {
    /// Connects and offers PIN entry. The daemon answers only when it needs a PIN, or with
    /// EBUSY when another program is registered (seen by the first [`PinEntry::serve_one`]).
    pub fn register(path: impl AsRef<Path>) -> Result<Self, ClientError> {
        let mut client = PoolClient::connect(path)?;
        let reqid = client.reqid();
        let offer = Pinentry::default().packet(reqid, 0)?;
        send_bytes(&client.stream, &offer.encode(), None)?;
        Ok(Self { client, reqid })
    }

    /// Sets how long [`PinEntry::serve_one`] waits for a request.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.client.set_timeout(timeout);
    }

    /// Waits for one PIN request and answers it with `answer` (`None` refuses).
    pub fn serve_one(
        &mut self,
        answer: impl FnOnce(&Pinentry) -> Option<Zeroizing<String>>,
    ) -> Result<(), ClientError> {
        let (p, _) = self.client.receive()?;
        check_error(&p)?;
        if p.cmd != Command::PINENTRY {
            return Err(ClientError::Protocol(format!(
                "expected PINENTRY, got {}",
                p.cmd
            )));
        }
        let request = Pinentry::read(&p)?;
        let pin = answer(&request).unwrap_or_default();
        let reply = Pinentry { pin, ..request };
        send_bytes(
            &self.client.stream,
            &reply.packet(p.reqid, p.cbid)?.encode(),
            None,
        )?;
        Ok(())
    }

    /// Stops PIN entry: an ERROR with the registration's reqid, answered with SUCCESS.
    pub fn stop(self) -> Result<(), ClientError> {
        let bye = ErrorBody {
            errno: errno::ECANCELED,
            message: "PIN entry stops".into(),
        };
        send_bytes(&self.client.stream, &bye.packet(self.reqid).encode(), None)?;
        loop {
            let (p, _) = self.client.receive()?;
            if p.cmd == Command::SUCCESS && p.reqid == self.reqid {
                return Ok(());
            }
            check_error(&p)?;
            // A PIN request that crossed the stop: refuse it.
            if p.cmd == Command::PINENTRY {
                let refuse = Pinentry::default().packet(p.reqid, p.cbid)?;
                send_bytes(&self.client.stream, &refuse.encode(), None)?;
            }
        }
    }
}
