"""The rules bTLS 1.1 added or changed (SPEC §13 items 16-24): trust first, known keys before the
cache, trust on first use per registration, the registry's four answers, registry scopes, the
record limit, the session kept through a declined offer, and the default identity check."""

import contextlib
import dataclasses
import io
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import List, Optional, Tuple

from helpers import (
    DATA,
    NOW,
    Pair,
    client_config,
    config,
    events,
    frames,
    own_signed,
    published,
    server_config,
)

from btls_py.adapter import build_config, parser
from btls_py.caches import FirstUseStore, KeyCache
from btls_py.client import ClientConnection
from btls_py.connection import CLOSED, ESTABLISHED, FAILED
from btls_py.keyfiles import LookupResult, RegistryAnswer, RegistryDir
from btls_py.keyschedule import DirectionKeys
from btls_py.messages import ClientHello, PublishedKey
from btls_py.record import RECORD_LIMIT, BadRecordMac, RecordProtection, SequenceExhausted
from btls_py.registry import CipherSuite, ContentType, HandshakeCode, KeyAlgorithm, ValidationReason
from btls_py.validation import ASK_PEER, Accepted, Named, PeerKeys, Rejected, TrustedRegistryKey

R = ValidationReason


def named(key: PublishedKey) -> Named:
    return Named(key.reg_handle, key.key_handle, key.key_algorithm)


def validate(key: PublishedKey, **policy: object) -> Optional[ValidationReason]:
    return config(["server-ed25519"], **policy).peer_keys.validate(key, named(key), NOW)  # type: ignore[arg-type]


class TrustComesFirst(unittest.TestCase):
    """BT-KEY-4 (bTLS 1.1): handles, trust, then the key, the algorithm and the validity."""

    def test_an_untrusted_key_learns_nothing_else(self) -> None:
        key = published("client-ed25519")
        expired = dataclasses.replace(key, not_before=0, not_after=5)
        malformed = dataclasses.replace(key, public_key=b"\x01\x02\x03\x04\x05")
        self.assertEqual(validate(expired), R.UNTRUSTED_KEY)
        self.assertEqual(validate(malformed), R.UNTRUSTED_KEY)
        self.assertEqual(validate(key, allowed=[KeyAlgorithm.ECDSA_P256_ECDH_P256]), R.UNTRUSTED_KEY)

    def test_a_bad_registry_signature_comes_before_the_validity(self) -> None:
        signed = published("client-ed25519.signed")
        self.assertEqual(
            validate(dataclasses.replace(signed, not_after=5), trust_registry=True), R.BAD_REGISTRY_SIGNATURE
        )

    def test_a_trusted_key_is_then_checked_in_full(self) -> None:
        key = published("client-ed25519")
        expired = dataclasses.replace(key, not_before=0, not_after=5)
        self.assertEqual(validate(expired, known_keys=[expired]), R.EXPIRED_KEY)
        self.assertEqual(
            validate(key, known=["client-ed25519"], allowed=[KeyAlgorithm.ECDSA_P256_ECDH_P256]),
            R.ALGORITHM_NOT_ALLOWED,
        )
        self.assertEqual(
            validate(dataclasses.replace(key, public_key=b"\x01" * 5), accept_unsigned=True), R.MALFORMED_KEY
        )

    def test_the_handles_come_before_trust(self) -> None:
        key = published("client-ed25519")
        peer = config(["server-ed25519"]).peer_keys
        self.assertEqual(peer.validate(key, Named(key.reg_handle, b"other", key.key_algorithm), NOW), R.HANDLE_MISMATCH)


