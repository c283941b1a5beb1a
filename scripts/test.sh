#!/usr/bin/env bash
# The project's tests, on a fresh machine as on a developer's:
#   1. installs what they need when it is missing: tshark (scripts/install-tshark.sh), Graphviz's
#      dot (scripts/install-graphviz.sh) and Chromium (scripts/install-chromium.sh) for the learned
#      machines' pictures and the headless-browser check of their report, and Python's
#      `cryptography` for the second implementation (interop/python/install.sh);
#   2. `cargo test --workspace`: unit and property tests, every conformance case against the
#      reference, captures (read back by the harness and by tshark with the bTLS dissector),
#      vectors, benchmarks' smoke tests, the interop matrix's small set;
#   3. the Python implementation's own unit tests;
#   4. the Wireshark dissector's self-check against the test vectors.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh -- --nocapture  # arguments after the script go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== installing what the tests need" >&2
bash scripts/install-tshark.sh >&2
bash scripts/install-graphviz.sh >&2
bash scripts/install-chromium.sh >&2
bash scripts/install-packages.sh cc=gcc >&2
bash scripts/install-tls-stacks.sh openssl gnutls >&2
sh interop/python/install.sh

echo "== cargo test --workspace" >&2
cargo test --workspace "$@"

echo "== Python implementation: unit tests" >&2
python=python3
[ -x interop/python/.venv/bin/python3 ] && python="$PWD/interop/python/.venv/bin/python3"
(cd interop/python && "$python" -m unittest discover -s tests -q) ||
    { echo "test.sh: the Python implementation's unit tests failed" >&2; exit 1; }

echo "== Wireshark dissector: self-check" >&2
bash harness/wireshark/check-dissector.sh
