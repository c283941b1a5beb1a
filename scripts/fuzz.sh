#!/usr/bin/env bash
# Coverage-guided fuzzing of the reference implementation (cargo-fuzz and libFuzzer, nightly):
# the message codec, the frame reader of both roles, and the server and client state machines
# past their first messages (fuzz/fuzz_targets/). Seed corpora come from the test vectors
# (scripts/fuzz-corpus.py). Installs cargo-fuzz (crates.io) when it is missing.
#
#   bash scripts/fuzz.sh              # every target, 60 s each
#   bash scripts/fuzz.sh frames 600   # one target, 600 s
#
# A crash is saved under fuzz/artifacts/<target>/ and the script fails; reproduce it with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>` in fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(codec frames server client)
seconds=60
if [ $# -ge 1 ]; then targets=("$1"); fi
if [ $# -ge 2 ]; then seconds="$2"; fi
rustup toolchain list | grep -q '^nightly' ||
    { echo "fuzz.sh: cargo-fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2; exit 1; }
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install --locked --quiet cargo-fuzz ||
        { echo "fuzz.sh: cargo install cargo-fuzz failed" >&2; exit 1; }
fi
python3 scripts/fuzz-corpus.py
cd fuzz
for t in "${targets[@]}"; do
    echo "== fuzz $t for ${seconds}s" >&2
    cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$seconds" -print_final_stats=1 2>&1 |
        grep -E "^(stat::|#[0-9]+ +DONE|==|SUMMARY|Done)" || true
    if ls "artifacts/$t"/crash-* >/dev/null 2>&1; then
        echo "fuzz.sh: $t crashed: see fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
