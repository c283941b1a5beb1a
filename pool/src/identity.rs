//! Identities as the seed defines them: a domain name, or `user@domain`; the empty string is
//! "unknown". In bTLS an identity is the registration handle of its keys.

use crate::packet::IDENTITY_LEN;

/// Checks a non-empty identity's syntax; `Err` says what is wrong.
pub fn check(identity: &str) -> Result<(), String> {
    if identity.is_empty() {
        return Err("the identity is empty".into());
    }
    if identity.len() >= IDENTITY_LEN {
        return Err(format!(
            "{} bytes; an identity has at most {}",
            identity.len(),
            IDENTITY_LEN - 1
        ));
    }
    let (user, domain) = match identity.split_once('@') {
        Some((u, d)) => (Some(u), d),
        None => (None, identity),
    };
    if let Some(user) = user {
        if user.is_empty()
            || !user
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
        {
            return Err(format!("{identity:?}: the user part is not a user name"));
        }
    }
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !labels_ok {
        return Err(format!("{identity:?}: the domain is not a domain name"));
    }
    Ok(())
}

/// The identity a registration handle names, for a response's `remoteid`: the handle itself
/// when it is a valid identity, otherwise `None`.
pub fn from_reg_handle(handle: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(handle).ok()?;
    check(s).is_ok().then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_and_users_at_domains_are_identities() {
        for ok in ["server.example", "a", "alice@client.example", "x-1.y"] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "@x", "x@", "a..b", "-a.b", "é.example", "a@b@c"] {
            assert!(check(bad).is_err(), "{bad}");
        }
        assert!(check(&"a".repeat(127)).is_err(), "labels are at most 63");
        assert!(check(&["a"; 65].join(".")).is_err(), "127 bytes at most");
    }
}
