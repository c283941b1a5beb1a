#!/usr/bin/env bash
# Self-check of harness/wireshark/btls.lua against the test vectors, with real tshark.
#
# Builds captures with text2pcap (TCP, listener port 4433 unless said otherwise) from
#   - every valid body of vectors/frames.json (one TCP stream per frame),
#   - every invalid body of vectors/frames.json (one stream, one frame per segment),
#   - every handshake of vectors/handshakes.json, followed by protected application data and
#     protected close_notify (or a plaintext fatal alert for the two broken handshakes),
#   - the same handshakes re-segmented: several frames per segment, frames split across
#     segments at 1, 7 and 50 bytes and at random sizes, a 16400-byte frame over 12 segments,
#   - the same handshakes on random ports (heuristic dissector btls_tcp),
#   - hand-made malformed frames (unknown content type, APPLICATION subcode, oversize length,
#     alert body lengths, unknown alert, wrong alert level, application data before READY, ...),
# then runs tshark with the dissector and checks: every frame is listed once, in order, with
# the right content type, subcode, length and name (btls.summary and the Info column); valid
# frames carry no problem and no expert info; every invalid frame is flagged with the alert the
# vectors name; no Lua error or malformed-packet exception anywhere; two-pass (-2) output equals
# one-pass output; with TCP reassembly off, every frame start is still found; the port
# preference and --disable-heuristic btls_tcp behave.
#
# Usage: harness/wireshark/check-dissector.sh [--keep]   (--keep leaves the captures in a
# temporary folder and prints its path). Exit status 0 when every check passes.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lua="$root/harness/wireshark/btls.lua"
keep=0
for a in "$@"; do
    case "$a" in
    --keep) keep=1 ;;
    -h | --help)
        sed -n '2,22p' "$0"
        exit 0
        ;;
    *)
        echo "check-dissector: unknown argument $a" >&2
        exit 2
        ;;
    esac
done

for tool in tshark text2pcap mergecap python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-dissector: $tool is not installed (run scripts/install-tshark.sh)" >&2
        exit 2
    fi
done
[ -f "$lua" ] || {
    echo "check-dissector: $lua not found" >&2
    exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/btls-dissector.XXXXXX")
if [ "$keep" -eq 1 ]; then
    echo "check-dissector: captures kept in $work"
else
    trap 'rm -rf "$work"' EXIT
fi

echo "check-dissector: $(tshark --version 2>/dev/null | head -n 1)"

python3 - "$root" "$lua" "$work" <<'PY'
import json
import os
import random
import subprocess
import sys

root, lua, work = sys.argv[1:4]
failures = []
checks = 0


def fail(msg):
    failures.append(msg)


# ---------------------------------------------------------------------------------------------
# Names of SPEC §2 and §9, written out independently of the dissector.
HANDSHAKE = {1: "CLIENT_HELLO", 2: "SERVER_HELLO", 3: "SEND_KEY", 4: "SENDING_KEY",
             5: "CANNOT_SEND_KEY", 6: "SUCCESSFUL_VALIDATION", 7: "FAILED_VALIDATION",
             8: "SESSION_DETAILS", 9: "CLIENT_READY", 10: "SERVER_READY"}
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
          22: "record_overflow", 40: "failed_handshake", 47: "illegal_parameter",
          50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 80: "internal_error",
          130: "handshake_timeout"}
REASONS = {1: "UNTRUSTED_KEY", 2: "EXPIRED_KEY", 3: "ALGORITHM_NOT_ALLOWED",
           4: "HANDLE_MISMATCH", 5: "BAD_REGISTRY_SIGNATURE", 6: "MALFORMED_KEY",
           7: "UNEXPECTED_IDENTITY", 8: "PIN_MISMATCH"}
HS_BY_NAME = {v: k for k, v in HANDSHAKE.items()}
rng = random.Random(1)


def frame(ct, sub, body=b"", length=None):
    n = len(body) if length is None else length
    return bytes([ct, sub]) + n.to_bytes(2, "big") + body


def parse_frames(data):
    """(ct, sub, length) of the frames in a byte string of whole frames."""
    out, i = [], 0
    while i < len(data):
        ct, sub, n = data[i], data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        out.append((ct, sub, n))
        i += 4 + (0 if n > 16400 else n)
    return out


