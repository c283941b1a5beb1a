//! The Linux errno values the daemon answers with, and their names for transcripts. The seed
//! says error codes come from `<errno.h>` "so there are no new number series"; the table in
//! `pool/PROTOCOL.md` says which error gets which.

/// `ENOENT`: no credentials for the local identity.
pub const ENOENT: i32 = 2;
/// `EIO`: reading a configured key file failed.
pub const EIO: i32 = 5;
/// `EBADF`: the passed descriptor cannot be used.
pub const EBADF: i32 = 9;
/// `EAGAIN`: too many outstanding requests or open callbacks.
pub const EAGAIN: i32 = 11;
/// `EACCES`: the peer's identity was not accepted.
pub const EACCES: i32 = 13;
/// `EBUSY`: another PIN-entry program is registered.
pub const EBUSY: i32 = 16;
/// `EINVAL`: a field has a value that is not allowed.
pub const EINVAL: i32 = 22;
/// `EPIPE`: the connection to the peer broke.
pub const EPIPE: i32 = 32;
/// `ENAMETOOLONG`: an identity fills its 128-byte field.
pub const ENAMETOOLONG: i32 = 36;
/// `ENOSYS`: an unknown command.
pub const ENOSYS: i32 = 38;
/// `EPROTO`: the packet or the descriptor breaks the socket protocol, or the bTLS handshake
/// failed on a protocol error.
pub const EPROTO: i32 = 71;
/// `ENOTSOCK`: the passed descriptor is not a socket.
pub const ENOTSOCK: i32 = 88;
/// `EPROTONOSUPPORT`: DTLS, UDP or SCTP was asked for.
pub const EPROTONOSUPPORT: i32 = 93;
/// `ECONNRESET`: the peer ended the connection during the handshake.
pub const ECONNRESET: i32 = 104;
/// `ECONNREFUSED`: the peer ended the handshake with an alert.
pub const ECONNREFUSED: i32 = 111;
/// `ETIMEDOUT`: the handshake, a callback or the rest of a packet did not come in time.
pub const ETIMEDOUT: i32 = 110;
/// `ECANCELED`: the PIN entry was refused with an empty PIN.
pub const ECANCELED: i32 = 125;
/// `ENOKEY`: a protected key is needed and no PIN-entry program is registered.
pub const ENOKEY: i32 = 126;

/// Every errno the daemon sends, with its name.
pub const ALL: [(i32, &str); 18] = [
    (ENOENT, "ENOENT"),
    (EIO, "EIO"),
    (EBADF, "EBADF"),
    (EAGAIN, "EAGAIN"),
    (EACCES, "EACCES"),
    (EBUSY, "EBUSY"),
    (EINVAL, "EINVAL"),
    (EPIPE, "EPIPE"),
    (ENAMETOOLONG, "ENAMETOOLONG"),
    (ENOSYS, "ENOSYS"),
    (EPROTO, "EPROTO"),
    (ENOTSOCK, "ENOTSOCK"),
    (EPROTONOSUPPORT, "EPROTONOSUPPORT"),
    (ECONNRESET, "ECONNRESET"),
    (ECONNREFUSED, "ECONNREFUSED"),
    (ETIMEDOUT, "ETIMEDOUT"),
    (ECANCELED, "ECANCELED"),
    (ENOKEY, "ENOKEY"),
];

/// The errno's name, if it is one the daemon sends.
pub fn name(errno: i32) -> Option<&'static str> {
    ALL.iter().find(|(e, _)| *e == errno).map(|(_, n)| *n)
}

/// The errno with this name.
pub fn from_name(name: &str) -> Option<i32> {
    ALL.iter().find(|(_, n)| *n == name).map(|(e, _)| *e)
}

/// `EPROTO(71)`, or the number alone.
pub fn label(errno: i32) -> String {
    match name(errno) {
        Some(n) => format!("{n}({errno})"),
        None => errno.to_string(),
    }
}