class RegistryScopes(unittest.TestCase):
    """BT-KEY-15: a trusted registry key vouches only for the registrations its suffixes cover."""

    def test_a_suffix_covers_the_registration(self) -> None:
        signed = published("client-ed25519.signed")  # client.example
        for scope in ([b"@other.example", b".example"], [b"client.example"], [b""], []):
            with self.subTest(scope=scope):
                self.assertIsNone(validate(signed, trust_registry=True, registry_scope=scope))

    def test_a_prefix_or_inner_part_does_not(self) -> None:
        signed = published("client-ed25519.signed")
        for scope in ([b"client.exampl"], [b"lient.example."], [b"xclient.example"], [b"www.client.example"]):
            with self.subTest(scope=scope):
                self.assertEqual(
                    validate(signed, trust_registry=True, registry_scope=scope), R.BAD_REGISTRY_SIGNATURE
                )

    def test_an_out_of_scope_key_is_skipped_not_fatal(self) -> None:
        registry = published("registry").public_key
        policy_keys = [TrustedRegistryKey(registry, (b"@nowhere",)), TrustedRegistryKey(registry, (b".example",))]
        cfg = config(["server-ed25519"])
        cfg.peer_keys.policy.trusted_registry_keys = policy_keys
        signed = published("client-ed25519.signed")
        self.assertIsNone(cfg.peer_keys.validate(signed, named(signed), NOW))

    def test_the_adapter_gives_every_trusted_registry_key_the_scope(self) -> None:
        args = parser().parse_args([
            "--role", "server", "--connect", "127.0.0.1:1", "--key", str(DATA / "server-ed25519.key.json"),
            "--trusted-registry", str(DATA / "registry.pub.json"),
            "--registry-scope", "@a.example", "--registry-scope", ".example",
        ])
        keys = build_config(args).peer_keys.policy.trusted_registry_keys
        self.assertEqual([k.scope for k in keys], [(b"@a.example", b".example")])
        args = parser().parse_args([
            "--role", "server", "--connect", "127.0.0.1:1", "--key", str(DATA / "server-ed25519.key.json"),
            "--trusted-registry", str(DATA / "registry.pub.json"),
        ])
        self.assertEqual([k.scope for k in build_config(args).peer_keys.policy.trusted_registry_keys], [(b"",)])


class TrustOnFirstUse(unittest.TestCase):
    """BT-KEY-13: one key per registration, in a store that is never evicted."""

    def test_the_store_remembers_one_key_per_registration(self) -> None:
        store = FirstUseStore()
        key = published("client-ed25519")
        self.assertTrue(store.trusts(key))
        store.learn(key)
        self.assertTrue(store.trusts(key))
        for other in (
            dataclasses.replace(key, key_handle=b"ed25519-9"),
            dataclasses.replace(key, public_key=published("server-ed25519").public_key),
            dataclasses.replace(key, key_algorithm=KeyAlgorithm.ECDSA_P256_ECDH_P256),
        ):
            self.assertFalse(store.trusts(other))
        store.learn(dataclasses.replace(key, key_handle=b"ed25519-9"))  # the first key stays
        self.assertTrue(store.trusts(key))
        store.forget(key.reg_handle)  # the operator's act
        self.assertTrue(store.trusts(dataclasses.replace(key, key_handle=b"ed25519-9")))

    def test_a_full_store_trusts_no_new_registration_and_evicts_nothing(self) -> None:
        store = FirstUseStore(capacity=3)
        key = published("client-ed25519")
        registrations = [dataclasses.replace(key, reg_handle=f"r{i}.example".encode()) for i in range(3)]
        for k in registrations:
            store.learn(k)
        newcomer = dataclasses.replace(key, reg_handle=b"new.example")
        self.assertFalse(store.trusts(newcomer))
        store.learn(newcomer)
        self.assertEqual(len(store), 3)
        self.assertTrue(all(store.trusts(k) for k in registrations))

    def test_the_store_outlives_the_key_cache(self) -> None:
        peer = config(["server-ed25519"], accept_unsigned=True).peer_keys
        peer.cache = KeyCache(capacity=2)
        genuine = published("client-ed25519")
        peer.learn(genuine, cacheable=True, now=NOW)
        for i in range(10):  # fresh handles of other registrations push the genuine key out of the cache
            peer.learn(dataclasses.replace(genuine, reg_handle=f"r{i}.example".encode()), cacheable=True, now=NOW)
        self.assertIsNone(peer.cache.get(genuine.handles))
        mitm = dataclasses.replace(genuine, key_handle=b"mitm-1", public_key=b"\x58" + b"\x66" * 31)
        self.assertEqual(peer.validate(mitm, named(mitm), NOW), R.UNTRUSTED_KEY)
        self.assertIsNone(peer.validate(genuine, named(genuine), NOW))

    def test_the_store_learns_only_when_the_handshake_completes(self) -> None:
        server = server_config(known=[], accept_unsigned=True, resumption=False)
        pair = Pair(client_config(keys=["client-ed25519"]), server)
        pair.client.start()
        pair.server.receive(pair.client.take_output())
        pair.client.receive(pair.server.take_output())  # SEND_KEY
        pair.server.receive(pair.client.take_output())  # SENDING_KEY, accepted
        pair.server.receive(bytes([2, 40, 0, 1, 2]))  # the client gives up
        self.assertEqual((pair.server.status, len(server.peer_keys.first_use)), (FAILED, 0))
        Pair(client_config(keys=["client-ed25519"]), server).handshake()
        self.assertIsNotNone(server.peer_keys.first_use.get(b"client.example"))

    def test_another_key_of_a_learned_registration_is_untrusted(self) -> None:
        server = server_config(known=[], accept_unsigned=True, resumption=False)
        first = Pair(client_config(keys=["client-ed25519"]), server).handshake()
        self.assertEqual(first.server.status, ESTABLISHED)
        second = Pair(client_config(keys=["client-p256"]), server).handshake()  # same registration
        self.assertEqual(
            [e["reason"] for e in events(second.server_events, "validation_failed")], ["UNTRUSTED_KEY"]
        )


