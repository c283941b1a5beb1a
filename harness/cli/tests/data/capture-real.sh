#!/usr/bin/env bash
# Regenerates the real captures in this folder: dumpcap (installed with tshark by
# scripts/install-tshark.sh; needs the right to capture, e.g. root) records loopback traffic
# while the harness runs one case against the reference adapter with its real ports.
#
#   harness/cli/tests/data/capture-real.sh            # writes real-lo.pcapng and real-any.pcap
#
# real-lo.pcapng: `-i lo` (Ethernet link type), pcapng, case client/handshake/resumption
#   (two connections: a full handshake, then a resumed one).
# real-any.pcap:  `-i any` (Linux cooked capture), classic pcap, case server/handshake/known-keys.
# The test `real_captures_hold_the_bytes_of_a_fresh_run` (harness/cli/tests/captures.rs) checks
# that each holds exactly the bytes the same case sends today with the same seed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cd "$root"
cargo build --quiet -p btls-harness --bins
bin=${CARGO_TARGET_DIR:-target}/debug
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

capture() { # interface -n|-P file case
    local log="$work/dumpcap.log"
    dumpcap -i "$1" "$2" -f "tcp" -w "$work/raw" >"$log" 2>&1 &
    local pid=$!
    # dumpcap says "Capturing on ..." once it captures.
    for _ in $(seq 100); do
        grep -q "Capturing on" "$log" && break
        kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    sleep 1 # dumpcap announces itself slightly before its filter is attached
    "$bin/btls-harness" run --iut "$bin/btls-iut" --filter "$4" --real-ports \
        --report-dir "$work/report" --jobs 1 >/dev/null
    sleep 1 # let dumpcap drain the kernel's buffer before it stops
    kill -INT "$pid"
    wait "$pid" || true
    mv "$work/raw" "$here/$3"
    echo "wrote $here/$3" >&2
}
capture lo -n real-lo.pcapng client/handshake/resumption
capture any -P real-any.pcap server/handshake/known-keys
