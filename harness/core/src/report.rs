//! Reports of a run, written to one folder: `results.json` (one schema for all results),
//! `junit.xml` for CI, `summary.md` and a self-contained `summary.html` for people, and
//! and for every case `transcripts/<case>.txt` beside its capture `transcripts/<case>.pcapng` (or
//! `.pcap`) and, when a handshake completed, its key log `transcripts/<case>.keys`.

use crate::case::CaseInfo;
use crate::coverage::Coverage;
use crate::process::CONTRACT_VERSION;
use crate::runner::{CaseReport, RunReport, Status};
use crate::verdict::Verdict;
use harness_capture::{write_capture_with_secrets, Format};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// The file name of a case's transcript.
pub fn transcript_file(case: &CaseReport) -> String {
    transcript_name(&case.scenario)
}

/// The file name of a case's transcript, in the report folder.
pub fn transcript_name(case: &CaseInfo) -> String {
    format!("transcripts/{}.txt", stem(case))
}

/// The file name of a case's files, without folder or extension.
pub fn stem(case: &CaseInfo) -> String {
    case.id.replace('/', "__")
}

fn case_stem(case: &CaseReport) -> String {
    stem(&case.scenario)
}

/// The file name of a case's capture.
pub fn capture_file(case: &CaseReport, format: Format) -> String {
    format!("transcripts/{}.{}", case_stem(case), format.extension())
}

/// The file name of a case's key log.
pub fn keylog_file(case: &CaseReport) -> String {
    format!("transcripts/{}.keys", case_stem(case))
}

fn failure_text(case: &CaseReport) -> Option<(usize, usize, String, String)> {
    match &case.result.verdict {
        Verdict::Fail(f) => Some((f.step, f.line, f.expected.clone(), f.actual.clone())),
        _ => None,
    }
}

/// Step, expected and actual of a case that counts as a failure, for the summaries.
fn failure_row(case: &CaseReport) -> (String, String, String) {
    match failure_text(case) {
        Some((0, _, expected, actual)) => ("end of case".into(), expected, actual),
        Some((step, line, expected, actual)) => (format!("{step} (line {line})"), expected, actual),
        None => (
            "—".into(),
            format!(
                "a failure: {}",
                case.expected_reason
                    .as_deref()
                    .unwrap_or("listed in the expectations")
            ),
            "the case passed (remove the stale expectation)".into(),
        ),
    }
}

/// Writes every report of `run` into `dir`, with captures in `run.capture_format`.
pub fn write_all(run: &RunReport, coverage: Option<&Coverage>, dir: &Path) -> std::io::Result<()> {
    let format = run.capture_format;
    std::fs::create_dir_all(dir.join("transcripts"))?;
    for case in &run.cases {
        std::fs::write(dir.join(transcript_file(case)), &case.result.transcript)?;
        let file = std::fs::File::create(dir.join(capture_file(case, format)))?;
        // TLS key logs are what Wireshark reads from a Decryption Secrets Block.
        let secrets = case
            .result
            .key_log
            .as_deref()
            .filter(|_| run.protocol == "tls")
            .map(|k| (harness_capture::TLS_KEY_LOG, k.as_bytes()));
        write_capture_with_secrets(
            &case.result.capture,
            format,
            secrets,
            std::io::BufWriter::new(file),
        )?;
        if let Some(keys) = &case.result.key_log {
            std::fs::write(dir.join(keylog_file(case)), keys)?;
        }
    }
    std::fs::write(dir.join("results.json"), json_report(run, coverage))?;
    std::fs::write(dir.join("junit.xml"), junit(run))?;
    std::fs::write(dir.join("summary.md"), markdown(run, coverage))?;
    std::fs::write(dir.join("summary.html"), html(run, coverage))?;
    Ok(())
}

