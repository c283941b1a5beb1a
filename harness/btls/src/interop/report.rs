//! The interop reports, written to one folder: `results.json` (schema
//! `btls-interop-results/1`), `report.md`, a self-contained `report.html` (the matrix: rows are
//! clients, columns servers, each cell one coloured code per case), `junit.xml`, and per cell
//! `cells/<client>__<server>__<case>.pcapng` (or `.pcap`) with its transcript `.txt`.

use super::cell::{cell_stem, checksums_compared, CellResult, CellStatus, PartyRun};
use super::Matrix;
use crate::replay::transcript;
use harness_capture::{write_capture, Format};
use harness_core::process::CONTRACT_VERSION;
use harness_core::report::{esc, STYLE};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;

/// Why interop cells have no key log.
pub const NO_KEYLOG: &str = "none: the adapter contract has no event that reports traffic secrets, and the proxy sees only ciphertext";

/// The capture of a cell, relative to the report folder.
pub fn capture_file(cell: &CellResult, format: Format) -> String {
    format!("cells/{}.{}", stem(cell), format.extension())
}

/// The transcript of a cell, relative to the report folder.
pub fn transcript_file(cell: &CellResult) -> String {
    format!("cells/{}.txt", stem(cell))
}

fn stem(cell: &CellResult) -> String {
    cell_stem(
        &cell.client.implementation,
        &cell.server.implementation,
        &cell.case,
    )
}

/// A cell's capture, as bytes.
pub fn capture_bytes(cell: &CellResult, format: Format) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    write_capture(&cell.recording, format, &mut out)?;
    Ok(out)
}

fn party_text(out: &mut String, role: &str, party: &PartyRun) {
    let _ = writeln!(
        out,
        "\n## {role}: {} (seed {})",
        party.implementation, party.seed
    );
    let Some(f) = &party.finished else {
        let _ = writeln!(out, "(not started)");
        return;
    };
    let _ = writeln!(
        out,
        "exit status: {}{}",
        f.code.map_or("none".into(), |c| c.to_string()),
        if f.killed {
            " (killed at the time limit)"
        } else {
            ""
        }
    );
    for e in &f.events {
        let _ = writeln!(out, "  {e}");
    }
    if !f.stderr.trim().is_empty() {
        let _ = writeln!(out, "standard error:");
        for line in f.stderr.lines() {
            let _ = writeln!(out, "  | {line}");
        }
    }
}

/// A cell's transcript: verdict, both parties' events and standard error, and the decoded
/// capture (every frame, each direction).
pub fn transcript_text(cell: &CellResult, capture: &[u8], file: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# interop case {} [{}]: client {} × server {}",
        cell.case, cell.code, cell.client.implementation, cell.server.implementation
    );
    let _ = writeln!(out, "verdict: {}", cell.status.as_str());
    if let Some(r) = &cell.reason {
        let _ = writeln!(out, "reason: {r}");
    }
    for n in &cell.notes {
        let _ = writeln!(out, "proxy: {n}");
    }
    let _ = writeln!(out, "key log: {NO_KEYLOG}");
    party_text(&mut out, "client", &cell.client);
    party_text(&mut out, "server", &cell.server);
    let _ = writeln!(out, "\n## on the wire ({file})");
    match transcript(capture, file, None) {
        Ok(r) => out.push_str(&r.text),
        Err(e) => {
            let _ = writeln!(out, "!! {e}");
        }
    }
    out
}

/// Writes every report of `matrix` into `dir`, captures in `format`.
pub fn write_all(matrix: &Matrix, format: Format, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("cells"))?;
    for cell in &matrix.cells {
        let capture = capture_bytes(cell, format)?;
        let name = capture_file(cell, format);
        std::fs::write(dir.join(&name), &capture)?;
        std::fs::write(
            dir.join(transcript_file(cell)),
            transcript_text(cell, &capture, &name),
        )?;
    }
    std::fs::write(dir.join("results.json"), json_report(matrix, format))?;
    std::fs::write(dir.join("junit.xml"), junit(matrix))?;
    std::fs::write(dir.join("report.md"), markdown(matrix, format))?;
    std::fs::write(dir.join("report.html"), html(matrix, format))?;
    Ok(())
}

