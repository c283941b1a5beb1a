#!/usr/bin/env bash
# Runs the bTLS conformance suite against an implementation's adapter and writes the reports.
#
#   ci/run-conformance.sh                       # the reference implementation
#   IUT=./my-adapter IUT_NAME=mine ci/run-conformance.sh
#   IUT=python3 IUT_ARGS="interop/python/adapter.py" ci/run-conformance.sh --filter server/
#   PARTITION=2/4 ci/run-conformance.sh         # shard 2 of 4 (one per CI runner)
#
# Environment: IUT (adapter program; default: the reference btls-iut), IUT_NAME, IUT_ARGS
# (arguments put before the contract's flags), EXPECTATIONS (known deviations, TOML),
# PARTITION (K/N), REPORT_DIR (default reports/latest), PROFILE (cargo profile; default dev).
# Extra arguments go to `btls-harness run` (see `btls-harness run --help`).
# Exit status: 0 when every case passes or is an expected failure, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-dev}
target_dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
cargo build --quiet --profile "$profile" -p btls-harness --bins
bin="target/$target_dir"

args=(run --iut "${IUT:-$bin/btls-iut}" --iut-name "${IUT_NAME:-reference}"
      --report-dir "${REPORT_DIR:-reports/latest}")
for a in ${IUT_ARGS:-}; do args+=(--iut-arg "$a"); done
[ -n "${EXPECTATIONS:-}" ] && args+=(--expectations "$EXPECTATIONS")
[ -n "${PARTITION:-}" ] && args+=(--partition "$PARTITION")
exec "$bin/btls-harness" "${args[@]}" "$@"
