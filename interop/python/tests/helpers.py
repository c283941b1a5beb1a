"""Shared test fixtures: key files from ``tests/data``, configurations and an in-memory pair.

The key files were made with the reference's ``btls-keytool`` (see ``data/README.md``), so
loading them also checks the key file format against the reference's output.
"""

import dataclasses
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from btls_py.caches import KeyCache, SessionStore  # noqa: E402
from btls_py.client import ClientConnection  # noqa: E402
from btls_py.connection import Config, Connection  # noqa: E402
from btls_py.frame import Frame, FrameBuffer  # noqa: E402
from btls_py.keyfiles import OwnKey, RegistryDir, load_private_key, load_published_key  # noqa: E402
from btls_py.messages import PublishedKey  # noqa: E402
from btls_py.registry import CipherSuite, ContentType, HandshakeCode  # noqa: E402
from btls_py.rng import SeededRandom  # noqa: E402
from btls_py.server import ServerConnection  # noqa: E402
from btls_py.validation import ALL_ALGORITHMS, PeerKeys, ValidationPolicy, scoped  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
VECTORS = Path(__file__).resolve().parents[3] / "vectors"
PASSWORD = "correct-horse"
"""The password of ``data/protected.key.json``."""
NOW = 1_800_000_000
"""The clock of every test configuration (all fixture keys are valid then)."""


def own(name: str) -> OwnKey:
    """A private key fixture, e.g. ``client-ed25519``."""
    return load_private_key(DATA / f"{name}.key.json")


def own_signed(name: str) -> OwnKey:
    """A private key fixture whose published half carries the fixture registry's signature."""
    return OwnKey(published(f"{name}.signed"), own(name).signer)


def published(name: str) -> PublishedKey:
    """A published key fixture, e.g. ``server-p256`` or ``client-ed25519.signed``."""
    return load_published_key(DATA / f"{name}.pub.json")


def config(
    keys: Iterable[Union[str, OwnKey]],
    known: Iterable[str] = (),
    *,
    seed: int = 1,
    known_keys: Iterable[PublishedKey] = (),
    accept_unsigned: bool = False,
    trust_registry: bool = False,
    registry: bool = False,
    allowed: Iterable[int] = ALL_ALGORITHMS,
    pins: Optional[Dict[Tuple[bytes, bytes], bytes]] = None,
    registry_scope: Iterable[bytes] = (),
    registry_dir: Optional[Path] = None,
    **options: Any,
) -> Config:
    """A party's configuration; ``options`` are the remaining ``Config`` fields.

    Without ``expect_server`` a client accepts any server, explicitly (BT-KEY-16), as the
    adapter does; pass ``accept_any_server=False`` to test the refusal.
    """
    all_known = [published(name) for name in known] + list(known_keys)
    policy = ValidationPolicy(
        known={key.handles: key for key in all_known},
        trusted_registry_keys=scoped([published("registry").public_key], list(registry_scope))
        if trust_registry
        else [],
        accept_unsigned=accept_unsigned,
        allowed_algorithms=frozenset(allowed),
        pins=pins or {},
    )
    if registry_dir is None and registry:
        registry_dir = DATA / "registry"
    options.setdefault("accept_any_server", options.get("expect_server") is None)
    return Config(
        keys=[own(key) if isinstance(key, str) else key for key in keys],
        peer_keys=PeerKeys(policy, KeyCache(), RegistryDir(registry_dir) if registry_dir else None),
        sessions=SessionStore(),
        rng=SeededRandom(seed),
        clock=lambda: NOW,
        **options,
    )


def client_config(**overrides: Any) -> Config:
    """The default client: both keys, knows both server keys."""
    overrides.setdefault("keys", ["client-ed25519", "client-p256"])
    overrides.setdefault("known", ["server-ed25519", "server-p256"])
    return config(seed=overrides.pop("seed", 1), **overrides)


def server_config(**overrides: Any) -> Config:
    """The default server: both keys, knows both client keys."""
    overrides.setdefault("keys", ["server-ed25519", "server-p256"])
    overrides.setdefault("known", ["client-ed25519", "client-p256"])
    return config(seed=overrides.pop("seed", 2), **overrides)


class Pair:
    """A client and a server connected in memory, driven until neither has anything to send."""

    def __init__(self, client: Config, server: Config) -> None:
        self.client = ClientConnection(client)
        self.server = ServerConnection(server)
        self.client_events: List[Dict[str, Any]] = []
        self.server_events: List[Dict[str, Any]] = []

    def pump(self, rounds: int = 50) -> None:
        """Deliver each side's output to the other until both are quiet."""
        for _ in range(rounds):
            to_server, to_client = self.client.take_output(), self.server.take_output()
            if to_server:
                self.server.receive(to_server)
            if to_client:
                self.client.receive(to_client)
            self.client_events += self.client.take_events()
            self.server_events += self.server.take_events()
            if not to_server and not to_client:
                return
        raise AssertionError("the pair did not settle")

    def handshake(self) -> "Pair":
        """Start the client and run the handshake to its end."""
        self.client.start()
        self.pump()
        return self


def frames(data: bytes) -> List[Frame]:
    """The frames of a byte string (what one side sent)."""
    buffer = FrameBuffer()
    buffer.feed(data)
    out = []
    while True:
        frame = buffer.next_frame()
        if frame is None:
            return out
        out.append(frame)


def handshake_codes(data: bytes) -> List[str]:
    """The names of the HANDSHAKE frames in a byte string."""
    return [HandshakeCode(f.subcode).name for f in frames(data) if f.content_type == ContentType.HANDSHAKE]


def events(connection_events: List[Dict[str, Any]], name: str) -> List[Dict[str, Any]]:
    """The events of one kind."""
    return [e for e in connection_events if e["event"] == name]


def sent_alerts(connection: Connection) -> List[str]:
    """The descriptions of the alerts a connection has sent so far (its events are consumed)."""
    return [e["description"] for e in connection.take_events() if e["event"] == "alert_sent"]


def first_frame(connection: Connection) -> Frame:
    """The first frame a connection has queued (its output is consumed)."""
    return frames(connection.take_output())[0]


def altered(frame: Frame, message_type: type, **changes: Any) -> bytes:
    """A HANDSHAKE frame re-encoded with some fields of its message changed."""
    message = dataclasses.replace(message_type.decode(frame.body), **changes)
    return Frame(frame.content_type, frame.subcode, message.encode()).encode()


SUITES = list(CipherSuite)
