"""Every row of the error table (SPEC §9), provoked on the server and on the client."""

import unittest
from typing import List

from helpers import Pair, altered, client_config, events, first_frame, frames, sent_alerts, server_config

from btls_py.connection import FAILED, Connection
from btls_py.frame import Frame
from btls_py.messages import ClientHello, ClientReady, PublishedKey, ServerHello, ServerReady, SessionDetails
from btls_py.registry import AlertDescription, CipherSuite, KeyAlgorithm

P256 = KeyAlgorithm.ECDSA_P256_ECDH_P256


class AlertCase(unittest.TestCase):
    def assert_alert(self, connection: Connection, alert: str) -> None:
        """The connection sent exactly this one alert, last, then nothing more (BT-ALERT-3)."""
        self.assertEqual(sent_alerts(connection), [alert])
        self.assertEqual(connection.status, FAILED)
        last = frames(connection.take_output())[-1]
        self.assertEqual((last.content_type, AlertDescription(last.subcode).spec_name), (2, alert))
        connection.receive(Frame(1, 1, b"").encode())
        self.assertEqual(connection.take_output(), b"")

    def assert_silent_failure(self, connection: Connection) -> None:
        """The connection failed and sent nothing more (BT-ALERT-4, BT-HS-11)."""
        self.assertEqual(connection.status, FAILED)
        self.assertEqual(connection.take_output(), b"")
        self.assertEqual(sent_alerts(connection), [])