class CacheConfersNoTrust(unittest.TestCase):
    """BT-KEY-3, BT-KEY-9, BT-CACHE-3: known keys first; a cached key is judged like any other."""

    def test_a_known_key_outranks_the_cache(self) -> None:
        peer = config(["server-ed25519"], known=["client-ed25519"]).peer_keys
        key = published("client-ed25519")
        peer.cache.add(dataclasses.replace(key, public_key=published("server-ed25519").public_key), NOW)
        self.assertEqual(peer.resolve(named(key), NOW), Accepted(key, cacheable=False))

    def test_a_cached_key_no_longer_trusted_is_dropped_and_the_peer_asked(self) -> None:
        peer = config(["server-ed25519"]).peer_keys  # trust on first use off
        key = published("client-ed25519")
        peer.cache.add(key, NOW)
        self.assertIs(peer.resolve(named(key), NOW), ASK_PEER)
        self.assertEqual(len(peer.cache), 0)

    def test_a_cached_key_that_passes_is_used(self) -> None:
        peer = config(["server-ed25519"], accept_unsigned=True).peer_keys
        key = published("client-ed25519")
        peer.cache.add(key, NOW)
        self.assertEqual(peer.resolve(named(key), NOW), Accepted(key, cacheable=False))

    def test_an_expired_cache_entry_does_not_hide_the_registry_entry(self) -> None:
        peer = config(["server-ed25519"], registry=True, trust_registry=True).peer_keys
        signed = published("client-ed25519.signed")
        peer.cache.add(dataclasses.replace(signed, not_after=5, registry_signature=b""), NOW)
        self.assertEqual(peer.resolve(named(signed), NOW), Accepted(signed, cacheable=True))