def expected_name(ct, sub, body):
    """The start of btls.summary for a well-formed frame."""
    if ct == 1:
        return HANDSHAKE[sub]
    if ct == 3:
        return "Application data (protected, %d bytes)" % len(body)
    raise ValueError


# ---------------------------------------------------------------------------------------------
# Streams: a list of segments (direction 'c' client->server or 's' server->client, bytes) and
# the frames expected, in order. Each stream gets its own client port.

class Stream:
    def __init__(self, name, cport, sport=4433):
        self.name, self.cport, self.sport = name, cport, sport
        self.segments = []
        # expected frames in dissection order: dict(ct, sub, len, summary_prefix or None,
        # problem substring or None (None: no problem allowed))
        self.expect = []
        self.valid = True  # no problem and no expert info anywhere in the stream

    def text(self):
        out = []
        for d, data in self.segments:
            out.append("I" if d == "c" else "O")
            for off in range(0, len(data), 16):
                chunk = data[off:off + 16]
                out.append("%06x %s" % (off, " ".join("%02x" % b for b in chunk)))
            out.append("")
        return "\n".join(out) + "\n"


streams = []
next_port = [40000]


def new_stream(name, sport=4433, cport=None):
    if cport is None:
        cport = next_port[0]
        next_port[0] += 1
    s = Stream(name, cport, sport)
    streams.append(s)
    return s


def expect_frame(s, f, summary, problem=None):
    ct, sub, n = f[0], f[1], int.from_bytes(f[2:4], "big")
    s.expect.append(dict(ct=ct, sub=sub, len=n, summary=summary, problem=problem))


def load(name):
    with open(os.path.join(root, "vectors", name)) as fh:
        return json.load(fh)


frames_json = load("frames.json")
handshakes_json = load("handshakes.json")

# 1. valid frames of frames.json: one stream each (a READY switches its direction to
#    protected, so frames are not mixed)
n_valid = n_invalid = 0
invalid_stream = new_stream("frames.json invalid bodies")
for group in frames_json["testGroups"]:
    for t in group["tests"]:
        body = bytes.fromhex(t["body"])
        f = frame(1, t["code"], body)
        if t["result"] == "valid":
            n_valid += 1
            s = new_stream("frames.json tcId %d (%s)" % (t["tcId"], group["message"]))
            s.segments.append(("c", f))
            expect_frame(s, f, HANDSHAKE[t["code"]])
            if group["message"] != HANDSHAKE[t["code"]]:
                fail("frames.json tcId %d: group %s but code %d" % (t["tcId"], group["message"],
                                                                     t["code"]))
        else:
            n_invalid += 1
            alert = t["alert"]
            want = {"decode_error": "(decode_error",
                    "unexpected_message": "(unexpected_message, BT-FRAME-5)"}[alert]
            invalid_stream.segments.append(("c", f))
            name = HANDSHAKE.get(t["code"], "HANDSHAKE unknown(0x%02x)" % t["code"])
            expect_frame(invalid_stream, f, name, problem=want)
            invalid_stream.expect[-1]["tc"] = "frames.json tcId %d (%s)" % (t["tcId"],
                                                                              t["comment"])
invalid_stream.valid = False


# 2. handshakes.json: the frames, then protected traffic or a plaintext alert
def handshake_script(t):
    """[(dir, frame bytes, summary prefix)] for one handshakes.json test."""
    seq = []
    for fr in t["frames"]:
        b = bytes.fromhex(fr["frame"])
        seq.append(("c" if fr["from"] == "client" else "s", b, HANDSHAKE[b[1]]))
    flags = t["flags"]
    if "ModifiedSignature" in flags:
        # cut after the frame whose signature is broken; its receiver answers in plaintext
        broken = 8 if "SESSION_DETAILS" in t["comment"] else 9
        cut = next(i for i, (_, b, _) in enumerate(seq) if b[1] == broken)
        seq = seq[:cut + 1]
        answerer = "c" if seq[-1][0] == "s" else "s"
        seq.append((answerer, frame(2, 51, b"\x02"), "Alert: decrypt_error (fatal)"))
        return seq
    # both READY messages sent: both directions protected
    app_c = frame(3, 0, bytes(rng.randrange(256) for _ in range(37)))
    app_s = frame(3, 0, bytes(rng.randrange(256) for _ in range(21)))
    cn_c = frame(2, 0, bytes(rng.randrange(256) for _ in range(17)))
    cn_s = frame(2, 0, bytes(rng.randrange(256) for _ in range(17)))
    seq += [("c", app_c, "Application data (protected, 37 bytes)"),
            ("s", app_s, "Application data (protected, 21 bytes)"),
            ("c", cn_c, "Alert: close_notify (protected)"),
            ("s", cn_s, "Alert: close_notify (protected)")]
    return seq


