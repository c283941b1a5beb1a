"""Key files, the registry directory, the key cache and validation (BT-KEY-3..12, CACHE)."""

import dataclasses
import json
import tempfile
import unittest
from pathlib import Path

from helpers import DATA, NOW, PASSWORD, config, own, published

from btls_py.caches import KeyCache, Session, SessionStore
from btls_py.keyfiles import KeyFileError, RegistryAnswer, RegistryDir, load_private_key, load_published_key
from btls_py.registry import KeyAlgorithm, ValidationReason
from btls_py.validation import ASK_PEER, Accepted, Named


def named(key):  # type: ignore[no-untyped-def]
    return Named(key.reg_handle, key.key_handle, key.key_algorithm)


class KeyFiles(unittest.TestCase):
    def test_private_files_derive_the_published_public_key(self) -> None:
        for name in ("client-ed25519", "client-p256", "server-ed25519", "server-p256"):
            key = own(name)
            self.assertEqual(key.published, published(name))

    def test_a_protected_file_opens_only_with_its_password(self) -> None:
        key = load_private_key(DATA / "protected.key.json", PASSWORD)
        self.assertEqual(key.published, published("protected"))
        self.assertEqual(key.algorithm, KeyAlgorithm.ECDSA_P256_ECDH_P256)
        with self.assertRaisesRegex(KeyFileError, "wrong password"):
            load_private_key(DATA / "protected.key.json", "wrong")
        with self.assertRaisesRegex(KeyFileError, "no password"):
            load_private_key(DATA / "protected.key.json")

    def test_a_protected_file_moved_to_another_identity_does_not_open(self) -> None:
        doc = json.loads((DATA / "protected.key.json").read_text())
        doc["key_handle"] = "moved"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "moved.key.json"
            path.write_text(json.dumps(doc))
            self.assertRaises(KeyFileError, load_private_key, path, PASSWORD)

    def test_a_published_key_file_may_hold_the_wire_encoding(self) -> None:
        key = published("client-ed25519.signed")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "key.bin"
            path.write_bytes(key.encode())
            self.assertEqual(load_published_key(path), key)

    def test_bad_files_name_the_file_and_field(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.key.json"
            doc = json.loads((DATA / "client-ed25519.key.json").read_text())
            doc["key_algorithm"] = "RSA"
            path.write_text(json.dumps(doc))
            with self.assertRaisesRegex(KeyFileError, "key_algorithm"):
                load_private_key(path)
            self.assertRaises(KeyFileError, load_private_key, Path(tmp) / "missing.json")

    def test_the_registry_directory(self) -> None:
        registry = RegistryDir(DATA / "registry")
        signed = published("client-ed25519.signed")
        self.assertEqual(registry.lookup(signed.reg_handle, signed.key_handle), signed)
        self.assertIs(registry.lookup(b"nobody", b"none"), RegistryAnswer.NOT_FOUND)


class Validation(unittest.TestCase):
    def check(self, key, **policy):  # type: ignore[no-untyped-def]
        cfg = config(["server-ed25519"], **policy)
        return cfg.peer_keys.validate(key, named(key), NOW)

    def test_a_known_key_passes(self) -> None:
        key = published("client-ed25519")
        self.assertIsNone(self.check(key, known=["client-ed25519"]))

    def test_a_known_key_is_equal_in_every_field_but_its_signature(self) -> None:
        key = published("client-ed25519")
        resigned = dataclasses.replace(key, registry_signature=b"\x07" * 64)
        self.assertIsNone(self.check(resigned, known=["client-ed25519"]))  # BT-KEY-9 (b)
        extended = dataclasses.replace(key, not_after=key.not_after + 1)
        self.assertEqual(self.check(extended, known=["client-ed25519"]), ValidationReason.UNTRUSTED_KEY)

    def test_each_reason_in_order(self) -> None:
        key = published("client-ed25519")
        peer = config(["server-ed25519"], known=["client-ed25519"]).peer_keys
        self.assertEqual(
            peer.validate(key, Named(key.reg_handle, b"other", key.key_algorithm), NOW),
            ValidationReason.HANDLE_MISMATCH,
        )
        malformed = dataclasses.replace(key, public_key=b"\x01\x02\x03\x04\x05")
        self.assertEqual(self.check(malformed, accept_unsigned=True), ValidationReason.MALFORMED_KEY)
        self.assertEqual(
            self.check(key, known=["client-ed25519"], allowed=[KeyAlgorithm.ECDSA_P256_ECDH_P256]),
            ValidationReason.ALGORITHM_NOT_ALLOWED,
        )
        for validity in ((0, NOW - 1), (NOW + 1, NOW + 2)):
            expired = dataclasses.replace(key, not_before=validity[0], not_after=validity[1])
            self.assertEqual(self.check(expired, known_keys=[expired]), ValidationReason.EXPIRED_KEY)
        self.assertEqual(self.check(key), ValidationReason.UNTRUSTED_KEY)
        self.assertEqual(
            self.check(key, pins={key.handles: b"\x00" * 32}, accept_unsigned=True),
            ValidationReason.PIN_MISMATCH,
        )
        self.assertIsNone(self.check(key, pins={key.handles: key.public_key}))

    def test_trust_on_first_use_and_registry_signatures(self) -> None:
        signed = published("client-ed25519.signed")
        badsig = dataclasses.replace(signed, registry_signature=b"\x01" * 64)
        self.assertIsNone(self.check(published("client-ed25519"), accept_unsigned=True))
        self.assertIsNone(self.check(signed, trust_registry=True))
        self.assertEqual(self.check(signed), ValidationReason.BAD_REGISTRY_SIGNATURE)
        self.assertEqual(
            self.check(badsig, trust_registry=True, accept_unsigned=True),
            ValidationReason.BAD_REGISTRY_SIGNATURE,
        )

    def test_resolution_order_is_known_cache_registry(self) -> None:
        cfg = config(["server-ed25519"], known=["client-ed25519"], registry=True)
        key = published("client-ed25519")
        self.assertEqual(cfg.peer_keys.resolve(named(key), NOW), Accepted(key, cacheable=False))
        cfg = config(["server-ed25519"], registry=True, trust_registry=True)
        self.assertEqual(
            cfg.peer_keys.resolve(named(key), NOW), Accepted(published("client-ed25519.signed"), cacheable=True)
        )
        self.assertIs(config(["server-ed25519"]).peer_keys.resolve(named(key), NOW), ASK_PEER)


class Caches(unittest.TestCase):
    def test_the_key_cache_evicts_the_least_recently_used(self) -> None:
        cache = KeyCache(capacity=2)
        a, b, c = (dataclasses.replace(published("client-ed25519"), key_handle=h) for h in (b"a", b"b", b"c"))
        cache.add(a, 1)
        cache.add(b, 2)
        cache.get(a.handles)
        cache.add(c, 3)
        self.assertEqual(len(cache), 2)
        self.assertIsNone(cache.get(b.handles))
        entry = cache.get(a.handles)
        assert entry is not None
        self.assertEqual((entry.key, entry.cached_at), (a, 1))

    def test_sessions_expire_after_their_lifetime(self) -> None:
        store = SessionStore(lifetime=10)
        session = Session(b"\x01" * 32, b"s" * 32, 1, 1, published("client-ed25519"), published("server-ed25519"), 100)
        store.store(session)
        self.assertEqual(store.by_id(session.session_id, 109), session)
        self.assertEqual(store.for_server(b"server.example", 109), session)
        self.assertIsNone(store.by_id(session.session_id, 110))
        self.assertIsNone(store.for_server(b"server.example", 110))


if __name__ == "__main__":
    unittest.main()