/// The JSON report (schema `<profile>-conformance-results/1`: `btls-conformance-results/1`).
pub fn json_report(run: &RunReport, coverage: Option<&Coverage>) -> String {
    let cases: Vec<serde_json::Value> = run
        .cases
        .iter()
        .map(|c| {
            let failure = failure_text(c).map(|(step, line, expected, actual)| {
                json!({"step": step, "line": line, "expected": expected, "actual": actual})
            });
            json!({
                "id": c.scenario.id,
                "title": c.scenario.title,
                "role": c.scenario.iut_role.as_str(),
                "file": c.scenario.path.display().to_string(),
                "requirements": c.scenario.requirements,
                "status": c.status,
                "lenient": matches!(c.result.verdict, Verdict::PassLenient(_)),
                "unsupported": match &c.result.verdict { Verdict::Unsupported(r) => Some(r.clone()), _ => None },
                "failure": failure,
                "expected_failure_reason": c.expected_reason,
                "duration_ms": c.result.duration.as_secs_f64() * 1000.0,
                "transcript": transcript_file(c),
                "capture": capture_file(c, run.capture_format),
                "keylog": c.result.key_log.is_some().then(|| keylog_file(c)),
            })
        })
        .collect();
    let value = json!({
        "schema": format!("{}-conformance-results/1", run.protocol),
        "adapter_contract": CONTRACT_VERSION,
        "iut": run.iut,
        "seed": run.seed,
        "duration_ms": run.duration.as_secs_f64() * 1000.0,
        "summary": {
            "total": run.cases.len(),
            "pass": run.count(Status::Pass),
            "fail": run.count(Status::Fail),
            "expected_fail": run.count(Status::ExpectedFail),
            "unexpected_pass": run.count(Status::UnexpectedPass),
            "unsupported": run.count(Status::Unsupported),
        },
        "stale_expectations": run.stale_expectations,
        "coverage": coverage,
        "cases": cases,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// The JUnit XML report: one test suite per IUT, one test case per scenario.
pub fn junit(run: &RunReport) -> String {
    let mut report = Report::new(format!("{}-conformance", run.protocol));
    let mut suite = TestSuite::new(run.iut.clone());
    for case in &run.cases {
        let status = match (&case.status, &case.result.verdict) {
            (Status::Pass | Status::ExpectedFail, _) => TestCaseStatus::success(),
            (Status::Unsupported, Verdict::Unsupported(reason)) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("unsupported: {reason}"));
                s
            }
            (Status::UnexpectedPass, _) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!(
                    "passed, but the expectations file says it fails: {}",
                    case.expected_reason.clone().unwrap_or_default()
                ));
                s
            }
            _ => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let Some((step, line, expected, actual)) = failure_text(case) {
                    s.set_message(format!(
                        "step {step} (line {line}): expected {expected}; got {actual}"
                    ));
                }
                s.set_description(case.result.transcript.clone());
                s
            }
        };
        let mut tc = TestCase::new(case.scenario.id.clone(), status);
        tc.set_classname(format!("{}.{}", run.iut, case.scenario.iut_role.as_str()));
        tc.set_time(case.result.duration);
        tc.set_system_out(case.result.transcript.clone());
        if !case.result.stderr.is_empty() {
            tc.set_system_err(case.result.stderr.clone());
        }
        suite.add_test_case(tc);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

fn area(id: &str) -> String {
    id.split('/').take(2).collect::<Vec<_>>().join("/")
}

fn icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::ExpectedFail => "⚠️",
        Status::UnexpectedPass => "❗",
        Status::Unsupported => "⚪",
    }
}

/// The Markdown summary.
pub fn markdown(run: &RunReport, coverage: Option<&Coverage>) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {} conformance: `{}`\n", run.protocol_name, run.iut);
    let _ = writeln!(
        md,
        "**{}** cases in {:.2} s (seed {}, adapter contract v{}): ✅ {} pass · ❌ {} fail · ⚠️ {} expected fail · ❗ {} unexpected pass · ⚪ {} unsupported\n",
        run.cases.len(),
        run.duration.as_secs_f64(),
        run.seed,
        CONTRACT_VERSION,
        run.count(Status::Pass),
        run.count(Status::Fail),
        run.count(Status::ExpectedFail),
        run.count(Status::UnexpectedPass),
        run.count(Status::Unsupported)
    );
    let failures: Vec<&CaseReport> = run.cases.iter().filter(|c| c.status.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(md, "## Failures\n\n| case | requirements | step | expected | actual | transcript |\n|---|---|---|---|---|---|");
        for c in failures {
            let (step, expected, actual) = failure_row(c);
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | [transcript]({}) · [capture]({}) |",
                c.scenario.id,
                c.scenario.requirements.join(", "),
                step,
                expected.replace('|', "\\|"),
                actual.replace('|', "\\|"),
                transcript_file(c),
                capture_file(c, run.capture_format)
            );
        }
        md.push('\n');
    }
    if !run.stale_expectations.is_empty() {
        let _ = writeln!(
            md,
            "## Stale expectations\n\nThese entries name no case of the suite:\n"
        );
        for s in &run.stale_expectations {
            let _ = writeln!(md, "- `{s}`");
        }
        md.push('\n');
    }
    if let Some(cov) = coverage {
        let _ = writeln!(
            md,
            "## Requirement coverage\n\n{} of {} requirements checked by at least one case, {} listed as untestable, {} missing.\n",
            cov.covered_count(),
            cov.defined.len(),
            cov.untestable.len(),
            cov.missing.len()
        );
        if !cov.roles.is_empty() {
            let (wanted, checked) = cov.role_counts();
            let _ = writeln!(
                md,
                "Per role: {checked} of the {wanted} (requirement, role) pairs of the specification's role table checked by a case in that role.\n"
            );
        }
        let problems = cov.problems();
        if !problems.is_empty() {
            let _ = writeln!(md, "Gaps:\n");
            for p in problems {
                let _ = writeln!(md, "- {p}");
            }
            md.push('\n');
        }
    }
    let _ = writeln!(md, "## All cases\n");
    let mut current = String::new();
    for c in &run.cases {
        let a = area(&c.scenario.id);
        if a != current {
            let _ = writeln!(
                md,
                "\n### {a}\n\n| | case | title | requirements |\n|---|---|---|---|"
            );
            current = a;
        }
        let _ = writeln!(
            md,
            "| {} | [`{}`]({}) ([capture]({})) | {} | {} |",
            icon(c.status),
            c.scenario.id,
            transcript_file(c),
            capture_file(c, run.capture_format),
            c.scenario.title.replace('|', "\\|"),
            c.scenario.requirements.join(", ")
        );
    }
    md
}