def add_handshake_stream(name, seq, segmenter, sport=4433, cport=None):
    s = new_stream(name, sport=sport, cport=cport)
    for d, b, summary in seq:
        expect_frame(s, b, summary)
    s.segments = segmenter(seq)
    return s


def seg_per_frame(seq):
    return [(d, b) for d, b, _ in seq]


def seg_coalesced(seq):
    """Consecutive frames of one sender in one segment."""
    out = []
    for d, b, _ in seq:
        if out and out[-1][0] == d:
            out[-1] = (d, out[-1][1] + b)
        else:
            out.append((d, b))
    return out


def seg_split(size_fn):
    """Each sender's run of consecutive frames cut into pieces of size_fn() bytes."""
    def segmenter(seq):
        out = []
        for d, data in seg_coalesced(seq):
            i = 0
            while i < len(data):
                n = max(1, size_fn())
                out.append((d, data[i:i + n]))
                i += n
        return out
    return segmenter


hs_tests = handshakes_json["testGroups"][0]["tests"]
for t in hs_tests:
    seq = handshake_script(t)
    base = "handshakes.json tcId %d (%s)" % (t["tcId"], t["comment"])
    add_handshake_stream(base + ", one frame per segment", seq, seg_per_frame)
    add_handshake_stream(base + ", frames coalesced", seq, seg_coalesced)
    add_handshake_stream(base + ", 7-byte segments", seq, seg_split(lambda: 7))
    add_handshake_stream(base + ", 50-byte segments", seq, seg_split(lambda: 50))
    add_handshake_stream(base + ", random segments", seq,
                         seg_split(lambda: rng.choice([1, 2, 3, 4, 5, 13, 64, 97, 300])))
    # heuristic: no port 4433 on either side
    add_handshake_stream(base + ", port 51000+ (heuristic), coalesced", seq, seg_coalesced,
                         sport=51000 + t["tcId"])
    add_handshake_stream(base + ", port 52000+ (heuristic), 7-byte segments", seq,
                         seg_split(lambda: 7), sport=52000 + t["tcId"])
# one handshake byte by byte
add_handshake_stream("handshakes.json tcId 1, 1-byte segments", handshake_script(hs_tests[0]),
                     seg_split(lambda: 1))
add_handshake_stream("handshakes.json tcId 3, 1-byte segments, port 53000 (heuristic)",
                     handshake_script(hs_tests[2]), seg_split(lambda: 1), sport=53000)

# 3. a maximum-size APPLICATION frame (16400 bytes) over 12 segments, followed in its last
#    segment by a protected close_notify
big = frame(3, 0, bytes(rng.randrange(256) for _ in range(16400)))
s = new_stream("16400-byte APPLICATION frame over 12 segments")
hs1 = handshake_script(hs_tests[0])[:6]  # the handshake up to SERVER_READY
for d, b, summary in hs1:
    s.segments.append((d, b))
    expect_frame(s, b, summary)
close = frame(2, 0, bytes(17))
data = big + close
pieces = [data[i:i + 1400] for i in range(0, len(data), 1400)]
for p in pieces:
    s.segments.append(("c", p))
expect_frame(s, big, "Application data (protected, 16400 bytes)")
expect_frame(s, close, "Alert: close_notify (protected)")
if len(pieces) != 12:
    fail("internal: the big frame takes %d segments, not 12" % len(pieces))

# 4. well-formed frames not in the vectors: CANNOT_SEND_KEY, every FAILED_VALIDATION reason
#    (unknown ones are legal, BT-MSG-1), every alert with its level, in plaintext
s = new_stream("well-formed extras")
extras = [(frame(1, 5), "CANNOT_SEND_KEY")]
for r in list(REASONS) + [9, 255]:
    extras.append((frame(1, 7, bytes([r])),
                   "FAILED_VALIDATION (%s)" % REASONS.get(r, "unknown(0x%02x)" % r)))
