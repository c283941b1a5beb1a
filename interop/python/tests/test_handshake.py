"""Whole handshakes between this client and this server, in memory (SPEC §5, §8, §10)."""

import unittest

from helpers import Pair, client_config, events, handshake_codes, own_signed, server_config

from btls_py.client import ClientConnection
from btls_py.connection import CLOSED, ESTABLISHED, FAILED
from btls_py.registry import CipherSuite, KeyAlgorithm

CLIENT_KEYS = {KeyAlgorithm.ED25519_X25519: "client-ed25519", KeyAlgorithm.ECDSA_P256_ECDH_P256: "client-p256"}


class FullHandshake(unittest.TestCase):
    def assert_agree(self, pair: Pair) -> None:
        """BT-HS-27: both sides end with the same session, algorithm, suite and transcript."""
        client, server = pair.client.info, pair.server.info
        assert client is not None and server is not None
        for field in ("session_id", "key_algorithm", "cipher_suite", "resumed", "transcript_hash"):
            self.assertEqual(getattr(client, field), getattr(server, field), field)
        self.assertEqual(client.peer_reg_handle, b"server.example")
        self.assertEqual(server.peer_reg_handle, b"client.example")

    def test_every_algorithm_and_suite_with_known_keys(self) -> None:
        for algorithm, key in CLIENT_KEYS.items():
            for suite in CipherSuite:
                with self.subTest(algorithm=algorithm.name, suite=suite.name):
                    pair = Pair(client_config(keys=[key], cipher_suites=[suite]), server_config())
                    pair.client.start()
                    hello = pair.client.take_output()
                    pair.server.receive(hello)
                    self.assertEqual(
                        handshake_codes(pair.server.take_output()), ["SERVER_HELLO"]
                    )  # both keys known: the short flow of §5.1
                    pair = Pair(client_config(keys=[key], cipher_suites=[suite]), server_config())
                    pair.handshake()
                    self.assertEqual((pair.client.status, pair.server.status), (ESTABLISHED, ESTABLISHED))
                    self.assertEqual(pair.client.info.key_algorithm, algorithm)  # type: ignore[union-attr]
                    self.assertEqual(pair.client.info.cipher_suite, suite)  # type: ignore[union-attr]
                    self.assert_agree(pair)

    def test_data_both_ways_then_close_notify(self) -> None:
        pair = Pair(client_config(), server_config()).handshake()
        pair.server.on_data = pair.server.send_application  # echo
        pair.client.send_application(b"x" * 40000)
        pair.pump()
        received = b"".join(bytes.fromhex(e["hex"]) for e in events(pair.client_events, "application_data"))
        self.assertEqual(received, b"x" * 40000)
        self.assertEqual(len(events(pair.server_events, "application_data")), 3)  # 16384 + 16384 + 7232
        pair.client.close()
        pair.pump()
        self.assertEqual((pair.client.status, pair.server.status), (CLOSED, CLOSED))
        self.assertEqual(len(events(pair.server_events, "alert_sent")), 1)  # the answering close_notify

    def test_the_server_prefers_its_own_suite_order(self) -> None:
        pair = Pair(
            client_config(cipher_suites=[CipherSuite.AES_256_GCM, CipherSuite.CHACHA20_POLY1305]),
            server_config(cipher_suites=[CipherSuite.CHACHA20_POLY1305, CipherSuite.AES_256_GCM]),
        ).handshake()
        self.assertEqual(pair.client.info.cipher_suite, CipherSuite.CHACHA20_POLY1305)  # type: ignore[union-attr]

    def test_keys_requested_in_both_directions_with_trust_on_first_use(self) -> None:
        pair = Pair(client_config(known=[], accept_unsigned=True), server_config(known=[], accept_unsigned=True))
        pair.handshake()
        self.assertEqual(pair.client.status, ESTABLISHED)
        self.assertEqual(
            [e["code"] for e in events(pair.client_events, "handshake_sent")],
            ["CLIENT_HELLO", "SENDING_KEY", "SEND_KEY", "SUCCESSFUL_VALIDATION", "CLIENT_READY"],
        )
        self.assert_agree(pair)

    def test_the_registry_replaces_send_key(self) -> None:
        pair = Pair(
            client_config(keys=[own_signed("client-ed25519")]),
            server_config(known=[], registry=True, trust_registry=True),
        ).handshake()
        self.assertEqual(pair.server.status, ESTABLISHED)
        self.assertNotIn("SEND_KEY", [e["code"] for e in events(pair.server_events, "handshake_sent")])

    def test_cannot_send_key_and_retry_with_the_other_algorithm(self) -> None:
        pair = Pair(client_config(known=["server-p256"]), server_config(send_key=False)).handshake()
        self.assertEqual(pair.client.status, ESTABLISHED)
        self.assertEqual(pair.client.info.key_algorithm, KeyAlgorithm.ECDSA_P256_ECDH_P256)  # type: ignore[union-attr]
        sent = [e["code"] for e in events(pair.client_events, "handshake_sent")]
        self.assertEqual(sent.count("CLIENT_HELLO"), 2)
        self.assert_agree(pair)

    def test_seeded_connections_are_reproducible(self) -> None:
        first = Pair(client_config(seed=5), server_config(seed=6)).handshake()
        second = Pair(client_config(seed=5), server_config(seed=6)).handshake()
        self.assertEqual(first.client.info, second.client.info)


