"""Key schedule, record protection, signatures and READY MACs, against the vectors of vectors/."""

import json
import unittest

from helpers import VECTORS, own

from btls_py.keyschedule import KeySchedule, Transcript, expand_label, sha256
from btls_py.primitives import EphemeralKey, InvalidShare, is_valid_public_key, is_valid_share, verify_signature
from btls_py.record import TAG_LEN, BadRecordMac, RecordProtection
from btls_py.registry import CipherSuite, KeyAlgorithm
from btls_py.rng import SeededRandom
from btls_py.vectors import judge_file


class VectorFiles(unittest.TestCase):
    """Every test of every vector file is answered as the file expects (vector mode)."""

    def test_every_vector_file(self) -> None:
        files = sorted(VECTORS.glob("*.json"))
        self.assertEqual(len(files), 6)
        for path in files:
            document = json.loads(path.read_text())
            expected = {
                t["tcId"]: (t["result"], t.get("alert"))
                for g in document["testGroups"] for t in g["tests"]
            }
            answers = {a["tcId"]: (a["result"], a["alert"]) for a in judge_file(path)}
            with self.subTest(file=path.name):
                self.assertEqual(answers, expected)


class KeyScheduleTests(unittest.TestCase):
    def test_the_full_handshake_vector(self) -> None:
        document = json.loads((VECTORS / "key_schedule.json").read_text())
        test = document["testGroups"][0]["tests"][0]
        h = {k: bytes.fromhex(v) for k, v in test.items() if k not in ("comment", "result", "flags", "tcId")}
        schedule = KeySchedule.derive(h["shared"], h["psk"], h["h_k"])
        self.assertEqual(schedule.master, h["master"])
        self.assertEqual(schedule.client.key, h["c_key"])
        self.assertEqual(schedule.server.iv, h["s_iv"])
        self.assertEqual(schedule.resumption_secret(h["h_f"]), h["resumption_secret"])

    def test_expand_label_lengths_and_labels_differ(self) -> None:
        secret = bytes(32)
        self.assertEqual(len(expand_label(secret, "iv", b"", 12)), 12)
        self.assertNotEqual(expand_label(secret, "c ready", b"", 32), expand_label(secret, "s ready", b"", 32))

    def test_transcript_hashes_the_frames_in_order(self) -> None:
        transcript = Transcript()
        self.assertEqual(transcript.current(), sha256(b""))
        transcript.add(b"\x01\x03\x00\x00")
        transcript.add(b"\x01\x06\x00\x00")
        self.assertEqual(transcript.current(), sha256(b"\x01\x03\x00\x00\x01\x06\x00\x00"))


class RecordTests(unittest.TestCase):
    def keys(self):  # type: ignore[no-untyped-def]
        return KeySchedule.derive(b"\x01" * 32, bytes(32), b"\x02" * 32).client

    def test_seal_and_open_in_sequence_for_both_suites(self) -> None:
        for suite in CipherSuite:
            sender, receiver = RecordProtection(suite, self.keys()), RecordProtection(suite, self.keys())
            for n in range(3):
                frame = sender.seal(3, 0, b"data %d" % n)
                self.assertEqual(len(frame.body), len(b"data 0") + TAG_LEN)
                self.assertEqual(receiver.open(frame), b"data %d" % n)
            self.assertEqual(sender.seq, 3)

    def test_a_replayed_or_short_frame_does_not_open(self) -> None:
        sender = RecordProtection(CipherSuite.AES_256_GCM, self.keys())
        receiver = RecordProtection(CipherSuite.AES_256_GCM, self.keys())
        frame = sender.seal(3, 0, b"once")
        receiver.open(frame)
        self.assertRaises(BadRecordMac, receiver.open, frame)
        self.assertRaises(BadRecordMac, receiver.open, type(frame)(3, 0, b"\x01\x02"))


