"""The IUT adapter of harness/IUT-ADAPTER.md, contract version 1: flags in, JSON lines out.

Exit status: 0 when every connection completed its handshake and closed cleanly, 1 when one
failed, 2 when the adapter cannot start (bad flags, unreadable key file). Every option of the
contract is supported (revision 1.1: ``data_sent`` and ``data_received`` carry SHA-256;
revision 1.2: ``--registry-scope``, ``--record-limit``; revision 1.3: ``--session-lifetime-s``,
``--clock``), so status 89 is never needed.

Without ``--expect-server`` a client accepts any server registration: the contract asks for no
identity check, so the adapter says so explicitly (``accept_any_server``), since the
implementation's default is to check (BT-KEY-16).

One extension: a password-protected ``--key`` file is opened with the password in the
environment variable ``BTLS_KEY_PASSWORD`` (the contract has no password flag).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .caches import KeyCache, SessionStore
from .client import ClientConnection
from .connection import Config, Connection
from .driver import AppBehaviour, run_connection
from .keyfiles import KeyFileError, RegistryDir, load_private_key, load_published_key
from .record import RECORD_LIMIT
from .registry import CipherSuite, KeyAlgorithm, parse_name
from .rng import OsRandom, SeededRandom
from .server import ServerConnection
from .validation import ALL_ALGORITHMS, PeerKeys, ValidationPolicy, scoped
from .vectors import judge_file

CONTRACT = 1
NAME = "btls-py"
PASSWORD_ENV = "BTLS_KEY_PASSWORD"


class StartupError(Exception):
    """The adapter cannot start: exit status 2."""


def emit(event: Dict[str, Any]) -> None:
    """One JSON object per line, flushed at once."""
    sys.stdout.write(json.dumps(event, sort_keys=True) + "\n")
    sys.stdout.flush()


def _address(text: str) -> Tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _record_limit(text: str) -> int:
    value = int(text)
    if not 1 <= value <= RECORD_LIMIT:
        raise argparse.ArgumentTypeError(f"must be in 1..={RECORD_LIMIT} (BT-REC-8)")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return value


def _clock_from(start: float) -> Callable[[], float]:
    """A wall clock that reads ``start`` (Unix seconds) now and runs on in real time."""
    origin = time.monotonic()
    return lambda: start + (time.monotonic() - origin)


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not hex: {text!r}") from None


def _registry_name(registry: Any) -> Any:
    def parse(text: str) -> Any:
        try:
            return parse_name(registry, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def parser() -> argparse.ArgumentParser:
    """The flags of the contract."""
    p = argparse.ArgumentParser(prog="btls-iut-py", description=__doc__.splitlines()[0])
    p.add_argument("--vectors", type=Path, help="vector mode: judge one vector file")
    p.add_argument("--role", choices=["client", "server"])
    p.add_argument("--connect", type=_address, metavar="HOST:PORT")
    p.add_argument("--key", type=Path, action="append", default=[])
    p.add_argument("--known", type=Path, action="append", default=[])
    p.add_argument("--registry-dir", type=Path)
    p.add_argument("--trusted-registry", type=Path, action="append", default=[])
    p.add_argument("--registry-scope", action="append", default=[], metavar="SUFFIX")
    p.add_argument("--accept-unsigned", action="store_true")
    p.add_argument("--allow-algorithm", type=_registry_name(KeyAlgorithm), action="append", default=[])
    p.add_argument("--cipher-suite", type=_registry_name(CipherSuite), action="append", default=[])
    p.add_argument("--no-send-key", action="store_true")
    p.add_argument("--no-resumption", action="store_true")
    p.add_argument("--expect-server", metavar="REG")
    p.add_argument("--connections", type=_positive, default=1)
    p.add_argument("--send", type=_hex, default=b"")
    p.add_argument("--echo", action="store_true")
    p.add_argument("--close", action="store_true")
    p.add_argument("--send-bytes", type=int, default=0, metavar="N")
    p.add_argument("--sink", action="store_true")
    p.add_argument("--handshake-timeout-ms", type=_positive, default=10000)
    p.add_argument("--record-limit", type=_record_limit, default=RECORD_LIMIT, metavar="N")
    p.add_argument("--session-lifetime-s", type=_positive, metavar="N")
    p.add_argument("--clock", type=_non_negative, metavar="UNIX_S")
    p.add_argument("--seed", type=int)
    return p


def build_config(args: argparse.Namespace) -> Config:
    """Load the key files and assemble the party's configuration; ``StartupError`` if unusable."""
    if not args.key:
        raise StartupError("--key is required")
    try:
        keys = [load_private_key(path, os.environ.get(PASSWORD_ENV)) for path in args.key]
        known = [load_published_key(path) for path in args.known]
        registries = [load_published_key(path) for path in args.trusted_registry]
    except KeyFileError as exc:
        raise StartupError(str(exc)) from exc
    for registry in registries:
        if registry.key_algorithm != KeyAlgorithm.ED25519_X25519:
            raise StartupError(f"trusted registry {registry.reg_handle!r}: not an ED25519_X25519 key")
    policy = ValidationPolicy(
        known={key.handles: key for key in known},
        trusted_registry_keys=scoped(
            [registry.public_key for registry in registries],
            [suffix.encode("utf-8") for suffix in args.registry_scope],
        ),
        accept_unsigned=args.accept_unsigned,
        allowed_algorithms=frozenset(args.allow_algorithm) or ALL_ALGORITHMS,
    )
    registry_dir = RegistryDir(args.registry_dir) if args.registry_dir else None
    return Config(
        keys=keys,
        peer_keys=PeerKeys(policy, KeyCache(), registry_dir),
        sessions=SessionStore(args.session_lifetime_s) if args.session_lifetime_s else SessionStore(),
        rng=SeededRandom(args.seed) if args.seed is not None else OsRandom(),
        cipher_suites=list(dict.fromkeys(args.cipher_suite)) or list(CipherSuite),
        send_key=not args.no_send_key,
        resumption=not args.no_resumption,
        expect_server=args.expect_server.encode("utf-8") if args.expect_server else None,
        accept_any_server=not args.expect_server,
        record_limit=args.record_limit,
        **({"clock": _clock_from(args.clock)} if args.clock is not None else {}),
    )