class ServerAlerts(AlertCase):
    """The server's answers; the client side is a real client whose frames are altered."""

    def hello(self, pair: Pair) -> Frame:
        pair.client.start()
        return first_frame(pair.client)

    def test_frame_layer(self) -> None:
        cases = [
            (bytes([1, 1, 0x40, 0x11]), "record_overflow"),
            (Frame(9, 0, b"\x00").encode(), "unexpected_message"),
            (Frame(1, 0x7F, b"").encode(), "unexpected_message"),
            (Frame(3, 1, bytes(16)).encode(), "decode_error"),
            (Frame(3, 0, bytes(20)).encode(), "unexpected_message"),
            (Frame(1, 1, b"").encode(), "decode_error"),
            (Frame(1, 8, b"\x01\x02").encode(), "decode_error"),
            (Frame(1, 3, b"").encode(), "unexpected_message"),
            (Frame(2, 40, b"\x02\x02").encode(), "decode_error"),
        ]
        for data, alert in cases:
            with self.subTest(data=data.hex()):
                pair = Pair(client_config(), server_config())
                pair.server.receive(data)
                self.assert_alert(pair.server, alert)

    def test_client_hello_checks(self) -> None:
        zero = bytes(32)
        off_curve = b"\x04" + b"\x11" * 64
        cases = [
            (dict(version=0x0200), {}, "protocol_version"),
            (dict(cipher_suites=[1, 1]), {}, "illegal_parameter"),
            (dict(key_algorithm=0x99), {}, "failed_handshake"),
            (dict(cipher_suites=[0x1234]), {}, "failed_handshake"),
            (dict(key_share=b"\x09\x09"), {}, "illegal_parameter"),
            (dict(key_share=zero), {}, "illegal_parameter"),
            ({}, {"keys": ["server-p256"]}, "failed_handshake"),
        ]
        for changes, server_options, alert in cases:
            with self.subTest(changes=changes, server=server_options):
                pair = Pair(client_config(), server_config(**server_options))
                pair.server.receive(altered(self.hello(pair), ClientHello, **changes))
                self.assert_alert(pair.server, alert)
        pair = Pair(client_config(keys=["client-p256"]), server_config())
        pair.server.receive(altered(self.hello(pair), ClientHello, key_share=off_curve))
        self.assert_alert(pair.server, "illegal_parameter")

    def test_trailing_and_truncated_hellos(self) -> None:
        for body_change in (lambda b: b + b"\x00", lambda b: b[:40]):
            pair = Pair(client_config(), server_config())
            hello = self.hello(pair)
            pair.server.receive(Frame(1, 1, body_change(hello.body)).encode())
            self.assert_alert(pair.server, "decode_error")

    def test_rejected_client_key(self) -> None:
        pair = Pair(client_config(), server_config(known=[]))
        pair.handshake()
        self.assertEqual(
            [e["description"] for e in events(pair.server_events, "alert_sent")], ["failed_handshake"]
        )
        self.assertEqual(events(pair.server_events, "validation_failed")[0]["reason"], "UNTRUSTED_KEY")
        self.assertEqual(events(pair.client_events, "validation_failed")[0]["by"], "peer")

    def test_retries_that_repeat_an_algorithm_or_offer_a_session(self) -> None:
        for changes in (dict(key_algorithm=KeyAlgorithm.ED25519_X25519), dict(session_id=b"\xab" * 32)):
            with self.subTest(changes=changes):
                pair = Pair(client_config(known=[]), server_config(send_key=False))
                pair.client.start()
                pair.server.receive(pair.client.take_output())
                pair.client.receive(pair.server.take_output())  # SERVER_HELLO: client sends SEND_KEY
                pair.server.receive(pair.client.take_output())  # server: CANNOT_SEND_KEY
                pair.client.receive(pair.server.take_output())  # client: retried hello (P-256)
                retry = [f for f in frames(pair.client.take_output()) if f.subcode == 1][0]
                pair.server.receive(altered(retry, ClientHello, **changes))
                self.assertIn("illegal_parameter", sent_alerts(pair.server))
                self.assertEqual(pair.server.status, FAILED)

    def run_to_client_ready(self, pair: Pair) -> Frame:
        """Run until the client has sent CLIENT_READY; return it undelivered."""
        pair.client.start()
        for _ in range(10):
            out = pair.client.take_output()
            ready = [f for f in frames(out) if f.content_type == 1 and f.subcode == 9]
            if ready:
                return ready[0]
            pair.server.receive(out)
            pair.client.receive(pair.server.take_output())
        raise AssertionError("no CLIENT_READY")

    def test_client_ready_checks(self) -> None:
        cases = [
            (dict(verify_data=bytes(32)), "decrypt_error"),
            (dict(signature=b"\x01" * 64), "decrypt_error"),
            (dict(signature=b""), "decrypt_error"),
        ]
        for changes, alert in cases:
            with self.subTest(changes=changes):
                pair = Pair(client_config(), server_config())
                ready = self.run_to_client_ready(pair)
                pair.server.take_events()
                pair.server.receive(altered(ready, ClientReady, **changes))
                self.assert_alert(pair.server, alert)

    def test_a_resumed_client_ready_with_a_signature(self) -> None:
        client, server = client_config(expect_server=b"server.example"), server_config()
        Pair(client, server).handshake()
        pair = Pair(client, server)
        ready = self.run_to_client_ready(pair)
        pair.server.take_events()
        pair.server.receive(altered(ready, ClientReady, signature=b"\x01" * 32))
        self.assert_alert(pair.server, "illegal_parameter")

    def test_after_the_handshake(self) -> None:
        cases = [
            (Frame(3, 0, b"\x5a" * 24).encode(), "bad_record_mac"),
            (Frame(3, 0, b"\x01\x02").encode(), "bad_record_mac"),
            (Frame(2, 0, b"\x01").encode(), "bad_record_mac"),
            (Frame(1, 8, b"\x01\x02").encode(), "unexpected_message"),
            (Frame(1, 1, b"").encode(), "unexpected_message"),
        ]
        for data, alert in cases:
            with self.subTest(data=data.hex()):
                pair = Pair(client_config(), server_config()).handshake()
                pair.server.receive(data)
                self.assert_alert(pair.server, alert)

    def test_handshake_timeout(self) -> None:
        pair = Pair(client_config(), server_config())
        pair.server.receive(self.hello(pair).encode())
        pair.server.take_events()
        pair.server.handshake_timed_out()
        self.assert_alert(pair.server, "handshake_timeout")

    def test_received_alerts_are_not_answered(self) -> None:
        for alert in (b"\x02\x28\x00\x01\x02", b"\x02\xc8\x00\x01\x07", b"\x02\x00\x00\x01\x01"):
            with self.subTest(alert=alert.hex()):
                pair = Pair(client_config(), server_config())
                pair.server.receive(self.hello(pair).encode())
                pair.server.take_output()
                pair.server.receive(alert)
                self.assert_silent_failure(pair.server)

    def test_frames_after_failed_validation_are_ignored(self) -> None:
        pair = Pair(client_config(), server_config())
        pair.server.receive(self.hello(pair).encode())
        pair.server.take_output()
        pair.server.receive(Frame(1, 7, b"\x01").encode() + Frame(1, 9, b"junk").encode() + Frame(9, 9, b"").encode())
        self.assertEqual(pair.server.take_output(), b"")  # ignored, unanswered (BT-HS-11)
        pair.server.handshake_timed_out()
        # BT-HS-11, BT-TIME-1: the timeout alert is the one frame still sent.
        self.assertEqual(pair.server.status, FAILED)
        self.assertEqual(sent_alerts(pair.server), ["handshake_timeout"])


