"""The adapter executable over real TCP: flags, exit statuses, events and vector mode."""

import hashlib
import json
import socket
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Any, Dict, List, Tuple

from helpers import DATA, VECTORS, frames, server_config

from btls_py.connection import Connection
from btls_py.frame import Frame
from btls_py.server import ServerConnection

ADAPTER = Path(__file__).resolve().parents[1] / "btls-iut-py"
TIMEOUT = 20


def run_adapter(*args: str) -> Tuple[int, List[Dict[str, Any]], str]:
    """Run the adapter to its end: exit status, events and standard error."""
    done = subprocess.run(
        [sys.executable, str(ADAPTER), *args], capture_output=True, text=True, timeout=TIMEOUT
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def serve(listener: socket.socket, connection: Connection) -> bytes:
    """Accept the adapter's connection and drive our side until it ends; returns what we read."""
    peer, _ = listener.accept()
    received = bytearray()
    with peer:
        peer.settimeout(TIMEOUT)
        connection.on_data = lambda data: connection.send_application(data)  # echo
        while not connection.finished:
            data = peer.recv(65536)
            received += data
            if data:
                connection.receive(data)
            else:
                connection.receive_eof()
            peer.sendall(connection.take_output())
        peer.shutdown(socket.SHUT_WR)
        while peer.recv(65536):
            pass
    return bytes(received)


class AdapterProcess(unittest.TestCase):
    def setUp(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"

    def tearDown(self) -> None:
        self.listener.close()

    def spawn(self, *args: str) -> "subprocess.Popen[str]":
        return subprocess.Popen(
            [sys.executable, str(ADAPTER), "--connect", self.address, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def finish(self, process: "subprocess.Popen[str]") -> Tuple[int, List[Dict[str, Any]]]:
        stdout, _ = process.communicate(timeout=TIMEOUT)
        return process.returncode, [json.loads(line) for line in stdout.splitlines()]

    def test_a_client_handshake_with_data_and_close(self) -> None:
        process = self.spawn(
            "--role", "client", "--key", str(DATA / "client-ed25519.key.json"),
            "--known", str(DATA / "server-ed25519.pub.json"), "--send", "68656c6c6f", "--close", "--seed", "3",
        )
        serve(self.listener, ServerConnection(server_config()))
        status, events = self.finish(process)
        self.assertEqual(status, 0)
        self.assertEqual(events[0], {"event": "adapter", "contract": 1, "name": "btls-py"})
        kinds = [e["event"] for e in events]
        self.assertIn("handshake_complete", kinds)
        self.assertEqual(events[-1], {"event": "closed", "conn": 0})
        data = [e["hex"] for e in events if e["event"] == "application_data"]
        self.assertEqual(data, ["68656c6c6f"])  # our echo, received before close_notify

    def test_bulk_data_is_sent_counted_and_hashed(self) -> None:
        """--send-bytes and --sink, with the data_sent / data_received events of revision 1.1."""
        size = 40000  # three frames: 16384 + 16384 + 7232
        process = self.spawn(
            "--role", "client", "--key", str(DATA / "client-ed25519.key.json"),
            "--known", str(DATA / "server-ed25519.pub.json"), "--send-bytes", str(size), "--sink",
            "--close", "--seed", "3",
        )
        serve(self.listener, ServerConnection(server_config()))  # echoes every byte
        status, events = self.finish(process)
        self.assertEqual(status, 0)
        digest = hashlib.sha256(b"\x5a" * size).hexdigest()
        self.assertIn({"event": "data_sent", "conn": 0, "bytes": size, "sha256": digest}, events)
        self.assertIn({"event": "data_received", "conn": 0, "bytes": size, "sha256": digest}, events)
        self.assertNotIn("application_data", [e["event"] for e in events])

    def test_a_server_that_times_out(self) -> None:
        process = self.spawn(
            "--role", "server", "--key", str(DATA / "server-ed25519.key.json"), "--handshake-timeout-ms", "200",
        )
        peer, _ = self.listener.accept()
        with peer:
            peer.settimeout(TIMEOUT)
            received = b""
            while True:
                data = peer.recv(100)
                if not data:
                    break
                received += data
        status, events = self.finish(process)
        self.assertEqual(status, 1)
        self.assertEqual(frames(received), [Frame(2, 130, b"\x02")])
        self.assertEqual([e["requirement"] for e in events if e["event"] == "error"], ["BT-TIME-1"])


class AdapterStartup(unittest.TestCase):
    def test_bad_flags_and_unreadable_keys_exit_2(self) -> None:
        self.assertEqual(run_adapter("--role", "client", "--bogus")[0], 2)
        self.assertEqual(run_adapter("--role", "client", "--connect", "127.0.0.1:9")[0], 2)
        status, _, stderr = run_adapter("--role", "client", "--connect", "127.0.0.1:9", "--key", "/missing")
        self.assertEqual(status, 2)
        self.assertIn("/missing", stderr)
        status, _, stderr = run_adapter(
            "--role", "client", "--connect", "127.0.0.1:9", "--key", str(DATA / "protected.key.json")
        )
        self.assertEqual(status, 2)
        self.assertIn("password", stderr)

    def test_lifetime_and_clock_flags_are_checked(self) -> None:
        base = ("--role", "server", "--connect", "127.0.0.1:9", "--key", str(DATA / "protected.key.json"))
        self.assertEqual(run_adapter(*base, "--session-lifetime-s", "0")[0], 2)
        self.assertEqual(run_adapter(*base, "--clock", "-1")[0], 2)
        self.assertEqual(run_adapter(*base, "--clock", "soon")[0], 2)

    def test_the_clock_starts_where_it_is_set_and_runs_on(self) -> None:
        from btls_py.adapter import _clock_from

        clock = _clock_from(4_099_999_999)
        first = clock()
        self.assertGreaterEqual(first, 4_099_999_999)
        self.assertLess(first, 4_100_000_000)
        self.assertGreaterEqual(clock(), first)

    def test_vector_mode_answers_every_test(self) -> None:
        status, events, _ = run_adapter("--vectors", str(VECTORS / "ready.json"))
        self.assertEqual(status, 0)
        self.assertEqual(events[0]["event"], "adapter")
        answers = events[1:]
        self.assertEqual(len(answers), 8)
        self.assertEqual(answers[1], {"event": "vector", "tcId": 2, "result": "invalid", "alert": "decrypt_error"})


if __name__ == "__main__":
    unittest.main()
