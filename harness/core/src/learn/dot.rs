//! A machine as a picture: Graphviz `dot` text with one edge per (source, target, output) whose
//! label lists the inputs, the largest group of a state shown as "any other", highlighted
//! transitions drawn apart in red, and a legend; SVG by running the `dot` program.

use super::mealy::Mealy;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// A group with more inputs than this is labelled "any other input" (with the names in its
/// tooltip) when it is its state's largest.
const SHOWN_INPUTS: usize = 3;

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// The `dot` text of `m`, titled `title`; transitions in `highlight` ((state, input) pairs) are
/// drawn in red, each on its own edge.
pub fn to_dot(m: &Mealy, title: &str, highlight: &BTreeSet<(usize, usize)>) -> String {
    let mut s = String::new();
    s.push_str("digraph machine {\n");
    s.push_str(&format!(
        "  graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=16, rankdir=TB, nodesep=0.5, ranksep=0.6];\n",
        quote(title)
    ));
    s.push_str("  node [shape=ellipse, fontname=\"Helvetica\", fontsize=12];\n");
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    s.push_str("  start [shape=point, width=0.15];\n");
    for (i, name) in m.names.iter().enumerate() {
        let shape = if (0..m.inputs.len()).all(|a| m.next[i][a] == i) {
            ", shape=doubleoctagon"
        } else {
            ""
        };
        s.push_str(&format!("  s{i} [label={}{shape}];\n", quote(name)));
    }
    s.push_str("  start -> s0;\n");
    for src in 0..m.states() {
        // (target, output) → inputs, for the transitions not highlighted.
        let mut groups: BTreeMap<(usize, &str), Vec<usize>> = BTreeMap::new();
        for a in 0..m.inputs.len() {
            if highlight.contains(&(src, a)) {
                s.push_str(&format!(
                    "  s{src} -> s{} [label={}, color=\"#c0392b\", fontcolor=\"#c0392b\", penwidth=2.5];\n",
                    m.next[src][a],
                    quote(&format!("{} / {}", m.inputs[a], m.output[src][a]))
                ));
            } else {
                groups
                    .entry((m.next[src][a], m.output[src][a].as_str()))
                    .or_default()
                    .push(a);
            }
        }
        let largest = groups
            .iter()
            .max_by_key(|(_, v)| v.len())
            .map(|(k, _)| *k)
            .filter(|k| groups.get(k).is_some_and(|v| v.len() > SHOWN_INPUTS));
        // One edge per target: a line per output.
        let mut edges: BTreeMap<usize, (Vec<String>, Vec<&str>)> = BTreeMap::new();
        for ((dst, out), ins) in &groups {
            let names: Vec<&str> = ins.iter().map(|&a| m.inputs[a].as_str()).collect();
            let line = if ins.len() == m.inputs.len() {
                format!("any input / {out}")
            } else if Some((*dst, *out)) == largest {
                format!("any other input ({}) / {out}", ins.len())
            } else {
                format!("{} / {out}", names.join(", "))
            };
            let edge = edges.entry(*dst).or_default();
            edge.0.push(line);
            edge.1.extend(names);
        }
        for (dst, (lines, names)) in edges {
            // `\l` ends a left-justified line in a dot label.
            let label: Vec<String> = lines.iter().map(|l| escape(l)).collect();
            s.push_str(&format!(
                "  s{src} -> s{dst} [label=\"{}\\l\", tooltip={}];\n",
                label.join("\\l"),
                quote(&names.join(", "))
            ));
        }
    }
    s.push_str(
        "  subgraph cluster_legend {\n    label=\"legend\"; fontsize=11; color=\"#999999\";\n",
    );
    s.push_str("    legend [shape=plaintext, fontsize=10, label=\"edge: inputs / what the implementation sends\\lany other input: the rest of the alphabet (names in the tooltip)\\ldouble octagon: a state every input stays in (the connection is over)\\lred: differs from the specification\\l\"];\n  }\n");
    s.push_str("}\n");
    s
}

/// Renders `dot` text as SVG with the `dot` program (Debian's `graphviz`).
pub fn to_svg(dot: &str) -> Result<String, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run `dot` ({e}): install Graphviz with scripts/install-graphviz.sh")
        })?;
    let mut stdin = child.stdin.take().ok_or("no stdin for dot")?;
    let text = dot.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let stdout = child.stdout.take().ok_or("no stdout for dot")?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut { stdout }, &mut out);
        out
    });
    let status = match child.wait_timeout(Duration::from_secs(30)) {
        Ok(Some(status)) => status,
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            return Err("`dot` did not finish within 30 s".into());
        }
    };
    let _ = writer.join();
    let svg = reader.join().unwrap_or_default();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        return Err(format!("`dot` failed ({status}): {}", err.trim()));
    }
    Ok(svg)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn parallel_edges_merge_and_highlights_stand_apart() {
        let m = Mealy::explore(
            (0..6).map(|i| format!("m{i}")).collect(),
            0usize,
            |&s, a| match (s, a) {
                (0, 0) => ("ok".into(), 1),
                (0, _) => ("alert".into(), 2),
                (1, 1) => ("done".into(), 2),
                (1, _) => ("alert".into(), 2),
                _ => ("closed".into(), 2),
            },
            |s| format!("S{s}"),
        );
        let dot = to_dot(&m, "t", &BTreeSet::from([(1, 1)]));
        assert!(dot.contains("any other input (5) / alert"), "{dot}");
        assert!(dot.contains("label=\"any input / closed\\l\""), "{dot}");
        assert!(dot.contains("\"m1 / done\", color=\"#c0392b\""), "{dot}");
        assert!(
            dot.contains("s2 [label=\"S2\", shape=doubleoctagon]"),
            "{dot}"
        );
        // Each (source, target, output) once.
        assert_eq!(dot.matches("s0 -> s2").count(), 1);
    }
}
