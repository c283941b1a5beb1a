//! One packet per `sendmsg`, a file descriptor beside it as one `SCM_RIGHTS` int (POOL-FD-1),
//! and the reader that puts a packet back together on the stream socket.

use crate::packet::PACKET_LEN;
use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Room for this many descriptors in one message; more are closed by the kernel and flagged.
const FD_ROOM: usize = 4;

/// Sends `bytes` in one `sendmsg`, with `fd` attached when given.
pub fn send_bytes(sock: &UnixStream, bytes: &[u8], fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
    let fds: Vec<BorrowedFd<'_>> = fd.into_iter().collect();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other("no room for the descriptor"));
    }
    let mut sent = sendmsg(
        sock.as_fd(),
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::NOSIGNAL,
    )?;
    while sent < bytes.len() {
        let rest = bytes.get(sent..).unwrap_or_default();
        let n = sendmsg(
            sock.as_fd(),
            &[IoSlice::new(rest)],
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        )?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        sent += n;
    }
    Ok(())
}

/// What one read of a packet gave.
#[derive(Debug)]
pub enum Received {
    /// A whole packet, the descriptor that came with it, and how many more descriptors came
    /// (already closed: a packet carries at most one).
    Packet {
        /// The packet's bytes.
        bytes: Box<[u8; PACKET_LEN]>,
        /// The descriptor, if one came.
        fd: Option<OwnedFd>,
        /// Descriptors beyond the first.
        extra_fds: usize,
    },
    /// Part of a packet, and then nothing within the wait (or the end of the stream).
    Short {
        /// How many bytes came.
        got: usize,
        /// Whether the stream ended.
        closed: bool,
    },
    /// The stream ended between packets.
    Closed,
}

fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads one packet. Waits `first` for its first byte (`None`: for ever) and `rest` for the
/// remainder once it has begun; a first wait that runs out is an error of kind `WouldBlock`.
pub fn recv_packet(
    sock: &UnixStream,
    first: Option<Duration>,
    rest: Duration,
) -> io::Result<Received> {
    let mut bytes = [0u8; PACKET_LEN];
    let mut got = 0usize;
    let mut fd: Option<OwnedFd> = None;
    let mut extra_fds = 0usize;
    let mut deadline: Option<Instant> = None;
    sock.set_read_timeout(first)?;
    while got < PACKET_LEN {
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Received::Short { got, closed: false });
            }
            sock.set_read_timeout(Some(left))?;
        }
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(FD_ROOM))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let buf = bytes.get_mut(got..).unwrap_or_default();
        let result = recvmsg(
            sock.as_fd(),
            &mut [IoSliceMut::new(buf)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        );
        let msg = match result {
            Ok(m) => m,
            Err(e) => {
                let e = io::Error::from(e);
                if got > 0 && timed_out(&e) {
                    return Ok(Received::Short { got, closed: false });
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
        };
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                for received in fds {
                    if fd.is_none() {
                        fd = Some(received);
                    } else {
                        extra_fds += 1;
                    }
                }
            }
        }
        if msg.flags.contains(rustix::net::ReturnFlags::CTRUNC) {
            extra_fds += 1;
        }
        if msg.bytes == 0 {
            return Ok(if got == 0 {
                Received::Closed
            } else {
                Received::Short { got, closed: true }
            });
        }
        if got == 0 {
            deadline = Some(Instant::now() + rest);
        }
        got += msg.bytes;
    }
    let boxed = Box::new(bytes);
    zeroize::Zeroize::zeroize(&mut bytes); // the stack copy (a PIN, POOL-PIN-3)
    Ok(Received::Packet {
        bytes: boxed,
        fd,
        extra_fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_descriptor_travels_with_its_packet() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut x, y) = UnixStream::pair().unwrap();
        send_bytes(&a, &[7; PACKET_LEN], Some(y.as_fd())).unwrap();
        drop(y);
        match recv_packet(&b, None, Duration::from_secs(1)).unwrap() {
            Received::Packet {
                bytes,
                fd,
                extra_fds,
            } => {
                assert_eq!(*bytes, [7; PACKET_LEN]);
                assert_eq!(extra_fds, 0);
                let mut y = UnixStream::from(fd.unwrap());
                x.write_all(b"hi").unwrap();
                let mut buf = [0; 2];
                y.read_exact(&mut buf).unwrap();
                assert_eq!(&buf, b"hi");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_short_packet_is_reported_after_the_wait() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(&[1; 100]).unwrap();
        match recv_packet(&b, None, Duration::from_millis(50)).unwrap() {
            Received::Short {
                got: 100,
                closed: false,
            } => {}
            other => panic!("{other:?}"),
        }
        drop(a);
    }

    #[test]
    fn a_packet_split_in_two_writes_is_put_together() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(&[1; 200]).unwrap();
        a.write_all(&[2; 176]).unwrap();
        assert!(matches!(
            recv_packet(&b, None, Duration::from_secs(2)).unwrap(),
            Received::Packet { .. }
        ));
        drop(a);
        assert!(matches!(
            recv_packet(&b, None, Duration::from_secs(2)).unwrap(),
            Received::Closed
        ));
    }
}