def run(args: argparse.Namespace, config: Config) -> int:
    """All connections one after another, sharing the key cache and sessions."""
    app = AppBehaviour(
        send=args.send, echo=args.echo, close=args.close, send_bytes=args.send_bytes, sink=args.sink
    )
    role = ClientConnection if args.role == "client" else ServerConnection
    all_clean = True
    for index in range(args.connections):
        connection: Connection = role(config)

        def emit_for(event: Dict[str, Any], index: int = index) -> None:
            emit({**event, "conn": index})

        clean = run_connection(
            connection, args.connect, args.handshake_timeout_ms / 1000, app, emit_for
        )
        all_clean = all_clean and clean
    return 0 if all_clean else 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The adapter's entry point; returns the exit status."""
    emit({"event": "adapter", "contract": CONTRACT, "name": NAME})
    args = parser().parse_args(argv)  # exits with status 2 on bad flags
    if args.vectors is not None:
        try:
            for answer in judge_file(args.vectors):
                emit(answer)
        except (OSError, ValueError, KeyError) as exc:
            print(f"btls-iut-py: {args.vectors}: {exc}", file=sys.stderr)
            return 2
        return 0
    missing: List[str] = [flag for flag, value in (("--role", args.role), ("--connect", args.connect)) if not value]
    try:
        if missing:
            raise StartupError(f"{' and '.join(missing)} required")
        config = build_config(args)
    except StartupError as exc:
        print(f"btls-iut-py: {exc}", file=sys.stderr)
        return 2
    return run(args, config)