class Resumption(unittest.TestCase):
    def two_connections(self, client_options=None, server_options=None):  # type: ignore[no-untyped-def]
        client = client_config(expect_server=b"server.example", **(client_options or {}))
        server = server_config(**(server_options or {}))
        first = Pair(client, server).handshake()
        first.client.close()
        first.pump()
        return first, Pair(client, server).handshake()

    def test_the_second_connection_resumes(self) -> None:
        first, second = self.two_connections()
        self.assertTrue(second.client.info.resumed)  # type: ignore[union-attr]
        self.assertEqual(second.client.info.session_id, first.client.info.session_id)  # type: ignore[union-attr]
        self.assertEqual(
            [e["code"] for e in events(second.server_events, "handshake_sent")], ["SERVER_HELLO", "SERVER_READY"]
        )
        self.assertEqual(second.client.info.transcript_hash, second.server.info.transcript_hash)  # type: ignore[union-attr]
        second.client.send_application(b"resumed")
        second.pump()
        self.assertEqual(events(second.server_events, "application_data")[0]["hex"], b"resumed".hex())

    def test_a_server_without_resumption_runs_a_full_handshake(self) -> None:
        _, second = self.two_connections(server_options={"resumption": False})
        self.assertFalse(second.client.info.resumed)  # type: ignore[union-attr]
        self.assertEqual(second.client.status, ESTABLISHED)

    def test_no_session_is_offered_without_an_expected_server(self) -> None:
        client, server = client_config(), server_config()
        Pair(client, server).handshake()
        second = Pair(client, server).handshake()
        self.assertFalse(second.client.info.resumed)  # type: ignore[union-attr]


class CacheAndClosure(unittest.TestCase):
    def test_a_key_learned_in_a_completed_handshake_is_not_requested_again(self) -> None:
        server = server_config(known=[], accept_unsigned=True, resumption=False)
        Pair(client_config(), server).handshake()
        second = Pair(client_config(), server).handshake()
        self.assertNotIn("SEND_KEY", [e["code"] for e in events(second.server_events, "handshake_sent")])

    def test_a_key_from_a_failed_handshake_is_not_cached(self) -> None:
        server = server_config(known=[], accept_unsigned=True)
        pair = Pair(client_config(), server)
        pair.client.start()
        pair.server.receive(pair.client.take_output())
        pair.client.receive(pair.server.take_output())  # SEND_KEY
        pair.server.receive(pair.client.take_output())  # SENDING_KEY: validated, SERVER_HELLO sent
        pair.server.receive(bytes([2, 40, 0, 1, 2]))  # the client gives up
        self.assertEqual(pair.server.status, FAILED)
        self.assertEqual(len(server.peer_keys.cache), 0)

    def test_end_of_stream_after_the_handshake_is_a_truncation(self) -> None:
        pair = Pair(client_config(), server_config()).handshake()
        pair.server.receive_eof()
        self.assertEqual(pair.server.status, FAILED)
        self.assertEqual(events(pair.server.take_events(), "error")[0]["requirement"], "BT-CLOSE-3")

    def test_end_of_stream_during_the_handshake_sends_nothing(self) -> None:
        client = ClientConnection(client_config())
        client.start()
        client.take_output()
        client.receive_eof()
        self.assertEqual((client.status, client.take_output()), (FAILED, b""))


if __name__ == "__main__":
    unittest.main()