class Registry:
    """A temporary registry directory (docs/key-files.md) with entries of every kind."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, reg: bytes, key: bytes, suffix: str) -> Path:
        folder = self.root / reg.hex()
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key.hex()}.{suffix}"

    def publish(self, key: PublishedKey, as_handles: Optional[Tuple[bytes, bytes]] = None) -> None:
        reg, handle = as_handles or key.handles
        self.path(reg, handle, "btlskey").write_bytes(key.encode())

    def revoke(self, key: PublishedKey) -> None:
        self.path(key.reg_handle, key.key_handle, "revoked").write_bytes(b"")

    def break_entry(self, key: PublishedKey) -> None:
        self.path(key.reg_handle, key.key_handle, "btlskey").write_bytes(b"\x00\x01garbage")


class RegistryAnswers(unittest.TestCase):
    """BT-KEY-14, BT-TIME-3: found, not found, revoked, unavailable; registries fail closed."""

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)
        self.registry = Registry(self.root)
        self.signed = published("client-ed25519.signed")

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def answer(self, key: PublishedKey) -> LookupResult:
        return RegistryDir(self.root).lookup(key.reg_handle, key.key_handle)

    def peer(self, **policy: object) -> PeerKeys:
        return config(["server-ed25519"], registry_dir=self.root, **policy).peer_keys  # type: ignore[arg-type]

    def test_the_four_answers(self) -> None:
        self.registry.publish(self.signed)
        self.assertEqual(self.answer(self.signed), self.signed)
        self.assertIs(self.answer(published("client-p256")), RegistryAnswer.NOT_FOUND)
        self.registry.revoke(self.signed)  # checked first
        self.assertIs(self.answer(self.signed), RegistryAnswer.REVOKED)
        p256 = published("client-p256")
        self.registry.break_entry(p256)
        self.assertIs(self.answer(p256), RegistryAnswer.UNAVAILABLE)

    def test_an_entry_naming_other_handles_is_unavailable(self) -> None:
        self.registry.publish(self.signed, as_handles=(b"client.example", b"other"))
        self.assertIs(RegistryDir(self.root).lookup(b"client.example", b"other"), RegistryAnswer.UNAVAILABLE)

    def test_a_missing_registry_is_unavailable(self) -> None:
        self.assertIs(RegistryDir(self.root / "absent").lookup(b"a", b"b"), RegistryAnswer.UNAVAILABLE)

    def test_revoked_and_unavailable_end_the_handshake_even_with_first_use(self) -> None:
        key = published("client-ed25519")
        self.registry.revoke(key)
        self.assertEqual(self.peer(accept_unsigned=True).resolve(named(key), NOW), Rejected(R.REVOKED_KEY))
        p256 = published("client-p256")
        self.registry.break_entry(p256)
        self.assertEqual(
            self.peer(accept_unsigned=True, trust_registry=True).resolve(named(p256), NOW),
            Rejected(R.REGISTRY_UNAVAILABLE),
        )

    def test_a_revocation_reaches_a_cached_key_after_the_revocation_interval(self) -> None:
        self.registry.publish(self.signed)
        peer = self.peer(trust_registry=True)
        peer.cache.add(self.signed, NOW)
        self.registry.revoke(self.signed)
        self.assertEqual(peer.resolve(named(self.signed), NOW + 299), Accepted(self.signed, cacheable=False))
        self.assertEqual(peer.resolve(named(self.signed), NOW + 300), Rejected(R.REVOKED_KEY))
        self.assertEqual(len(peer.cache), 0)

    def test_a_revoked_key_is_not_asked_of_the_peer(self) -> None:
        self.registry.publish(self.signed)
        self.registry.revoke(self.signed)
        server = server_config(known=[], registry_dir=self.root, trust_registry=True)
        pair = Pair(client_config(keys=[own_signed("client-ed25519")]), server).handshake()
        sent = [e["code"] for e in events(pair.server_events, "handshake_sent")]
        self.assertEqual(sent, ["FAILED_VALIDATION"])
        self.assertEqual(events(pair.client_events, "validation_failed")[0]["reason"], "REVOKED_KEY")

    def test_a_slow_registry_is_unavailable_and_lookups_are_bounded(self) -> None:
        release = threading.Event()

        class Hung(RegistryDir):
            def _read(self, reg: bytes, key: bytes) -> LookupResult:
                release.wait(5)
                return RegistryAnswer.NOT_FOUND

        hung = Hung(self.root, timeout=0.05, max_outstanding=2)
        try:
            answers: List[LookupResult] = [hung.lookup(b"a", b"b"), hung.lookup(b"a", b"c")]
            started = time.monotonic()
            answers.append(hung.lookup(b"a", b"d"))  # beyond the bound: at once
            self.assertLess(time.monotonic() - started, 0.04)
            self.assertEqual(answers, [RegistryAnswer.UNAVAILABLE] * 3)
        finally:
            release.set()


def protected_frames(data: bytes) -> List[Tuple[int, int]]:
    return [(f.content_type, f.subcode) for f in frames(data) if f.content_type != ContentType.HANDSHAKE]


class RecordLimit(unittest.TestCase):
    """BT-REC-8: at most RECORD_LIMIT frames per key, close_notify the last; none opened beyond it."""

    def keys(self) -> DirectionKeys:
        return DirectionKeys.from_traffic(b"\x07" * 32)

    def test_the_record_layer_stops_at_the_limit(self) -> None:
        self.assertEqual(RECORD_LIMIT, 2**24)
        sender = RecordProtection(CipherSuite.AES_256_GCM, self.keys(), limit=2)
        receiver = RecordProtection(CipherSuite.AES_256_GCM, self.keys(), limit=2)
        sealed = [sender.seal(ContentType.APPLICATION, 0, bytes([i])) for i in range(2)]
        self.assertTrue(sender.at_last_frame)
        self.assertRaises(SequenceExhausted, sender.seal, ContentType.APPLICATION, 0, b"x")
        for frame in sealed:
            receiver.open(frame)
        beyond = RecordProtection(CipherSuite.AES_256_GCM, self.keys(), seq=2).seal(ContentType.APPLICATION, 0, b"x")
        self.assertRaisesRegex(BadRecordMac, "record limit", receiver.open, beyond)

    def test_the_sender_ends_with_close_notify_as_its_last_frame(self) -> None:
        pair = Pair(client_config(record_limit=2), server_config()).handshake()
        pair.client.take_output()
        self.assertTrue(pair.client.send_application(b"one"))
        self.assertFalse(pair.client.send_application(b"two"))
        out = pair.client.take_output()
        self.assertEqual(protected_frames(out), [(ContentType.APPLICATION, 0), (ContentType.ALERT, 0)])
        self.assertEqual(pair.client.status, FAILED)
        self.assertEqual(events(pair.client.take_events(), "error")[0]["requirement"], "BT-REC-8")
        pair.server.receive(out)
        self.assertEqual(events(pair.server.take_events(), "application_data")[0]["hex"], b"one".hex())
        self.assertEqual(pair.server.status, CLOSED)

    def test_a_limit_of_one_sends_only_close_notify(self) -> None:
        pair = Pair(client_config(), server_config(record_limit=1)).handshake()
        pair.server.take_output()
        self.assertFalse(pair.server.send_application(b"hello"))
        self.assertEqual(protected_frames(pair.server.take_output()), [(ContentType.ALERT, 0)])

    def test_the_answering_close_notify_fits_in_the_last_frame(self) -> None:
        pair = Pair(client_config(), server_config(record_limit=1)).handshake()
        pair.client.close()
        pair.pump()
        self.assertEqual((pair.client.status, pair.server.status), (CLOSED, CLOSED))

    def test_the_receiver_refuses_frames_beyond_the_limit(self) -> None:
        pair = Pair(client_config(), server_config(record_limit=2)).handshake()
        pair.server.take_events()
        for data in (b"1", b"2", b"3"):
            pair.client.send_application(data)
        pair.server.receive(pair.client.take_output())
        got = pair.server.take_events()
        self.assertEqual([e["hex"] for e in events(got, "application_data")], ["31", "32"])
        self.assertEqual([e["description"] for e in events(got, "alert_sent")], ["bad_record_mac"])

    def test_the_adapter_flag_is_bounded(self) -> None:
        base = ["--role", "client", "--connect", "127.0.0.1:1", "--key", str(DATA / "client-ed25519.key.json")]
        self.assertEqual(build_config(parser().parse_args(base + ["--record-limit", "3"])).record_limit, 3)
        self.assertEqual(build_config(parser().parse_args(base)).record_limit, RECORD_LIMIT)
        for bad in ("0", str(RECORD_LIMIT + 1)):
            with self.subTest(bad=bad), self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                parser().parse_args(base + ["--record-limit", bad])


def offered_session(pair: Pair) -> bytes:
    hello = [f for f in frames(pair.client.take_output()) if f.subcode == HandshakeCode.CLIENT_HELLO][0]
    return ClientHello.decode(hello.body).session_id


class SessionKept(unittest.TestCase):
    """BT-RES-5 (bTLS 1.1): nothing unauthenticated discards the stored session."""

    def setUp(self) -> None:
        self.client = client_config(expect_server=b"server.example")
        self.server = server_config()
        first = Pair(self.client, self.server).handshake()
        assert first.client.info is not None
        self.session_id = first.client.info.session_id

    def declined(self, ending: str) -> None:
        pair = Pair(self.client, server_config(resumption=False))
        pair.client.start()
        pair.server.receive(pair.client.take_output())
        pair.client.receive(pair.server.take_output())  # SERVER_HELLO with an empty session_id
        if ending == "eof":
            pair.client.receive_eof()
        else:
            pair.client.receive(bytes([2, 40, 0, 1, 2]))
        self.assertEqual(pair.client.status, FAILED)

    def test_a_declined_offer_then_an_end_or_an_alert_keeps_the_session(self) -> None:
        for ending in ("eof", "alert"):
            with self.subTest(ending=ending):
                self.declined(ending)
                pair = Pair(self.client, self.server)
                pair.client.start()
                self.assertEqual(offered_session(pair), self.session_id)

    def test_the_kept_session_still_resumes(self) -> None:
        self.declined("eof")
        pair = Pair(self.client, self.server).handshake()
        self.assertTrue(pair.client.info is not None and pair.client.info.resumed)

    def test_a_completed_full_handshake_replaces_it(self) -> None:
        full = Pair(self.client, server_config(resumption=False)).handshake()
        assert full.client.info is not None and not full.client.info.resumed
        pair = Pair(self.client, self.server)
        pair.client.start()
        self.assertEqual(offered_session(pair), full.client.info.session_id)


class IdentityCheckByDefault(unittest.TestCase):
    """BT-KEY-16, BT-HS-27: the client checks the server's registration unless told otherwise."""

    def test_a_client_with_neither_setting_refuses_to_start(self) -> None:
        with self.assertRaisesRegex(ValueError, "BT-KEY-16"):
            ClientConnection(client_config(accept_any_server=False))
        ClientConnection(client_config(accept_any_server=False, expect_server=b"server.example"))
        ClientConnection(client_config(accept_any_server=True))

    def test_the_adapter_accepts_any_server_explicitly_only_without_expect_server(self) -> None:
        base = ["--role", "client", "--connect", "127.0.0.1:1", "--key", str(DATA / "client-ed25519.key.json")]
        cfg = build_config(parser().parse_args(base))
        self.assertEqual((cfg.expect_server, cfg.accept_any_server), (None, True))
        cfg = build_config(parser().parse_args(base + ["--expect-server", "server.example"]))
        self.assertEqual((cfg.expect_server, cfg.accept_any_server), (b"server.example", False))

    def test_the_exported_identity_is_registration_key_handle_and_key(self) -> None:
        pair = Pair(client_config(keys=["client-p256"]), server_config()).handshake()
        assert pair.client.info is not None and pair.server.info is not None
        server_key, client_key = published("server-p256"), published("client-p256")
        self.assertEqual(
            (pair.client.info.peer_reg_handle, pair.client.info.peer_key_handle, pair.client.info.peer_public_key),
            (server_key.reg_handle, server_key.key_handle, server_key.public_key),
        )
        self.assertEqual(pair.server.info.peer_public_key, client_key.public_key)
        self.assertEqual(pair.client.info.key_algorithm, KeyAlgorithm.ECDSA_P256_ECDH_P256)


if __name__ == "__main__":
    unittest.main()