fn exit_code(p: &PartyRun) -> serde_json::Value {
    p.finished
        .as_ref()
        .map_or(serde_json::Value::Null, |f| json!(f.code))
}

/// The JSON report (schema `btls-interop-results/1`).
pub fn json_report(m: &Matrix, format: Format) -> String {
    let implementations: Vec<_> = m
        .implementations
        .iter()
        .map(|i| json!({"name": i.name, "program": i.program.display().to_string(), "args": i.prefix_args}))
        .collect();
    let cases: Vec<_> = m
        .cases
        .iter()
        .map(|c| json!({"id": c.id, "code": c.code, "title": c.title, "requirements": c.requirements, "file": c.path.display().to_string()}))
        .collect();
    let cells: Vec<_> = m
        .cells
        .iter()
        .map(|c| {
            let bulk = m.cases.iter().find(|k| k.id == c.case).is_some_and(|k| {
                k.expect_client.data_received.is_some() || k.expect_server.data_received.is_some()
            });
            json!({
                "client": c.client.implementation,
                "server": c.server.implementation,
                "case": c.case,
                "code": c.code,
                "status": c.status,
                "reason": c.reason,
                "proxy_notes": c.notes,
                "duration_ms": c.duration.as_secs_f64() * 1000.0,
                "seeds": {"client": c.client.seed, "server": c.server.seed},
                "exit": {"client": exit_code(&c.client), "server": exit_code(&c.server)},
                "capture": capture_file(c, format),
                "transcript": transcript_file(c),
                "keylog": serde_json::Value::Null,
                "bulk_check": bulk.then(|| if checksums_compared(c) { "sha256" } else { "length" }),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "schema": "btls-interop-results/1",
        "adapter_contract": CONTRACT_VERSION,
        "seed": m.seed,
        "duration_ms": m.duration.as_secs_f64() * 1000.0,
        "keylog": NO_KEYLOG,
        "summary": {
            "cells": m.cells.len(),
            "succeeded": m.count(CellStatus::Succeeded),
            "failed": m.count(CellStatus::Failed),
            "unsupported": m.count(CellStatus::Unsupported),
        },
        "implementations": implementations,
        "cases": cases,
        "cells": cells,
    }))
    .unwrap_or_default()
}

/// JUnit XML: one test suite per (client, server) pair, one test case per interop case.
pub fn junit(m: &Matrix) -> String {
    let mut report = Report::new("btls-interop");
    for client in &m.implementations {
        for server in &m.implementations {
            let mut suite = TestSuite::new(format!("{} x {}", client.name, server.name));
            for cell in m.pair(&client.name, &server.name) {
                let status = match cell.status {
                    CellStatus::Succeeded => TestCaseStatus::success(),
                    CellStatus::Unsupported => {
                        let mut s = TestCaseStatus::skipped();
                        s.set_message(cell.reason.clone().unwrap_or_default());
                        s
                    }
                    CellStatus::Failed => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(cell.reason.clone().unwrap_or_default());
                        s
                    }
                };
                let mut tc = TestCase::new(cell.case.clone(), status);
                tc.set_classname(format!("interop.{}.{}", client.name, server.name));
                tc.set_time(cell.duration);
                suite.add_test_case(tc);
            }
            report.add_test_suite(suite);
        }
    }
    report.to_string().unwrap_or_default()
}

fn icon(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Succeeded => "✅",
        CellStatus::Failed => "❌",
        CellStatus::Unsupported => "⚪",
    }
}

fn class(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Succeeded => "ok",
        CellStatus::Failed => "bad",
        CellStatus::Unsupported => "grey",
    }
}