for a, name in ALERTS.items():
    level = 1 if a == 0 else 2
    extras.append((frame(2, a, bytes([level])),
                   "Alert: %s (%s)" % (name, "warning" if level == 1 else "fatal")))
for b, summary in extras:
    s.segments.append(("s", b))
    expect_frame(s, b, summary)

# 5. malformed or illegal frames, each flagged with the problem named (substring)
bad_cases = [
    # (frames, [(summary prefix, problem substring)])
    ("unknown content type", [frame(7, 0, b"\xab\xcd")],
     [("Unknown content type 0x07", "(unexpected_message, BT-FRAME-3)")]),
    ("content type 0", [frame(0, 0)],
     [("Unknown content type 0x00", "(unexpected_message, BT-FRAME-3)")]),
    ("unknown handshake code 0x0b with body", [frame(1, 11, b"\x00\x01")],
     [("HANDSHAKE unknown(0x0b)", "(unexpected_message, BT-FRAME-5)")]),
    ("APPLICATION subcode 1", [frame(1, 10, bytes(32)), frame(3, 1, bytes(17))],
     [("SERVER_READY", None), ("Application data (protected, 17 bytes)", "(decode_error, BT-FRAME-6)")]),
    ("alert with a 2-byte body", [frame(2, 40, b"\x02\x02")],
     [("Alert: failed_handshake", "(decode_error, BT-ALERT-5)")]),
    ("alert with an empty body", [frame(2, 50)],
     [("Alert: decode_error", "(decode_error, BT-ALERT-5)")]),
    ("unknown alert description", [frame(2, 99, b"\x02")],
     [("Alert: unknown(99) (fatal)", "unknown alert description 99")]),
    ("close_notify with level fatal", [frame(2, 0, b"\x02")],
     [("Alert: close_notify (fatal)", "(BT-ALERT-1)")]),
    ("unknown alert level", [frame(2, 40, b"\x07")],
     [("Alert: failed_handshake (unknown level 7)", "unknown alert level 7")]),
    ("application data before READY", [frame(3, 0, bytes(20))],
     [("Application data (protected, 20 bytes)", "before the sender's READY")]),
    ("protected frame shorter than the tag",
     [frame(1, 10, bytes(32)), frame(3, 0, bytes(5))],
     [("SERVER_READY", None), ("Application data (protected, 5 bytes)", "(bad_record_mac, BT-REC-4)")]),
    ("protected alert with 2 plaintext bytes",
     [frame(1, 10, bytes(32)), frame(2, 0, bytes(18))],
     [("SERVER_READY", None), ("Alert: close_notify (protected)", "(decode_error, BT-ALERT-5)")]),
    ("HANDSHAKE after READY",
     [frame(1, 10, bytes(32)), frame(1, 6)],
     [("SERVER_READY", None), ("SUCCESSFUL_VALIDATION", "(unexpected_message, BT-HS-26)")]),
    ("version 0x0200", [bytes.fromhex(hs_tests[0]["frames"][0]["frame"][:8] + "0200" +
                                       hs_tests[0]["frames"][0]["frame"][12:])],
     [("CLIENT_HELLO", "(protocol_version, BT-HS-3)")]),
    ("oversize length 16401, header alone", [frame(1, 1, length=16401)],
     [("CLIENT_HELLO (length 16401 > 16400)", "(record_overflow, BT-FRAME-2)")]),
    ("oversize length 65535 after a valid frame in the same segment",
     [frame(1, 6) + frame(3, 0, length=65535)],
     [("SUCCESSFUL_VALIDATION", None),
      ("Application data (length 65535 > 16400)", "(record_overflow, BT-FRAME-2)")]),
]
for name, frames_, expects in bad_cases:
    s = new_stream("malformed: " + name)
    s.valid = False
    for b in frames_:
        s.segments.append(("c", b))
    allb = b"".join(frames_)
    for (ct, sub, n), (summary, problem) in zip(parse_frames(allb), expects):
        s.expect.append(dict(ct=ct, sub=sub, len=n, summary=summary, problem=problem))
    if len(parse_frames(allb)) != len(expects):
        fail("internal: case %s lists %d expectations for %d frames" % (
            name, len(expects), len(parse_frames(allb))))

# 6. robustness: mutated frames (bit flips, cut or extended bodies, changed length fields)
#    concatenated and cut at random, in 12 streams; only "no Lua error" is checked here
valid_frames = [frame(1, t["code"], bytes.fromhex(t["body"]))
                for g in frames_json["testGroups"] for t in g["tests"] if t["result"] == "valid"]