class ClientAlerts(AlertCase):
    """The client's answers; the server side is a real server whose frames are altered."""

    def server_frames(self, pair: Pair) -> List[Frame]:
        pair.client.start()
        pair.server.receive(pair.client.take_output())
        pair.client.take_events()
        return frames(pair.server.take_output())

    def test_server_hello_checks(self) -> None:
        cases = [
            (dict(version=0x0101), {}, "protocol_version"),
            (dict(key_algorithm=P256), {}, "illegal_parameter"),
            (dict(session_id=b"\xcd" * 32), {}, "illegal_parameter"),
            (dict(key_share=bytes(32)), {}, "illegal_parameter"),
            ({}, {"expect_server": b"other.example"}, "failed_handshake"),
        ]
        for changes, client_options, alert in cases:
            with self.subTest(changes=changes):
                pair = Pair(client_config(**client_options), server_config())
                hello = self.server_frames(pair)[0]
                pair.client.receive(altered(hello, ServerHello, **changes))
                self.assert_alert(pair.client, alert)

    def test_unexpected_identity_is_a_validation_failure(self) -> None:
        pair = Pair(client_config(expect_server=b"other.example"), server_config())
        pair.client.receive(self.server_frames(pair)[0].encode())
        reasons = [e["reason"] for e in pair.client.take_events() if e["event"] == "validation_failed"]
        self.assertEqual(reasons, ["UNEXPECTED_IDENTITY"])

    def run_to(self, pair: Pair, code: int) -> Frame:
        """Run until the server is about to deliver a frame of ``code``; return it undelivered."""
        pair.client.start()
        for _ in range(10):
            pair.server.receive(pair.client.take_output())
            out = frames(pair.server.take_output())
            for index, frame in enumerate(out):
                if frame.subcode == code and frame.content_type == 1:
                    pair.client.receive(b"".join(f.encode() for f in out[:index]))
                    pair.client.take_events()
                    return frame
            pair.client.receive(b"".join(f.encode() for f in out))
        raise AssertionError(f"no frame {code}")

    def test_session_details_checks(self) -> None:
        cases = [
            (dict(cipher_suite=CipherSuite.CHACHA20_POLY1305), "illegal_parameter"),
            (dict(session_id=bytes(32)), "decrypt_error"),
            (dict(signature=b"\x02" * 64), "decrypt_error"),
        ]
        for changes, alert in cases:
            with self.subTest(changes=changes):
                pair = Pair(client_config(cipher_suites=[CipherSuite.AES_256_GCM]), server_config())
                details = self.run_to(pair, 8)
                pair.client.receive(altered(details, SessionDetails, **changes))
                self.assert_alert(pair.client, alert)

    def test_a_bad_server_ready_mac(self) -> None:
        pair = Pair(client_config(), server_config())
        ready = self.run_to(pair, 10)
        pair.client.receive(altered(ready, ServerReady, verify_data=bytes(32)))
        self.assert_alert(pair.client, "decrypt_error")

    def test_a_resumed_server_hello_naming_another_key(self) -> None:
        client, server = client_config(expect_server=b"server.example"), server_config()
        Pair(client, server).handshake()
        pair = Pair(client, server)
        hello = self.run_to(pair, 2)
        pair.client.receive(altered(hello, ServerHello, key_handle=b"other"))
        self.assert_alert(pair.client, "illegal_parameter")

    def test_cannot_send_key_without_an_untried_algorithm(self) -> None:
        pair = Pair(client_config(keys=["client-ed25519"], known=[]), server_config(send_key=False))
        pair.handshake()
        self.assertEqual(
            [e["description"] for e in events(pair.client_events, "alert_sent")], ["failed_handshake"]
        )

    def test_a_second_send_key_for_one_hello(self) -> None:
        pair = Pair(client_config(), server_config())
        pair.client.start()
        pair.client.take_output()
        pair.client.receive(Frame(1, 3, b"").encode() + Frame(1, 6, b"").encode())
        pair.client.take_output()
        pair.client.take_events()
        pair.client.receive(Frame(1, 3, b"").encode())
        self.assert_alert(pair.client, "unexpected_message")

    def test_a_key_published_in_sending_key_is_validated(self) -> None:
        # trusted on first use, so that the key itself is examined (trust comes first, BT-KEY-4)
        pair = Pair(client_config(known=[], accept_unsigned=True), server_config())
        pair.client.start()
        pair.server.receive(pair.client.take_output())
        pair.client.receive(pair.server.take_output())  # SEND_KEY from the client
        pair.server.receive(pair.client.take_output())
        sending_key = [f for f in frames(pair.server.take_output()) if f.subcode == 4][0]
        pair.client.take_events()
        pair.client.receive(altered(sending_key, PublishedKey, public_key=b"\x01\x02\x03\x04\x05"))
        self.assertEqual(
            [e["reason"] for e in pair.client.take_events() if e["event"] == "validation_failed"],
            ["MALFORMED_KEY"],
        )


if __name__ == "__main__":
    unittest.main()
