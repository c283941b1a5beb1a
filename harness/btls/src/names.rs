//! Names a TOML file may use — the specification's registry names and the fixture keys — checked
//! while the file is read, so that a misspelt name is reported with its line and field like any
//! other mistake (see [`harness_core::toml_errors`]).
//!
//! Fields use these through serde: `#[serde(default, deserialize_with = "names::one::<_, CipherSuite>")]`
//! on an `Option<String>`, `names::list::<_, FixtureKey>` on an `Option<Vec<String>>`.

use crate::fixtures::Fixtures;
use btls::msgs::{AlertDescription, CipherSuite, HandshakeCode, KeyAlgorithm, ValidationFailure};
use serde::{Deserialize, Deserializer};
use std::marker::PhantomData;

/// A set of names a field's strings must belong to.
pub trait Names {
    /// What one name names, for messages ("cipher suite").
    const WHAT: &'static str;
    /// Whether `name` belongs to the set.
    fn contains(name: &str) -> bool;
    /// Every name of the set, for messages.
    fn all() -> Vec<String>;
}

macro_rules! registry_names {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl Names for $ty {
            const WHAT: &'static str = $what;
            fn contains(name: &str) -> bool {
                <$ty>::from_name(name).is_some()
            }
            fn all() -> Vec<String> {
                <$ty>::ALL.iter().map(ToString::to_string).collect()
            }
        }
    )*};
}

registry_names! {
    AlertDescription => "alert",
    CipherSuite => "cipher suite",
    HandshakeCode => "handshake message",
    KeyAlgorithm => "key algorithm",
    ValidationFailure => "validation failure reason",
}

/// The fixture keys (`fixtures/keys/`) scenario and case files name.
pub struct FixtureKey;

impl Names for FixtureKey {
    const WHAT: &'static str = "fixture key";
    fn contains(name: &str) -> bool {
        Fixtures::get().key(name).is_some()
    }
    fn all() -> Vec<String> {
        Fixtures::get().names().map(str::to_owned).collect()
    }
}

/// One string of the set `N`, checked as it is deserialized: the check runs inside the
/// deserializer of the string itself, so the error carries the string's own place.
struct Name<N>(String, PhantomData<N>);

impl<'de, N: Names> Deserialize<'de> for Name<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor::<N>(PhantomData))
    }
}

struct NameVisitor<N>(PhantomData<N>);

impl<N: Names> serde::de::Visitor<'_> for NameVisitor<N> {
    type Value = Name<N>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the name of a {}", N::WHAT)
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Name<N>, E> {
        if N::contains(name) {
            Ok(Name(name.to_owned(), PhantomData))
        } else {
            Err(E::custom(format!(
                "unknown {} {name:?} (known: {})",
                N::WHAT,
                N::all().join(", ")
            )))
        }
    }
}

/// Deserializes an optional name of the set `N`.
pub fn one<'de, D: Deserializer<'de>, N: Names>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    Name::<N>::deserialize(deserializer).map(|n| Some(n.0))
}

/// Deserializes an optional list of names of the set `N`; an unknown one is reported at its own
/// place in the list.
pub fn list<'de, D: Deserializer<'de>, N: Names>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let names = Vec::<Name<N>>::deserialize(deserializer)?;
    Ok(Some(names.into_iter().map(|n| n.0).collect()))
}