fn headline(m: &Matrix) -> String {
    format!(
        "{} implementations, {} cases, {} cells in {:.2} s (seed {}, adapter contract v{}): {} succeeded · {} failed · {} unsupported",
        m.implementations.len(),
        m.cases.len(),
        m.cells.len(),
        m.duration.as_secs_f64(),
        m.seed,
        CONTRACT_VERSION,
        m.count(CellStatus::Succeeded),
        m.count(CellStatus::Failed),
        m.count(CellStatus::Unsupported)
    )
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The Markdown report.
pub fn markdown(m: &Matrix, format: Format) -> String {
    let mut md = String::from("# bTLS interop matrix\n\n");
    let _ = writeln!(md, "{}\n", headline(m));
    let _ = writeln!(
        md,
        "Rows: client implementation; columns: server implementation. ✅ succeeded · ❌ failed · ⚪ unsupported; each code links to the cell's transcript.\n"
    );
    md.push_str("| client \\ server |");
    for s in &m.implementations {
        let _ = write!(md, " {} |", s.name);
    }
    md.push_str("\n|---|");
    for _ in &m.implementations {
        md.push_str("---|");
    }
    md.push('\n');
    for c in &m.implementations {
        let _ = write!(md, "| **{}** |", c.name);
        for s in &m.implementations {
            let codes: Vec<String> = m
                .pair(&c.name, &s.name)
                .map(|cell| {
                    format!(
                        "{}[{}]({})",
                        icon(cell.status),
                        cell.code,
                        transcript_file(cell)
                    )
                })
                .collect();
            let _ = write!(md, " {} |", codes.join(" "));
        }
        md.push('\n');
    }
    let failures = not_succeeded(m);
    if !failures.is_empty() {
        md.push_str("\n## Failed and unsupported cells\n\n| | client | server | case | reason | files |\n|---|---|---|---|---|---|\n");
        for c in failures {
            let _ = writeln!(
                md,
                "| {} | {} | {} | `{}` | {} | [transcript]({}) · [capture]({}) |",
                icon(c.status),
                c.client.implementation,
                c.server.implementation,
                c.case,
                md_cell(c.reason.as_deref().unwrap_or_default()),
                transcript_file(c),
                capture_file(c, format)
            );
        }
    }
    md.push_str("\n## Cases\n\n| code | case | title |");
    let pairs: Vec<(&str, &str)> = m
        .implementations
        .iter()
        .flat_map(|c| {
            m.implementations
                .iter()
                .map(move |s| (c.name.as_str(), s.name.as_str()))
        })
        .collect();
    for (c, s) in &pairs {
        let _ = write!(md, " {c} × {s} |");
    }
    md.push_str("\n|---|---|---|");
    for _ in &pairs {
        md.push_str("---|");
    }
    md.push('\n');
    for case in &m.cases {
        let _ = write!(
            md,
            "| {} | `{}` | {} |",
            case.code,
            case.id,
            md_cell(&case.title)
        );
        for (c, s) in &pairs {
            match m.pair(c, s).find(|cell| cell.case == case.id) {
                Some(cell) => {
                    let _ = write!(
                        md,
                        " {} [txt]({}) [{}]({}) |",
                        icon(cell.status),
                        transcript_file(cell),
                        format.extension(),
                        capture_file(cell, format)
                    );
                }
                None => md.push_str(" — |"),
            }
        }
        md.push('\n');
    }
    let _ = writeln!(md, "\nKey logs: {NO_KEYLOG}.");
    md
}

/// The self-contained HTML report.
pub fn html(m: &Matrix, format: Format) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bTLS interop matrix</title><style>{STYLE}.matrix td{{min-width:12rem}} .chip{{text-decoration:none}} .tally{{font-size:.8rem;color:#57606a}} .cases td:nth-child(n+4){{white-space:nowrap}}</style></head><body><h1>bTLS interop matrix</h1><p>{}</p><p class=legend><span class="b ok">succeeded</span><span class="b bad">failed</span><span class="b grey">unsupported</span> Rows: client implementation; columns: server implementation. Each code is one case (hover for its title and the reason of a failure) and links to the cell's transcript.</p>"#,
        esc(&headline(m))
    );
    h.push_str("<table class=matrix><tr><th>client \\ server</th>");
    for s in &m.implementations {
        let _ = write!(h, "<th>{}</th>", esc(&s.name));
    }
    h.push_str("</tr>");
    for c in &m.implementations {
        let _ = write!(h, "<tr><th>{}</th>", esc(&c.name));
        for s in &m.implementations {
            h.push_str("<td>");
            let cells: Vec<&CellResult> = m.pair(&c.name, &s.name).collect();
            for cell in cells.iter().copied() {
                let title = m
                    .cases
                    .iter()
                    .find(|k| k.id == cell.case)
                    .map_or(cell.case.as_str(), |k| k.title.as_str());
                let tip = match &cell.reason {
                    Some(r) => format!("{}: {title}\n{}: {r}", cell.case, cell.status.as_str()),
                    None => format!("{}: {title}", cell.case),
                };
                let _ = write!(
                    h,
                    "<a class=\"chip {}\" href=\"{}\" title=\"{}\">{}</a>",
                    class(cell.status),
                    esc(&transcript_file(cell)),
                    esc(&tip),
                    esc(&cell.code)
                );
            }
            let ok = cells
                .iter()
                .filter(|c| c.status == CellStatus::Succeeded)
                .count();
            let _ = write!(
                h,
                "<div class=tally>{ok} of {} succeeded</div></td>",
                cells.len()
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    let failures = not_succeeded(m);
    if !failures.is_empty() {
        h.push_str("<h2>Failed and unsupported cells</h2><table><tr><th></th><th>client</th><th>server</th><th>case</th><th>reason</th><th>files</th></tr>");
        for c in failures {
            let _ = write!(
                h,
                "<tr><td><span class=\"b {}\">{}</span></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><a href=\"{}\">transcript</a> · <a href=\"{}\">capture</a></td></tr>",
                class(c.status), c.status.as_str(), esc(&c.client.implementation), esc(&c.server.implementation),
                esc(&c.case), esc(c.reason.as_deref().unwrap_or_default()), esc(&transcript_file(c)), esc(&capture_file(c, format))
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Cases</h2><table class=cases><tr><th>code</th><th>case</th><th>title</th>");
    for c in &m.implementations {
        for s in &m.implementations {
            let _ = write!(h, "<th>{} × {}</th>", esc(&c.name), esc(&s.name));
        }
    }
    h.push_str("</tr>");
    for case in &m.cases {
        let _ = write!(
            h,
            "<tr><td><b>{}</b></td><td><code>{}</code></td><td>{}</td>",
            esc(&case.code),
            esc(&case.id),
            esc(&case.title)
        );
        for c in &m.implementations {
            for s in &m.implementations {
                match m.pair(&c.name, &s.name).find(|cell| cell.case == case.id) {
                    Some(cell) => {
                        let _ = write!(
                            h,
                            "<td><span class=\"b {}\" title=\"{:.0} ms{}\">{}</span> <a href=\"{}\">txt</a> <a href=\"{}\">{}</a></td>",
                            class(cell.status),
                            cell.duration.as_secs_f64() * 1000.0,
                            esc(&cell.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()),
                            cell.status.as_str(),
                            esc(&transcript_file(cell)),
                            esc(&capture_file(cell, format)),
                            format.extension()
                        );
                    }
                    None => h.push_str("<td>—</td>"),
                }
            }
        }
        h.push_str("</tr>");
    }
    let _ = writeln!(
        h,
        "</table><p>Key logs: {}.</p></body></html>",
        esc(NO_KEYLOG)
    );
    h
}

/// The cells that did not succeed (failed or unsupported), in matrix order.
fn not_succeeded(m: &Matrix) -> Vec<&CellResult> {
    m.cells
        .iter()
        .filter(|c| c.status != CellStatus::Succeeded)
        .collect()
}
