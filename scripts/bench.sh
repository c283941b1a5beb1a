#!/usr/bin/env bash
# One benchmark run, everything side by side on this machine, then the comparison report:
#   1. the machine and `openssl speed` (scripts/bench-machine.sh);
#   2. criterion: bTLS handshakes (in memory, loopback TCP), records, codec, beside the rustls
#      baseline and the crypto floor (`cargo bench -p btls`); capture write and read
#      (`cargo bench -p btls-profile --bench capture`);
#   3. callgrind instruction counts of the same work (scripts/bench-callgrind.sh);
#   4. `btls-harness bench` of the reference adapter (add your own IUTs with IUT_BENCH=…);
#   5. `btls-harness bench-report`: reports/bench/latest/, compared with reports/bench/baseline.json.
#
#   bash scripts/bench.sh                    # full run (~10 minutes on 2 cores, after the build)
#   bash scripts/bench.sh --quick            # shorter criterion measurements, for a smoke run
#   bash scripts/bench.sh --save-baseline    # and make this run the baseline
# Other arguments go to bench-report (for example --fail-on-regression, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
out="$target/bench"
mkdir -p "$out"
criterion_args=()
report_args=()
for a in "$@"; do
    case "$a" in
        --quick) criterion_args=(--warm-up-time 0.5 --measurement-time 1) ;;
        *) report_args+=("$a") ;;
    esac
done

echo "== machine and openssl speed" >&2
bash scripts/bench-machine.sh "$out/machine.json"

echo "== criterion (bTLS, rustls, crypto floor)" >&2
rm -rf "$target/criterion" # the report reads only this run's estimates
cargo bench -p btls --bench handshake --bench record --bench codec --bench loopback -- \
    "${criterion_args[@]}"
cargo bench -p btls-profile --bench capture -- "${criterion_args[@]}"

echo "== callgrind" >&2
bash scripts/bench-callgrind.sh "$out"

echo "== btls-harness bench (the reference adapter)" >&2
cargo build --quiet --release -p btls-harness --bins
harness="$target/release/btls-harness"
"$harness" bench --iut "$target/release/btls-iut" --iut-name btls-reference \
    --handshakes 4000 --bulk-bytes $((256 << 20)) --out "$out/iut-btls-reference.json"
iut_args=(--iut-bench "$out/iut-btls-reference.json")
for f in ${IUT_BENCH:-}; do iut_args+=(--iut-bench "$f"); done

echo "== report" >&2
"$harness" bench-report --criterion "$target/criterion" --machine "$out/machine.json" \
    --callgrind "$out/callgrind.json" "${iut_args[@]}" "${report_args[@]}"
