//! Named keys that scenarios refer to (`keys = ["server-ed25519"]`). All are derived from fixed
//! seeds, so every run, and every implementation's run, sees the same bytes.

use btls::crypto::SigningKey;
use btls::keys::OwnKey;
use btls::msgs::{KeyAlgorithm, PublishedKey};
use btls::testing::own_key;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Registration handle of the fixture registry.
pub const REGISTRY_REG: &str = "registry.example";

/// Every named fixture key.
#[derive(Debug)]
pub struct Fixtures {
    keys: BTreeMap<String, Arc<OwnKey>>,
}

fn with_published(base: &OwnKey, edit: impl FnOnce(&mut PublishedKey)) -> Arc<OwnKey> {
    let mut published = base.published.clone();
    edit(&mut published);
    let signing =
        SigningKey::from_private_bytes(base.signing.algorithm(), base.signing.private_bytes())
            .unwrap_or_else(|| unreachable!("fixture keys are valid"));
    match OwnKey::new(signing, published) {
        Some(k) => Arc::new(k),
        None => unreachable!("only metadata was edited"),
    }
}

impl Fixtures {
    /// The standard set, built once.
    pub fn get() -> &'static Fixtures {
        static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
        FIXTURES.get_or_init(Self::build)
    }

    fn build() -> Self {
        let mut keys = BTreeMap::new();
        let registry = own_key(KeyAlgorithm::ED25519_X25519, REGISTRY_REG, "root", 77);
        keys.insert("registry".to_owned(), registry.clone());
        for (role, reg, seed) in [
            ("client", "client.example", 1),
            ("server", "server.example", 2),
        ] {
            for (alg, short, handle) in [
                (KeyAlgorithm::ED25519_X25519, "ed25519", "ed25519-1"),
                (KeyAlgorithm::ECDSA_P256_ECDH_P256, "p256", "p256-1"),
            ] {
                let base = own_key(alg, reg, handle, seed);
                let name = format!("{role}-{short}");
                keys.insert(
                    format!("{name}-expired"),
                    with_published(&base, |p| {
                        p.not_before = 0;
                        p.not_after = 1_000_000;
                    }),
                );
                keys.insert(
                    format!("{name}-future"),
                    with_published(&base, |p| {
                        p.not_before = 4_000_000_000;
                        p.not_after = 4_100_000_000;
                    }),
                );
                let signed = with_published(&base, |p| {
                    p.registry_signature = registry.signing.sign(&p.to_be_signed());
                });
                keys.insert(
                    format!("{name}-badsig"),
                    with_published(&signed, |p| {
                        if let Some(b) = p.registry_signature.first_mut() {
                            *b ^= 0x01;
                        }
                    }),
                );
                keys.insert(format!("{name}-signed"), signed);
                // Another key of the same registration under its own key handle, signed by the
                // registry: a key a party does not know yet but can validate when it is sent.
                let second_handle = handle.replace("-1", "-2");
                let second = own_key(alg, reg, &second_handle, seed + 200);
                keys.insert(
                    format!("{name}-second"),
                    with_published(&second, |p| {
                        p.registry_signature = registry.signing.sign(&p.to_be_signed());
                    }),
                );
                // The same handles naming another key pair: what an impostor would present.
                let other = own_key(alg, reg, handle, seed + 100);
                keys.insert(format!("{name}-impostor"), other);
                keys.insert(name, base);
            }
        }
        Self { keys }
    }

    /// The key named `name`.
    pub fn key(&self, name: &str) -> Option<Arc<OwnKey>> {
        self.keys.get(name).cloned()
    }

    /// Every fixture name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}
