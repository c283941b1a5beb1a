#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/) from the test vectors.

    python3 scripts/fuzz-corpus.py

codec: a handshake code byte then a body, for every message vector (vectors/frames.json).
frames: a piece-size byte then the frames a client or server received in each handshake vector
(vectors/handshakes.json). server and client: the frames of each handshake vector, re-encoded as
the targets read them (content type, subcode, a one-byte length, the body).
"""
import hashlib
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
corpus = root / "fuzz" / "corpus"


def put(target, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)


frames = json.loads((root / "vectors" / "frames.json").read_text())
for group in frames["testGroups"]:
    for t in group["tests"]:
        if isinstance(t.get("code"), int) and isinstance(t.get("body"), str):
            put("codec", bytes([t["code"]]) + bytes.fromhex(t["body"]))

handshakes = json.loads((root / "vectors" / "handshakes.json").read_text())
for group in handshakes["testGroups"]:
    for t in group["tests"]:
        sent = [bytes.fromhex(f["frame"]) for f in t.get("frames", []) if "frame" in f]
        if not sent:
            continue
        for piece in (1, 7, 255):
            put("frames", bytes([piece]) + b"".join(sent))
        short = b""
        for f in sent:
            body = f[4:]
            if len(body) < 256:
                short += bytes([f[0], f[1], len(body)]) + body
        put("server", short)
        put("client", short)
print(f"fuzz corpora in {corpus}: " + ", ".join(
    f"{d.name} {len(list(d.iterdir()))}" for d in sorted(corpus.iterdir())))
