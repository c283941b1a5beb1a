"""The codec, the messages of SPEC §3 and the frame layer of SPEC §1."""

import json
import unittest

from helpers import VECTORS

from btls_py.codec import DecodeError, Reader, Writer
from btls_py.frame import MAX_FRAME_BODY, Frame, FrameBuffer, FrameTooLong, parse_frame
from btls_py.messages import (
    CannotSendKey,
    ClientHello,
    ClientReady,
    FailedValidation,
    PublishedKey,
    SendKey,
    ServerHello,
    ServerReady,
    SessionDetails,
    SuccessfulValidation,
    decode_message,
)
from btls_py.registry import VERSION, AlertDescription, HandshakeCode, KeyAlgorithm, display, hex_name

SAMPLES = [
    ClientHello(VERSION, bytes(range(32)), b"", 1, b"client.example", b"k1", b"\x09" * 32, [1, 2, 0x1234]),
    ClientHello(VERSION, bytes(32), b"\xaa" * 32, 2, b"r", b"k", b"\x04" + b"\x01" * 64, [2]),
    ServerHello(VERSION, b"\x01" * 32, b"", 1, b"server.example", b"k1", b"\x02" * 32),
    ServerHello(VERSION, b"\x01" * 32, b"\xbb" * 32, 2, b"s", b"k", b"\x04" + b"\x02" * 64),
    SendKey(),
    PublishedKey(b"reg", b"key", 1, b"\x05" * 32, 0, 2**64 - 1, b""),
    PublishedKey(b"reg", b"key", 2, b"\x04" * 65, 5, 5, b"\x07" * 64),
    CannotSendKey(),
    SuccessfulValidation(),
    FailedValidation(0xEE),
    SessionDetails(b"\x03" * 32, 2, b"\x08" * 64),
    ClientReady(b"\x09" * 64, b"\x0a" * 32),
    ClientReady(b"", b"\x0a" * 32),
    ServerReady(b"\x0b" * 32),
]


class MessageRoundTrips(unittest.TestCase):
    def test_every_message_decodes_to_itself(self) -> None:
        for message in SAMPLES:
            with self.subTest(message=message):
                self.assertEqual(decode_message(message.CODE, message.encode()), message)

    def test_every_truncation_and_trailing_byte_is_a_decode_error(self) -> None:
        for message in SAMPLES:
            body = message.encode()
            for cut in range(len(body)):
                with self.subTest(message=message, cut=cut), self.assertRaises(DecodeError):
                    decode_message(message.CODE, body[:cut])
            with self.subTest(message=message, trailing=True), self.assertRaises(DecodeError):
                decode_message(message.CODE, body + b"\x00")

    def test_the_reference_bodies_of_frames_json_round_trip(self) -> None:
        document = json.loads((VECTORS / "frames.json").read_text())
        valid = [t for g in document["testGroups"] for t in g["tests"] if t["result"] == "valid"]
        self.assertGreater(len(valid), 10)
        for test in valid:
            body = bytes.fromhex(test["body"])
            self.assertEqual(decode_message(HandshakeCode(test["code"]), body).encode(), body)


class FieldRules(unittest.TestCase):
    def hello(self, **changes: object) -> bytes:
        fields = dict(
            version=VERSION, random=bytes(32), session_id=b"", key_algorithm=1, reg_handle=b"r",
            key_handle=b"k", key_share=b"\x01" * 32, cipher_suites=[1],
        )
        fields.update(changes)
        return ClientHello(**fields).encode()  # type: ignore[arg-type]

    def test_a_session_id_of_five_bytes_is_a_decode_error(self) -> None:
        body = bytearray(self.hello(session_id=b"\x01" * 32))
        body[34] = 5  # the session_id length prefix
        del body[35 + 5 : 35 + 32]
        with self.assertRaisesRegex(DecodeError, "BT-MSG-2"):
            ClientHello.decode(bytes(body))

    def test_an_odd_suite_list_is_a_decode_error(self) -> None:
        body = bytearray(self.hello(cipher_suites=[1, 2]))
        body[-5] = 3  # the byte length of the suites
        with self.assertRaises(DecodeError):
            ClientHello.decode(bytes(body[:-1]))

    def test_an_empty_body_is_a_decode_error_where_fields_are_required(self) -> None:
        for code in HandshakeCode:
            empty = code in (HandshakeCode.SEND_KEY, HandshakeCode.CANNOT_SEND_KEY,
                             HandshakeCode.SUCCESSFUL_VALIDATION)
            with self.subTest(code=code.name):
                if empty:
                    decode_message(code, b"")
                else:
                    self.assertRaises(DecodeError, decode_message, code, b"")

    def test_reversed_validity_is_a_decode_error(self) -> None:
        body = PublishedKey(b"r", b"k", 1, b"\x01" * 32, 100, 100).encode()
        reversed_body = body.replace((100).to_bytes(8, "big") * 2, (100).to_bytes(8, "big") + (50).to_bytes(8, "big"))
        with self.assertRaisesRegex(DecodeError, "BT-MSG-8"):
            PublishedKey.decode(reversed_body)

    def test_published_key_tbs_is_the_encoding_without_the_signature(self) -> None:
        key = PublishedKey(b"r", b"k", 1, b"\x01" * 32, 1, 2, b"\x05" * 64)
        self.assertEqual(key.encode(), key.tbs() + (64).to_bytes(2, "big") + b"\x05" * 64)

    def test_writer_refuses_out_of_range_strings(self) -> None:
        self.assertRaises(ValueError, Writer().opaque, b"", 1, 255)
        self.assertRaises(ValueError, Writer().opaque, b"x" * 256, 1, 255)

    def test_reader_names_the_short_field(self) -> None:
        with self.assertRaisesRegex(DecodeError, "reg_handle is truncated"):
            Reader(b"\x05ab", "X").opaque(1, 255, "reg_handle")


class Frames(unittest.TestCase):
    def test_frames_split_across_reads_and_joined_in_one_read(self) -> None:
        a, b = Frame(1, 3, b""), Frame(3, 0, b"\x01" * 40)
        wire = a.encode() + b.encode()
        buffer = FrameBuffer()
        got = []
        for byte in wire:
            buffer.feed(bytes([byte]))
            frame = buffer.next_frame()
            if frame is not None:
                got.append(frame)
        self.assertEqual(got, [a, b])
        buffer.feed(wire)
        self.assertEqual([buffer.next_frame(), buffer.next_frame(), buffer.next_frame()], [a, b, None])

    def test_an_oversized_header_is_refused_before_its_body(self) -> None:
        buffer = FrameBuffer()
        buffer.feed(bytes([1, 1]) + (MAX_FRAME_BODY + 1).to_bytes(2, "big"))
        self.assertRaises(FrameTooLong, buffer.next_frame)

    def test_the_largest_frame_is_accepted(self) -> None:
        frame = Frame(3, 0, bytes(MAX_FRAME_BODY))
        self.assertEqual(parse_frame(frame.encode()), frame)
        self.assertRaises(ValueError, Frame(3, 0, bytes(MAX_FRAME_BODY + 1)).encode)


class Registries(unittest.TestCase):
    def test_unknown_values_display_as_numbers_and_hex(self) -> None:
        self.assertEqual(display(KeyAlgorithm, 1), "ED25519_X25519")
        self.assertEqual(display(KeyAlgorithm, 0x99), 0x99)
        self.assertEqual(display(AlertDescription, 0), "close_notify")
        self.assertEqual(hex_name(AlertDescription, 200), "unknown(0xc8)")


if __name__ == "__main__":
    unittest.main()