/// The style sheet of the HTML reports (conformance and interop).
pub const STYLE: &str = r#"body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#1f2328} table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
td,th{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.b{display:inline-block;padding:0 .45rem;border-radius:1rem;font-size:.8rem;color:#fff;white-space:nowrap}
.ok{background:#2da44e} .bad{background:#cf222e} .warn{background:#bf8700} .grey{background:#8c959f}
.chip{display:inline-block;margin:2px;padding:1px 6px;border-radius:4px;font:12px ui-monospace,monospace;color:#fff}
code{font-size:.85rem} pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.8rem}
details summary{cursor:pointer;font-weight:600;margin:.4rem 0} .legend span{margin-right:1rem}
"#;

/// Escapes text for HTML (element content and quoted attribute values).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A stacked bar of the statuses, as inline SVG.
fn bar(run: &RunReport) -> String {
    let total = run.cases.len().max(1) as f64;
    let mut x = 0.0;
    let mut svg = String::from(r#"<svg width="640" height="28" role="img" aria-label="results">"#);
    for (status, color) in [
        (Status::Pass, "#2da44e"),
        (Status::ExpectedFail, "#d4a72c"),
        (Status::Unsupported, "#8c959f"),
        (Status::UnexpectedPass, "#bf3989"),
        (Status::Fail, "#cf222e"),
    ] {
        let n = run.count(status);
        if n == 0 {
            continue;
        }
        let w = 640.0 * n as f64 / total;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="0" width="{w:.1}" height="28" fill="{color}"><title>{}: {n}</title></rect>"#,
            status.label()
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

/// Sorts requirement IDs by area, then number (`BT-HS-2` before `BT-HS-10`).
fn by_area_and_number(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort_by_key(|id| {
        let (head, n) = id.rsplit_once('-').unwrap_or((id, "0"));
        (head.to_owned(), n.parse::<u32>().unwrap_or(0))
    });
    v
}

fn badge(status: Status) -> String {
    let (class, text) = match status {
        Status::Pass => ("ok", "pass"),
        Status::Fail => ("bad", "fail"),
        Status::ExpectedFail => ("warn", "expected fail"),
        Status::UnexpectedPass => ("bad", "unexpected pass"),
        Status::Unsupported => ("grey", "unsupported"),
    };
    format!("<span class=\"b {class}\">{text}</span>")
}

/// The self-contained HTML summary.
pub fn html(run: &RunReport, coverage: Option<&Coverage>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{protocol} conformance: {iut}</title><style>
{STYLE}</style></head><body><h1>{protocol} conformance: <code>{iut}</code></h1>"#,
        protocol = esc(run.protocol_name),
        iut = esc(&run.iut),
    );
    let _ = write!(
        h,
        "<p><b>{}</b> cases in {:.2} s — seed {}, adapter contract v{}.</p>{}<p class=legend><span>{} {}</span><span>{} {}</span><span>{} {}</span><span>{} {}</span><span>{} {}</span></p>",
        run.cases.len(), run.duration.as_secs_f64(), run.seed, CONTRACT_VERSION, bar(run),
        badge(Status::Pass), run.count(Status::Pass), badge(Status::Fail), run.count(Status::Fail),
        badge(Status::ExpectedFail), run.count(Status::ExpectedFail),
        badge(Status::UnexpectedPass), run.count(Status::UnexpectedPass),
        badge(Status::Unsupported), run.count(Status::Unsupported)
    );
    let failures: Vec<&CaseReport> = run.cases.iter().filter(|c| c.status.is_failure()).collect();
    if !failures.is_empty() {
        h.push_str("<h2>Failures</h2>");
        for c in failures {
            let (step, expected, actual) = failure_row(c);
            let _ = write!(
                h,
                "<h3>{badge} {id}</h3><p>{title}<br>Requirements: {reqs}<br>Step {step} of <code>{file}</code></p><table><tr><th>expected</th><td>{exp}</td></tr><tr><th>actual</th><td>{act}</td></tr></table><details><summary>transcript (<a href=\"{tf}\">file</a>, <a href=\"{cf}\">capture</a>)</summary><pre>{tr}</pre></details>",
                badge = badge(c.status), id = esc(&c.scenario.id), title = esc(&c.scenario.title), reqs = esc(&c.scenario.requirements.join(", ")),
                file = esc(&c.scenario.path.display().to_string()), exp = esc(&expected), act = esc(&actual),
                tf = esc(&transcript_file(c)), cf = esc(&capture_file(c, run.capture_format)), tr = esc(&c.result.transcript)
            );
        }
    }
    if let Some(cov) = coverage {
        let _ = write!(
            h,
            "<h2>Requirement coverage</h2><p>{} of {} requirements checked by at least one case; {} untestable (hover for the reason); {} missing. Where the specification names the roles a requirement applies to, it has a chip per role: <sub>C</sub> against a client IUT, <sub>S</sub> against a server IUT.</p><p class=legend><span class=\"chip ok\">covered</span><span class=\"chip grey\">untestable</span><span class=\"chip bad\">missing</span></p><p>",
            cov.covered_count(), cov.defined.len(), cov.untestable.len(), cov.missing.len()
        );
        for id in by_area_and_number(&cov.defined) {
            let Some(roles) = cov.roles.get(&id) else {
                let (class, tip) = match (cov.covered.get(&id), cov.untestable.get(&id)) {
                    (Some(cases), _) => ("ok", cases.join("\n")),
                    (None, Some(reason)) => ("grey", reason.clone()),
                    (None, None) => ("bad", "no scenario checks this requirement".to_owned()),
                };
                let _ = write!(
                    h,
                    "<span class=\"chip {class}\" title=\"{}\">{}</span>",
                    esc(&tip),
                    esc(&id)
                );
                continue;
            };
            // One chip per role the requirement applies to: C (client IUT), S (server IUT).
            for role in roles {
                let cases = cov.cases_in(&id, *role);
                let (class, tip) = match (cases.is_empty(), cov.untestable_reason(&id, *role)) {
                    (false, _) => ("ok", cases.join("\n")),
                    (true, Some(reason)) => ("grey", reason.to_owned()),
                    (true, None) => (
                        "bad",
                        format!("no {} case checks this requirement", role.as_str()),
                    ),
                };
                let letter = match role {
                    crate::Role::Client => "C",
                    crate::Role::Server => "S",
                };
                let _ = write!(
                    h,
                    "<span class=\"chip {class}\" title=\"{}\">{}<sub>{letter}</sub></span>",
                    esc(&tip),
                    esc(&id)
                );
            }
        }
        h.push_str("</p>");
    }
    h.push_str("<h2>All cases</h2>");
    let mut areas: Vec<String> = run.cases.iter().map(|c| area(&c.scenario.id)).collect();
    areas.dedup();
    for a in areas {
        let cases: Vec<&CaseReport> = run
            .cases
            .iter()
            .filter(|c| area(&c.scenario.id) == a)
            .collect();
        let failed = cases.iter().filter(|c| c.status.is_failure()).count();
        let _ = write!(
            h,
            "<details{}><summary>{} — {} case(s), {} failing</summary><table><tr><th></th><th>case</th><th>title</th><th>requirements</th><th>ms</th><th>capture</th></tr>",
            if failed > 0 { " open" } else { "" }, esc(&a), cases.len(), failed
        );
        for c in cases {
            let _ = write!(
                h,
                "<tr><td>{}</td><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{:.0}</td><td><a href=\"{}\">{}</a></td></tr>",
                badge(c.status), esc(&transcript_file(c)), esc(&c.scenario.id), esc(&c.scenario.title),
                esc(&c.scenario.requirements.join(", ")), c.result.duration.as_secs_f64() * 1000.0,
                esc(&capture_file(c, run.capture_format)), run.capture_format.extension()
            );
        }
        h.push_str("</table></details>");
    }
    h.push_str("</body></html>\n");
    h
}