valid_frames += [b for t in hs_tests for _, b, _ in handshake_script(t)]
for k in range(12):
    fuzz = bytearray()
    for _ in range(40):
        f = bytearray(rng.choice(valid_frames))
        op = rng.randrange(6)
        if op == 0:
            i = rng.randrange(len(f))
            f[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            i = rng.randrange(4, len(f) + 1)
            f = f[:i]
            f[2:4] = (i - 4).to_bytes(2, "big")  # cut body, consistent length
        elif op == 2:
            extra = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            f += extra
            f[2:4] = (len(f) - 4).to_bytes(2, "big")  # trailing bytes, consistent length
        elif op == 3:
            n = int.from_bytes(f[2:4], "big") + rng.choice([-3, -1, 1, 2])
            f[2:4] = max(0, n).to_bytes(2, "big")  # framing off by a few bytes
        elif op == 4:
            f[1] = rng.randrange(256)  # any subcode
        fuzz += f
    fuzz_stream = new_stream("fuzz %d (no Lua error allowed)" % k)
    fuzz_stream.valid = False
    fuzz_stream.expect = None
    i = 0
    while i < len(fuzz):
        n = rng.choice([1, 3, 4, 5, 60, 200, 1400])
        fuzz_stream.segments.append(("c" if k % 2 else "s", bytes(fuzz[i:i + n])))
        i += n

# 7. port preference: a stream on port 5555 that the heuristic rejects (unknown content type)
pref_stream = new_stream("port 5555 (preference only)", sport=5555)
pref_stream.valid = False
pref_stream.segments.append(("c", frame(9, 0, b"\x01")))
pref_stream.expect.append(dict(ct=9, sub=0, len=1, summary="Unknown content type 0x09",
                               problem="(unexpected_message, BT-FRAME-3)"))

# ---------------------------------------------------------------------------------------------
# Build the captures

def build(streams_, path):
    parts = []
    for i, s in enumerate(streams_):
        txt = os.path.join(work, "s%d.txt" % s.cport)
        cap = os.path.join(work, "s%d.pcapng" % s.cport)
        with open(txt, "w") as fh:
            fh.write(s.text())
        r = subprocess.run(["text2pcap", "-q", "-D", "-T", "%d,%d" % (s.cport, s.sport),
                            txt, cap], capture_output=True, text=True)
        if r.returncode != 0:
            print("check-dissector: text2pcap failed for %s:\n%s" % (s.name, r.stderr))
            sys.exit(1)
        parts.append(cap)
    # concatenate (not merge by time): streams stay contiguous, in order
    r = subprocess.run(["mergecap", "-a", "-w", path] + parts, capture_output=True, text=True)
    if r.returncode != 0:
        print("check-dissector: mergecap failed:\n" + r.stderr)
        sys.exit(1)
    for p in parts:
        os.remove(p)
        os.remove(p[:-len(".pcapng")] + ".txt")


main_streams = [s for s in streams if s is not pref_stream]
main_cap = os.path.join(work, "all.pcapng")
pref_cap = os.path.join(work, "pref.pcapng")
build(main_streams, main_cap)
build([pref_stream], pref_cap)

FIELDS = ["frame.number", "tcp.srcport", "tcp.dstport", "btls.content_type", "btls.subcode",
          "btls.length", "btls.summary", "btls.problem", "_ws.expert.severity",
          "_ws.expert.message", "_ws.col.Info"]
AGG = "|"
# A Lua error, an exception (Malformed Packet from a bounds error) or the dissector's own
# safety net. (_ws.malformed alone also matches the dissector's MALFORMED expert infos.)
BUG_FILTER = ("_ws.lua.error || _ws.malformed.expert || _ws.malformed.dissector_bug || "
              "btls.expert.dissector_bug")


def tshark(cap, extra=(), fields=FIELDS, display="btls"):
    cmd = ["tshark", "-n", "-X", "lua_script:" + lua, "-r", cap]
    cmd += list(extra)
    if display:
        cmd += ["-Y", display]
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "aggregator=" + AGG,
            "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, capture_output=True, text=True)
    err = "\n".join(l for l in r.stderr.splitlines() if "could be dangerous" not in l)
    if r.returncode != 0 or err.strip():
        fail("tshark %s: exit %d, stderr:\n%s" % (" ".join(cmd), r.returncode, err))
    rows = []
    for line in r.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(fields) - len(cols))
        rows.append(dict(zip(fields, cols)))
    return rows


