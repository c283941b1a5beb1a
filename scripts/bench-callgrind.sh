#!/usr/bin/env bash
# Instruction counts (callgrind) of the benchmark workloads: the same work as the criterion
# benchmarks, counted instead of timed, so the figures do not move with the load of a shared
# machine. Writes $1/callgrind.json and $1/callgrind-<workload>.txt (the top functions).
#   bash scripts/bench-callgrind.sh target/bench
# HANDSHAKES and RECORDS set how many units each run measures (default 200 and 256).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/bench}
handshakes=${HANDSHAKES:-200}
records=${RECORDS:-256}
mkdir -p "$out"
out=$(cd "$out" && pwd)
target=${CARGO_TARGET_DIR:-target}
cargo build --quiet --release -p btls --example bench_work
bin="$target/release/examples/bench_work"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

entries=()
while IFS=$'\t' read -r name unit; do
    case "$unit" in
        *record*) n=$records; bytes=16384 ;;
        *) n=$handshakes; bytes=0 ;;
    esac
    file="$work/$(echo "$name" | tr '/' '_').out"
    valgrind --tool=callgrind --callgrind-out-file="$file" \
        --toggle-collect='bench_work::measured*' "$bin" "$name" "$n" 2> "$work/log" ||
        { cat "$work/log" >&2; exit 1; }
    total=$(awk '/^totals:/ { print $2 }' "$file")
    callgrind_annotate --inclusive=no "$file" 2>/dev/null | head -40 \
        > "$out/callgrind-$(echo "$name" | tr '/' '_').txt" || true
    per_unit=$(awk -v t="$total" -v n="$n" 'BEGIN { printf "%.0f", t / n }')
    per_byte=null
    if [ "$bytes" -gt 0 ]; then
        per_byte=$(awk -v t="$total" -v n="$n" -v b="$bytes" 'BEGIN { printf "%.3f", t / (n * b) }')
    fi
    echo "$name: $per_unit instructions per $unit" >&2
    entries+=("    {\"name\": \"$name\", \"unit\": \"$unit\", \"units\": $n, \"instructions\": $total, \"per_unit\": $per_unit, \"per_byte\": $per_byte}")
done < <("$bin" --list)

{
    echo '{'
    echo '  "schema": "btls-bench-callgrind/1",'
    echo "  \"valgrind\": \"$(valgrind --version)\","
    echo '  "note": "valgrind hides AVX-512 from the program, so aws-lc takes its AVX2 paths here",'
    echo '  "workloads": ['
    (IFS=$'\n'; echo "${entries[*]}" | sed '$!s/$/,/')
    echo '  ]'
    echo '}'
} > "$out/callgrind.json"
echo "wrote $out/callgrind.json" >&2
