#!/usr/bin/env python3
"""Summarises cargo-mutants results (scripts/mutants.sh): the score, and every surviving mutant
with the requirement it sits under.

    python3 scripts/mutants-report.py [--fail-on-survivor] OUT_DIR RESULT_DIR...

Each RESULT_DIR holds a `mutants.out/` from one run or shard; OUT_DIR gets summary.md and
summary.json. A surviving mutant listed in reports/mutants/equivalent.toml (judged equivalent:
no implementation behaviour observable on the wire changes) is reported apart, with the reason,
and is not counted against the score.
"""
import json
import pathlib
import re
import sys
import tomllib

REQ = re.compile(r"BT-[A-Z]+-\d+")
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<what>.*)$")


def read_list(result_dir, name):
    path = pathlib.Path(result_dir) / "mutants.out" / name
    if not path.exists():
        return []
    return [l for l in path.read_text().splitlines() if l.strip()]


def requirement(file, line):
    """The nearest requirement ID on the mutated line or above it in the same function."""
    try:
        lines = pathlib.Path(file).read_text().splitlines()
    except OSError:
        return None
    for i in range(line - 1, max(-1, line - 60), -1):
        if i >= len(lines):
            continue
        found = REQ.findall(lines[i])
        if found:
            return found[-1] if i == line - 1 else found[0]
        stripped = lines[i].lstrip()
        if i < line - 1 and (stripped.startswith("fn ") or stripped.startswith("pub fn ")
                             or stripped.startswith("pub(crate) fn ")) and i + 1 < line - 1:
            # Reached the function's signature: look at its doc comment only.
            j = i - 1
            while j >= 0 and lines[j].lstrip().startswith(("///", "#[")):
                found = REQ.findall(lines[j])
                if found:
                    return found[0]
                j -= 1
            return None
    return None


def unplaced(mutant):
    """A mutant's name without its line and column, so that equivalent.toml survives edits
    elsewhere in the file: `path: replace … in Fn`."""
    return re.sub(r"^([^:]+):\d+:\d+:", r"\1:", mutant)


def main():
    argv = sys.argv[1:]
    fail_on_survivor = "--fail-on-survivor" in argv
    argv = [a for a in argv if a != "--fail-on-survivor"]
    if len(argv) < 2:
        sys.exit(__doc__)
    out = pathlib.Path(argv[0])
    dirs = argv[1:]
    eq_path = pathlib.Path("reports/mutants/equivalent.toml")
    equivalent = {}
    if eq_path.exists():
        for e in tomllib.loads(eq_path.read_text()).get("mutant", []):
            equivalent[unplaced(e["mutant"])] = e["reason"]
    # Shards (`shard-*` directories) add up; any other directory is a re-run (`--re`, after
    # new cases) whose outcomes replace every earlier one of the same mutant names, matched
    # without line and column since edits move lines.
    kinds = {k: [] for k in ("caught", "missed", "timeout", "unviable")}
    outcome = {}
    for d in dirs:
        found = {}
        for k in kinds:
            for m in read_list(d, f"{k}.txt"):
                found.setdefault(unplaced(m), []).append((k, m))
        rerun = not pathlib.Path(d).name.startswith("shard-")
        for name, entries in found.items():
            if rerun or name not in outcome:
                outcome[name] = entries
            else:
                outcome[name] = outcome[name] + entries
    for entries in outcome.values():
        for k, m in entries:
            kinds[k].append(m)
    missed, judged = [], []
    for m in kinds["missed"]:
        (judged if unplaced(m) in equivalent else missed).append(m)
    detected = len(kinds["caught"]) + len(kinds["timeout"])
    counted = detected + len(missed)
    score = 100.0 * detected / counted if counted else 0.0
    rows = []
    for m in missed:
        g = LINE.match(m)
        req = requirement(g["file"], int(g["line"])) if g else None
        rows.append({"mutant": m, "requirement": req})
    by_file = {}
    for m in kinds["caught"] + kinds["timeout"] + missed:
        g = LINE.match(m)
        f = g["file"] if g else "?"
        c = by_file.setdefault(f, [0, 0])
        c[0 if m not in missed else 1] += 1
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "format": "btls-mutants-summary/1",
        "caught": len(kinds["caught"]),
        "timeout": len(kinds["timeout"]),
        "missed": len(missed),
        "equivalent": len(judged),
        "unviable": len(kinds["unviable"]),
        "score_percent": round(score, 1),
        "survivors": rows,
        "equivalent_mutants": [{"mutant": m, "reason": equivalent[unplaced(m)]}
                              for m in judged],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    md = ["# Mutation testing of the reference (scripts/mutants.sh)", ""]
    md.append(f"**Score: {score:.1f}%** — {detected} of {counted} viable mutants detected by the "
              f"conformance suite ({len(kinds['caught'])} caught, {len(kinds['timeout'])} timed "
              f"out); {len(missed)} survived; {len(judged)} judged equivalent (not counted); "
              f"{len(kinds['unviable'])} unviable (did not build). Results from: "
              + ", ".join(f"`{d}`" for d in dirs) + ".")
    md += ["", "| file | detected | survived |", "|---|---|---|"]
    for f, (c, s) in sorted(by_file.items()):
        md.append(f"| `{f}` | {c} | {s} |")
    md += ["", "## Surviving mutants", ""]
    if rows:
        md += ["| requirement | mutant |", "|---|---|"]
        for r in sorted(rows, key=lambda r: (r["requirement"] or "~", r["mutant"])):
            md.append(f"| {r['requirement'] or '—'} | `{r['mutant']}` |")
    else:
        md.append("None.")
    if judged:
        md += ["", "## Judged equivalent", "", "| mutant | why |", "|---|---|"]
        for m in judged:
            md.append(f"| `{m}` | {equivalent[unplaced(m)]} |")
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print(f"mutants: {score:.1f}% detected ({detected}/{counted}), {len(missed)} survived, "
          f"{len(judged)} equivalent, {len(kinds['unviable'])} unviable; {out}/summary.md")
    if fail_on_survivor and missed:
        for m in missed:
            print(f"survived: {m}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