class SignatureTests(unittest.TestCase):
    def test_both_algorithms_sign_64_bytes_that_verify(self) -> None:
        for name in ("client-ed25519", "client-p256"):
            key = own(name)
            signature = key.signer.sign(b"message")
            self.assertEqual(len(signature), 64)
            self.assertTrue(verify_signature(key.algorithm, key.published.public_key, b"message", signature))
            self.assertFalse(verify_signature(key.algorithm, key.published.public_key, b"other", signature))
            flipped = bytes([signature[0] ^ 1]) + signature[1:]
            self.assertFalse(verify_signature(key.algorithm, key.published.public_key, b"message", flipped))

    def test_ecdsa_signatures_are_deterministic(self) -> None:
        key = own("client-p256")
        self.assertEqual(key.signer.sign(b"m"), key.signer.sign(b"m"))

    def test_public_key_validity(self) -> None:
        p256 = own("client-p256").published.public_key
        self.assertTrue(is_valid_public_key(KeyAlgorithm.ECDSA_P256_ECDH_P256, p256))
        self.assertFalse(is_valid_public_key(KeyAlgorithm.ECDSA_P256_ECDH_P256, b"\x04" + b"\x11" * 64))
        self.assertFalse(is_valid_public_key(KeyAlgorithm.ED25519_X25519, b"\x01\x02\x03\x04\x05"))
        self.assertFalse(is_valid_public_key(0x99, p256))

    def test_small_order_and_non_canonical_ed25519_keys_are_refused(self) -> None:
        genuine = own("client-ed25519").published.public_key
        self.assertTrue(is_valid_public_key(KeyAlgorithm.ED25519_X25519, genuine))
        refused = {
            "identity": "01" + "00" * 31,
            "order 2": "ec" + "ff" * 30 + "7f",
            "order 4": "00" * 32,
            "order 8": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
            "sign bit on x = 0": "01" + "00" * 30 + "80",
            "y = p + 3": "f0" + "ff" * 30 + "7f",
            "not on the curve": "02" + "00" * 31,
        }
        for what, key in refused.items():
            with self.subTest(what):
                self.assertFalse(is_valid_public_key(KeyAlgorithm.ED25519_X25519, bytes.fromhex(key)))
        # y = 3 is a point of large order: valid.
        self.assertTrue(is_valid_public_key(KeyAlgorithm.ED25519_X25519, bytes.fromhex("03" + "00" * 31)))


class AgreementTests(unittest.TestCase):
    def test_both_agreements_give_the_same_secret_on_both_sides(self) -> None:
        for algorithm in KeyAlgorithm:
            a, b = EphemeralKey(algorithm, SeededRandom(1)), EphemeralKey(algorithm, SeededRandom(2))
            self.assertEqual(a.agree(b.share()), b.agree(a.share()))
            self.assertEqual(len(a.agree(b.share())), 32)

    def test_seeded_keys_are_reproducible(self) -> None:
        for algorithm in KeyAlgorithm:
            self.assertEqual(
                EphemeralKey(algorithm, SeededRandom(7)).share(), EphemeralKey(algorithm, SeededRandom(7)).share()
            )

    def test_unusable_shares_are_refused(self) -> None:
        x25519 = EphemeralKey(KeyAlgorithm.ED25519_X25519, SeededRandom(1))
        self.assertRaises(InvalidShare, x25519.agree, bytes(32))  # all-zero secret (BT-KS-1)
        self.assertRaises(InvalidShare, x25519.agree, b"\x09\x09")
        p256 = EphemeralKey(KeyAlgorithm.ECDSA_P256_ECDH_P256, SeededRandom(1))
        self.assertRaises(InvalidShare, p256.agree, b"\x04" + b"\x11" * 64)  # off the curve
        self.assertFalse(is_valid_share(KeyAlgorithm.ECDSA_P256_ECDH_P256, p256.share()[:33]))


if __name__ == "__main__":
    unittest.main()
