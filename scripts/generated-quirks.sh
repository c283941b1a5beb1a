#!/usr/bin/env bash
# Runs the generated classes (`btls-harness generate`) against every quirk build of the reference
# adapter and writes reports/generated/quirks.md: per quirk, the findings and the failing cases of
# each class. Options after the script's name go to every `generate` run (default: a budget of 1200
# cases per class, 4 random mutations per frame, seed 1, 4 jobs).
#
#   bash scripts/generated-quirks.sh                 # every quirk
#   QUIRKS="no-handshake-timeout skip-server-ready-mac" bash scripts/generated-quirks.sh
#   REUSE=1 bash scripts/generated-quirks.sh         # keep the quirks' reports already written
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p btls-harness -p btls
bin=target/release
out=reports/generated
runs=$out/quirk-runs
mkdir -p "$runs"

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=(--budget 1200 --random 4 --seed 1 -j 4)
fi
quirks=${QUIRKS:-$("$bin/btls-iut" --list-quirks | cut -f1)}
total=$(echo "$quirks" | wc -w)

n=0
for q in $quirks; do
    n=$((n + 1))
    if [ -n "${REUSE:-}" ] && [ -f "$runs/$q/generated.json" ]; then
        echo "[$n/$total] $q (kept)" >&2
        continue
    fi
    echo "[$n/$total] $q" >&2
    # A quirk that is caught makes generate exit 1: that is the point.
    "$bin/btls-harness" generate --iut "$bin/btls-iut" --iut-name "quirk-$q" \
        --iut-arg=--quirk --iut-arg="$q" "${args[@]}" --report-dir "$runs/$q" \
        >/dev/null 2>"$runs/$q.log" || true
    if [ ! -f "$runs/$q/generated.json" ]; then
        echo "generate did not write a report for $q; see $runs/$q.log" >&2
        exit 2
    fi
done

python3 - "$runs" "$out/quirks.md" "${args[*]}" $quirks <<'EOF'
import json, sys
runs, target, args, quirks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
classes = None
seconds, slowest = 0.0, (0.0, "")
rows, caught = [], 0
for q in quirks:
    with open(f"{runs}/{q}/generated.json") as f:
        report = json.load(f)
    if classes is None:
        classes = list(report["classes"])
    seconds += report["seconds"]
    slowest = max(slowest, (report["seconds"], q))
    failed = {c: sum(r["failed"] for r in report["classes"][c].values()) for c in classes}
    sanity = sum(r["sanity_ran"] - r["sanity_passed"]
                 for c in classes for r in report["classes"][c].values())
    hit = bool(report["findings"]) or sanity > 0
    caught += hit
    cells = " | ".join(str(failed[c]) for c in classes)
    rows.append(f"| {q} | {'yes' if hit else '**no**'} | {len(report['findings'])} | {cells} |")
head = " | ".join(classes)
with open(target, "w") as f:
    f.write(f"""# Generated cases against the quirk builds

`bash scripts/generated-quirks.sh` ran `btls-harness generate --iut btls-iut --iut-arg=--quirk --iut-arg=NAME {args}`, every class, both roles, for each quirk ({seconds / 60:.0f} min in all on this machine; the slowest, {slowest[1]}, {slowest[0]:.0f} s: a quirk that breaks many cases makes each wait for its step timeout).

Caught: {caught} of {len(quirks)} quirks (a quirk is caught when a case or a sanity handshake fails). The per-quirk reports, with the shrunk reproducers, are in `quirk-runs/` (not kept in git). A quirk these classes miss breaks a semantic check (key policy, expiry, registry signatures, the key cache, records after READY, ...) that no change to the handshake frames reaches; the hand-written suite catches every quirk (`reports/quirks/quirks.md`).

| quirk | caught | findings (shrunk) | failing cases: {head} |
|---|---|---|{'---|' * len(classes)}
""")
    f.write("\n".join(rows) + "\n")
print(f"{caught} of {len(quirks)} quirks caught; {target}", file=sys.stderr)
EOF
