//! A learning report: for each run the learned machine drawn (differences from the
//! specification in red), the specification's machine, the figures, and every difference with
//! the scenario file that reproduces it; as `learn.json`, `report.md` and `report.html`, with
//! the `dot` and SVG files and the scenarios beside them. With quirk builds, a table of which
//! quirks the learned machines expose.

use super::Run;
use harness_core::learn::dot::{to_dot, to_svg};
use harness_core::report::{esc, STYLE};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// The JSON report's schema name.
pub const SCHEMA: &str = "btls-learn/1";

/// One run as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The IUT's name.
    pub iut: String,
    /// `client` or `server`.
    pub role: &'static str,
    /// The quirk of the reference build, if the IUT is one.
    pub quirk: Option<String>,
    /// What the IUT sent on connecting, and what the specification says it sends.
    pub initial: (String, String),
    /// States learned.
    pub states: usize,
    /// States of the specification's machine.
    pub spec_states: usize,
    /// The work it took.
    pub stats: harness_core::learn::Stats,
    /// The differences.
    pub differences: Vec<harness_core::learn::Difference>,
    /// The reproducing scenario files, relative to the report.
    pub scenarios: Vec<String>,
    /// The learned machine's picture, relative to the report.
    pub svg: String,
    /// Whether the learned machine equals the specification's.
    pub equal: bool,
}

fn stem(run: &Run, quirk: Option<&str>) -> String {
    match quirk {
        Some(q) => format!("{}-{}-{q}", run.iut, run.role.as_str()),
        None => format!("{}-{}", run.iut, run.role.as_str()),
    }
}

/// The SVG file's text without its XML prolog, to inline in HTML.
fn inline(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// Writes the pictures and the scenarios of `run` into `dir`; returns its summary and the
/// learned and specification SVG text.
fn write_run(
    dir: &Path,
    run: &Run,
    quirk: Option<&str>,
) -> Result<(RunSummary, String, String), String> {
    let stem = stem(run, quirk);
    let io = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    let highlight: BTreeSet<(usize, usize)> = run
        .differences
        .iter()
        .filter_map(|d| d.word.last().map(|&a| (d.learned_state, a)))
        .collect();
    let title = format!(
        "{} as {}{}: {} states learned",
        run.iut,
        run.role.as_str(),
        quirk.map(|q| format!(" (quirk {q})")).unwrap_or_default(),
        run.learned.machine.states()
    );
    let learned_dot = to_dot(&run.learned.machine, &title, &highlight);
    let spec_dot = to_dot(
        &run.spec,
        &format!(
            "SPEC.md §12, {} IUT: {} states",
            run.role.as_str(),
            run.spec.states()
        ),
        &BTreeSet::new(),
    );
    let learned_svg = to_svg(&learned_dot)?;
    let spec_svg = to_svg(&spec_dot)?;
    for (name, text) in [
        (format!("{stem}.dot"), &learned_dot),
        (format!("{stem}.svg"), &learned_svg),
        (format!("spec-{}.dot", run.role.as_str()), &spec_dot),
        (format!("spec-{}.svg", run.role.as_str()), &spec_svg),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| io(&p, e))?;
    }
    let mut scenarios = Vec::new();
    if !run.scenarios.is_empty() {
        let sdir = dir.join("reproduce");
        std::fs::create_dir_all(&sdir).map_err(|e| io(&sdir, e))?;
        for (n, text) in run.scenarios.iter().enumerate() {
            let name = format!("reproduce/{stem}-{}.toml", n + 1);
            let p = dir.join(&name);
            std::fs::write(&p, text).map_err(|e| io(&p, e))?;
            scenarios.push(name);
        }
    }
    let summary = RunSummary {
        iut: run.iut.clone(),
        role: run.role.as_str(),
        quirk: quirk.map(str::to_owned),
        initial: (
            run.initial.clone(),
            super::spec::initial_output(run.role).into(),
        ),
        states: run.learned.machine.states(),
        spec_states: run.spec.states(),
        stats: run.learned.stats.clone(),
        differences: run.differences.clone(),
        scenarios,
        svg: format!("{stem}.svg"),
        equal: run.differences.is_empty() && run.initial == super::spec::initial_output(run.role),
    };
    Ok((summary, learned_svg, spec_svg))
}

/// Writes the report of `runs` (each with the quirk of its build, if any) into `dir`.
pub fn write(dir: &Path, runs: &[(Run, Option<String>)]) -> Result<Vec<RunSummary>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut summaries = Vec::new();
    let mut pictures = Vec::new();
    for (run, quirk) in runs {
        let (s, learned, spec) = write_run(dir, run, quirk.as_deref())?;
        summaries.push(s);
        pictures.push((learned, spec));
    }
    let json = serde_json::json!({ "schema": SCHEMA, "runs": summaries });
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))
    };
    write(
        "learn.json",
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )?;
    write("report.md", markdown(&summaries))?;
    write("report.html", html(&summaries, &pictures))?;
    Ok(summaries)
}