def split(v):
    return v.split(AGG) if v != "" else []


def stream_rows(rows, s):
    ports = {s.cport, s.sport}
    return [r for r in rows if {int(r["tcp.srcport"]), int(r["tcp.dstport"])} == ports]


def check_stream(rows, s, label, check_info=True):
    """Compares the dissected frames of stream s with its expectations."""
    global checks
    if s.expect is None:
        return
    mine = stream_rows(rows, s)
    got = []
    for r in mine:
        cts, subs, lens, sums = (split(r["btls.content_type"]), split(r["btls.subcode"]),
                                 split(r["btls.length"]), split(r["btls.summary"]))
        if not (len(cts) == len(subs) == len(lens) == len(sums)):
            fail("%s: %s: packet %s lists %d content types, %d subcodes, %d lengths, %d summaries"
                 % (label, s.name, r["frame.number"], len(cts), len(subs), len(lens), len(sums)))
            return
        for ct, sub, ln, sm in zip(cts, subs, lens, sums):
            got.append(dict(ct=int(ct), sub=int(sub), len=int(ln), summary=sm,
                            packet=r["frame.number"]))
        if check_info and r["_ws.col.Info"] != ", ".join(sums):
            fail("%s: %s: packet %s: Info column %r is not the frames' summaries %r"
                 % (label, s.name, r["frame.number"], r["_ws.col.Info"], ", ".join(sums)))
        if s.valid and (r["btls.problem"] or r["_ws.expert.severity"]):
            fail("%s: %s: packet %s: valid frames flagged: %s %s"
                 % (label, s.name, r["frame.number"], r["btls.problem"],
                    r["_ws.expert.message"]))
    if len(got) != len(s.expect):
        fail("%s: %s: %d frames dissected, %d expected:\n  got      %s\n  expected %s"
             % (label, s.name, len(got), len(s.expect),
                [(g["ct"], g["sub"], g["len"]) for g in got],
                [(e["ct"], e["sub"], e["len"]) for e in s.expect]))
        return
    for i, (g, e) in enumerate(zip(got, s.expect)):
        checks += 1
        where = "%s: %s: frame %d (packet %s)%s" % (label, s.name, i + 1, g["packet"],
                                                     " " + e["tc"] if "tc" in e else "")
        if (g["ct"], g["sub"], g["len"]) != (e["ct"], e["sub"], e["len"]):
            fail("%s: content type/subcode/length %s, expected %s"
                 % (where, (g["ct"], g["sub"], g["len"]), (e["ct"], e["sub"], e["len"])))
        if not g["summary"].startswith(e["summary"]):
            fail("%s: summary %r does not start with %r" % (where, g["summary"], e["summary"]))
        flagged = "[" in g["summary"]
        if e["problem"] is None and flagged:
            fail("%s: a valid frame is flagged: %r" % (where, g["summary"]))
        if e["problem"] is not None and e["problem"] not in g["summary"]:
            fail("%s: not flagged with %r: %r" % (where, e["problem"], g["summary"]))


# run 1: everything, default preferences
rows = tshark(main_cap)
for s in main_streams:
    check_stream(rows, s, "one-pass")

# every segment that completes a frame is listed; at least one lists several frames
multi = [r for r in rows if len(split(r["btls.content_type"])) > 1]
if not multi:
    fail("no packet lists several frames (coalesced streams should)")

# every invalid frame is flagged with an expert error
inv_rows = stream_rows(rows, invalid_stream)
for r in inv_rows:
    sev = split(r["_ws.expert.severity"])
    if not sev:
        fail("frames.json invalid frame in packet %s has no expert info" % r["frame.number"])

# run 2: no Lua error, exception or dissector bug anywhere
bad = tshark(main_cap, display=BUG_FILTER,
             fields=["frame.number", "_ws.expert.message"])
for r in bad:
    fail("packet %s: Lua error / malformed exception: %s" % (r["frame.number"],
                                                              r["_ws.expert.message"]))

# run 3: two passes give the same fields (state kept across re-dissection)
rows2 = tshark(main_cap, extra=["-2"])
key = lambda r: (r["frame.number"], r["btls.content_type"], r["btls.subcode"], r["btls.length"],
                 r["btls.summary"], r["btls.problem"])
