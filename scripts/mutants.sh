#!/usr/bin/env bash
# Mutation testing of the reference implementation with the conformance suite as the test.
#
# cargo-mutants (installed by scripts/install-mutants.sh) mutates the reference crate's state
# machines, codec and record layer (reference-impl/src/conn, msgs, codec.rs, crypto/aead.rs) in
# place, rebuilds the adapter's test program `mutation_suite` (harness/adapter/tests), which is
# the IUT, and runs the whole suite against it. The harness that judges — its reference peer and
# oracles link the same crate — is built once, unmutated, and copied out of the tree first.
# Every source file is restored when cargo-mutants ends; do not edit the tree while it runs.
#
#   bash scripts/mutants.sh                      # every mutant (hours on 2 cores: shard it)
#   bash scripts/mutants.sh --shard 3/16         # one shard, for a CI matrix of 16 runners
#   bash scripts/mutants.sh --sample             # CI's small fixed sample (fails on a survivor)
#   bash scripts/mutants.sh --list               # the mutants, without running them
#   bash scripts/mutants.sh --re 'RecordKey::open' # only the mutants whose name matches (after
#                                                #   new cases, to re-run the survivors)
#   bash scripts/mutants.sh --re X --name rerun-2  # results in reports/mutants/rerun-2 instead of
#                                                #   selected (merge re-runs after the shards)
#
# Results go to reports/mutants/<name>/mutants.out (cargo-mutants' own files) and
# reports/mutants/<name>/summary.md (the score, and every surviving mutant with the requirement
# it sits under), written by scripts/mutants-report.py. `--report-only DIR...` merges shards.
set -euo pipefail
cd "$(dirname "$0")/.."

shard="" name="full" mode=run filter=()
while [ $# -gt 0 ]; do
    case "$1" in
        --shard) shard="$2"; name="shard-${2/\//-of-}"; shift 2 ;;
        --sample) shard="0/40"; name="sample"; shift ;;
        --list) mode=list; shift ;;
        --re) filter=(--re "$2"); [ "$name" = full ] && name="selected"; shift 2 ;;
        --name) name="$2"; shift 2 ;;
        --report-only) shift; exec python3 scripts/mutants-report.py reports/mutants/merged "$@" ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "mutants.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

bash scripts/install-mutants.sh >&2
selection=(
    # (no --package: it would also select the tests; --file chooses what is mutated)
    --file 'reference-impl/src/conn/**' --file 'reference-impl/src/msgs/**'
    --file reference-impl/src/codec.rs --file reference-impl/src/crypto/aead.rs
    # The field-layout table describes messages for the harness's re-encoding; the adapter
    # never reads it, so its mutants say nothing about the suite.
    --exclude reference-impl/src/msgs/layout.rs
    # Debug and Display text is not on the wire.
    --exclude-re 'impl (std::)?(fmt::)?(Debug|Display) for'
    # The quirks are the planted bugs of `btls-harness quirks`; the suite runs the reference with
    # none on, so a mutant that switches one off changes nothing.
    --exclude-re 'Common::quirk|Quirk::'
    # Hooks only the harness's own peer calls, to break the rules on purpose (an alert at any
    # level, data after close_notify); the adapter never calls them.
    --exclude-re 'Connection::(send_alert_with_level|seal_data_regardless)'
    # A convenience for SecureSocket's handshake loop and for applications; the adapter reads
    # is_established and is_closed, so the suite cannot see it (the crate's tests do).
    --exclude-re 'Connection::is_handshaking'
)
selection+=("${filter[@]}")
if [ "$mode" = list ]; then
    exec cargo mutants --list "${selection[@]}"
fi

echo "== building the unmutated harness" >&2
cargo build --quiet -p btls-harness --bin btls-harness
mkdir -p target/mutants-harness
cp target/debug/btls-harness target/mutants-harness/btls-harness
export BTLS_MUTANTS_HARNESS="$PWD/target/mutants-harness/btls-harness"
export BTLS_MUTANTS_SCENARIOS="$PWD/scenarios"

out="reports/mutants/$name"
rm -rf "$out"
mkdir -p "$out"
echo "== the suite against the unmutated adapter (the baseline)" >&2
cargo test --quiet -p btls-iut --test mutation_suite
# cargo-mutants' own baseline would run the mutated package's tests, not --test-package's, so
# the script runs the baseline above and skips cargo-mutants' (with an explicit timeout).
args=(--in-place --no-shuffle --test-package btls-iut --baseline skip --timeout 120
    --output "$out")
[ -n "$shard" ] && args+=(--shard "$shard" --sharding round-robin)
status=0
cargo mutants "${selection[@]}" "${args[@]}" -- --test mutation_suite || status=$?
# cargo-mutants: 0 all caught, 2 some missed, 3 some timed out, 4 the unmutated tree failed.
case "$status" in
    0|2|3) ;;
    *) echo "mutants.sh: cargo mutants failed with status $status" >&2; exit "$status" ;;
esac
# The sample fails on a survivor not judged equivalent (reports/mutants/equivalent.toml).
report=(python3 scripts/mutants-report.py)
[ "$name" = sample ] && report+=(--fail-on-survivor)
"${report[@]}" "$out" "$out"