fn figures(s: &RunSummary) -> String {
    format!(
        "{} states (specification {}), {} queries, {} connections, {} rounds, {} equivalence tests, {:.1} s",
        s.states,
        s.spec_states,
        s.stats.queries,
        s.stats.sessions,
        s.stats.rounds,
        s.stats.equivalence_tests,
        s.stats.millis as f64 / 1000.0
    )
}

fn run_name(s: &RunSummary) -> String {
    match &s.quirk {
        Some(q) => format!("{} as {} (quirk {q})", s.iut, s.role),
        None => format!("{} as {}", s.iut, s.role),
    }
}

/// The Markdown report.
pub fn markdown(runs: &[RunSummary]) -> String {
    let mut m = String::from("# Learned state machines\n\n");
    m.push_str("| run | states | spec | queries | connections | time | differences |\n|---|---|---|---|---|---|---|\n");
    for s in runs {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {:.1} s | {} |",
            run_name(s),
            s.states,
            s.spec_states,
            s.stats.queries,
            s.stats.sessions,
            s.stats.millis as f64 / 1000.0,
            s.differences.len()
        );
    }
    for s in runs.iter().filter(|s| !s.equal) {
        let _ = writeln!(m, "\n## {}\n\n![machine]({})\n", run_name(s), s.svg);
        if s.initial.0 != s.initial.1 {
            let _ = writeln!(
                m,
                "On connecting it sent `{}`; the specification says `{}`.\n",
                s.initial.0, s.initial.1
            );
        }
        m.push_str("| inputs | expected | actual | scenario |\n|---|---|---|---|\n");
        for (i, d) in s.differences.iter().enumerate() {
            let _ = writeln!(
                m,
                "| {} | `{}` | `{}` | {} |",
                d.inputs.join(", "),
                d.expected,
                d.actual,
                s.scenarios.get(i).map(String::as_str).unwrap_or("—")
            );
        }
    }
    m
}

const LEARN_STYLE: &str = ".machine svg{max-width:100%;height:auto} .same{color:#1a7f37;font-weight:600} .differs{color:#c0392b;font-weight:600}";

/// The HTML report, the pictures inline.
pub fn html(runs: &[RunSummary], pictures: &[(String, String)]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Learned state machines</title><style>{STYLE}{LEARN_STYLE}</style></head><body><h1>Learned state machines</h1>"
    );
    h.push_str("<p>Each machine was learned by L* over the abstract alphabet of <code>btls-harness learn</code> (each query a fresh connection to a fresh adapter process) and compared with the state tables of SPEC.md §12. Transitions that differ from the specification are red; the scenario beside each difference reproduces it.</p>");
    h.push_str("<table><tr><th>run</th><th>states</th><th>specification</th><th>queries</th><th>connections</th><th>time</th><th>result</th></tr>");
    for (i, s) in runs.iter().enumerate() {
        let result = if s.equal {
            "<span class=same>equal to the specification</span>".to_owned()
        } else {
            format!(
                "<span class=differs>{} difference(s)</span>",
                s.differences.len()
            )
        };
        let _ = write!(
            h,
            "<tr><td><a href=\"#run{i}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} s</td><td>{result}</td></tr>",
            esc(&run_name(s)),
            s.states,
            s.spec_states,
            s.stats.queries,
            s.stats.sessions,
            s.stats.millis as f64 / 1000.0
        );
    }
    h.push_str("</table>");
    let mut spec_shown = BTreeSet::new();
    for (i, (s, (learned, spec))) in runs.iter().zip(pictures).enumerate() {
        let _ = write!(
            h,
            "<h2 id=\"run{i}\">{}</h2><p>{}</p>",
            esc(&run_name(s)),
            esc(&figures(s))
        );
        if s.initial.0 != s.initial.1 {
            let _ = write!(
                h,
                "<p class=differs>On connecting it sent <code>{}</code>; the specification says <code>{}</code>.</p>",
                esc(&s.initial.0),
                esc(&s.initial.1)
            );
        }
        if !s.differences.is_empty() {
            h.push_str("<table><tr><th>inputs</th><th>specification state</th><th>expected</th><th>actual</th><th>scenario</th></tr>");
            for (n, d) in s.differences.iter().enumerate() {
                let link = s.scenarios.get(n).map_or("—".to_owned(), |f| {
                    format!("<a href=\"{}\">{}</a>", esc(f), esc(f))
                });
                let _ = write!(
                    h,
                    "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td class=differs><code>{}</code></td><td>{link}</td></tr>",
                    esc(&d.inputs.join(", ")),
                    esc(&d.spec_state),
                    esc(&d.expected),
                    esc(&d.actual)
                );
            }
            h.push_str("</table>");
        }
        let _ = write!(
            h,
            "<div class=machine role=img aria-label=\"learned machine of {}\">{}</div>",
            esc(&run_name(s)),
            inline(learned)
        );
        if spec_shown.insert(s.role) {
            let _ = write!(
                h,
                "<details><summary>The specification's machine ({} IUT)</summary><div class=machine>{}</div></details>",
                s.role,
                inline(spec)
            );
        }
    }
    h.push_str("</body></html>\n");
    h
}