if [key(r) for r in rows] != [key(r) for r in rows2]:
    diff = next(((a, b) for a, b in zip(map(key, rows), map(key, rows2)) if a != b), None)
    fail("two-pass output differs from one-pass output (%d vs %d rows); first difference %s"
         % (len(rows), len(rows2), diff))

# run 4: TCP reassembly off: every frame is still found where its header starts
rows_off = tshark(main_cap, extra=["-o", "tcp.desegment_tcp_streams:FALSE"],
                  fields=FIELDS)
for s in main_streams:
    if s.sport != 4433 and "1-byte" in s.name:
        # without reassembly the heuristic never sees two bytes of this stream at once
        continue
    if s.expect is None:
        continue
    mine = stream_rows(rows_off, s)
    cts = [int(c) for r in mine for c in split(r["btls.content_type"])]
    want = [e["ct"] for e in s.expect]
    if cts != want:
        fail("reassembly off: %s: content types %s, expected %s" % (s.name, cts, want))
    if s.valid:
        for r in mine:
            probs = [p for p in split(r["btls.problem"]) if "continues" not in p]
            if probs:
                fail("reassembly off: %s: packet %s flagged: %s" % (s.name, r["frame.number"],
                                                                    probs))
    checks += 1
bad = tshark(main_cap, extra=["-o", "tcp.desegment_tcp_streams:FALSE"],
             display=BUG_FILTER,
             fields=["frame.number", "_ws.expert.message"])
for r in bad:
    fail("reassembly off: packet %s: Lua error / exception: %s" % (r["frame.number"],
                                                                    r["_ws.expert.message"]))

# run 5: heuristic off: streams without port 4433 are not dissected, the others still are
rows_noheur = tshark(main_cap, extra=["--disable-heuristic", "btls_tcp"],
                     fields=["tcp.srcport", "tcp.dstport"])
ports = {int(r["tcp.dstport"]) for r in rows_noheur} | {int(r["tcp.srcport"]) for r in rows_noheur}
if any(p >= 51000 for p in ports):
    fail("--disable-heuristic btls_tcp: streams on other ports are still dissected")
if 4433 not in ports:
    fail("--disable-heuristic btls_tcp: port 4433 is no longer dissected")
checks += 1

# run 6: the port preference
rows_pref = tshark(pref_cap, extra=["-o", "btls.tcp_port:5555"])
check_stream(rows_pref, pref_stream, "port preference 5555")
if tshark(pref_cap):
    fail("port 5555 without the preference: the unknown content type frame was dissected")

# run 7: the detail view names the fields (a sample of labels)
r = subprocess.run(["tshark", "-n", "-X", "lua_script:" + lua, "-r", main_cap, "-V", "-O",
                    "btls", "-Y", "btls"], capture_output=True, text=True)
for label in ["Content type: HANDSHAKE (1)", "Handshake code: CLIENT_HELLO (1)",
              "Handshake code: SERVER_READY (10)", "Key algorithm: ED25519_X25519 (0x0001)",
              "Key algorithm: ECDSA_P256_ECDH_P256 (0x0002)", "Cipher suite: AES_256_GCM (0x0001)",
              "Cipher suite: CHACHA20_POLY1305 (0x0002)", "Registration handle: client.example",
              "Alert description: decrypt_error (51)", "Alert level: fatal (2)",
              "Encrypted payload:", "AEAD tag:", "Reason: PIN_MISMATCH (8)",
              "Reason: unknown (0x09)", "Not after (Unix seconds):", "Verify data:"]:
    checks += 1
    if label not in r.stdout:
        fail("-V output lacks %r" % label)
if "Lua Error" in r.stdout:
    fail("-V output shows a Lua Error")

print("check-dissector: %d streams, %d valid frames.json bodies, %d invalid bodies, "
      "%d handshakes.json tests, %d frame checks" % (len(streams), n_valid, n_invalid,
                                                      len(hs_tests), checks))
if failures:
    print("check-dissector: FAILED (%d problems):" % len(failures))
    for f in failures[:60]:
        print("  - " + f)
    if len(failures) > 60:
        print("  ... and %d more" % (len(failures) - 60))
    sys.exit(1)
print("check-dissector: all checks passed")
PY
