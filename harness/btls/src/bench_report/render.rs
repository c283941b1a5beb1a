//! The report as Markdown and self-contained HTML.

use super::figures::iut_rates;
use super::svg::*;
use super::*;
use harness_core::report::esc;
use std::fmt::Write as _;
use std::path::Path;

pub(super) fn fmt_num(v: f64) -> String {
    if v >= 100.0 {
        let int = v.round() as i64;
        let digits = int.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if int < 0 {
            out.insert(0, '-');
        }
        out
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_ratio(r: &Ratio) -> String {
    let pct = r.against.contains("share") || r.against.contains("floor");
    let value = if pct {
        format!("{:.0}%", r.value * 100.0)
    } else {
        format!("{:.2}×", r.value)
    };
    match (r.target, r.met()) {
        (Some(t), Some(met)) => {
            let target = if pct {
                format!("{:.0}%", t * 100.0)
            } else {
                format!("{t:.1}×")
            };
            format!(
                "{value} (target ≥ {target}: {})",
                if met { "met" } else { "MISSED" }
            )
        }
        _ => value,
    }
}

fn fmt_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// The written report's inputs and outputs.
#[derive(Debug)]
pub struct Rendered {
    /// `report.md`.
    pub markdown: String,
    /// `report.html`.
    pub html: String,
    /// `charts/NAME.svg`.
    pub charts: Vec<(String, String)>,
}

fn chart_bars(results: &Results) -> Vec<(String, String, String)> {
    let mut charts = Vec::new();
    let m = |id: &str| results.ns(id);
    let mut hs = Vec::new();
    for (label, id, color) in [
        (
            "bTLS full, Ed25519",
            format!("handshake-full/btls/{ED}"),
            OURS,
        ),
        (
            "bTLS full, P-256",
            format!("handshake-full/btls/{P256}"),
            OURS,
        ),
        (
            "rustls TLS 1.3 full",
            format!("handshake-full/rustls/{ED}"),
            RUSTLS,
        ),
        (
            "rustls TLS 1.3 full, mutual",
            format!("handshake-full/rustls-mutual/{ED}"),
            RUSTLS,
        ),
        (
            "crypto floor, bTLS Ed25519",
            format!("handshake-full/floor-btls/{ED}"),
            FLOOR,
        ),
        (
            "crypto floor, bTLS P-256",
            format!("handshake-full/floor-btls/{P256}"),
            FLOOR,
        ),
        (
            "bTLS resumed, Ed25519",
            format!("handshake-resumed/btls/{ED}"),
            OURS,
        ),
        (
            "bTLS resumed, P-256",
            format!("handshake-resumed/btls/{P256}"),
            OURS,
        ),
        (
            "rustls TLS 1.3 resumed",
            format!("handshake-resumed/rustls/{ED}"),
            RUSTLS,
        ),
        (
            "crypto floor, resumed Ed25519",
            format!("handshake-resumed/floor/{ED}"),
            FLOOR,
        ),
    ] {
        if let Some(ns) = m(&id) {
            hs.push(Bar {
                label: label.into(),
                value: 1e9 / ns,
                text: format!("{}/s", fmt_num(1e9 / ns)),
                color,
            });
        }
    }
    if !hs.is_empty() {
        charts.push((
            "handshakes".to_owned(),
            "Handshake pairs per CPU-second (in memory, higher is better)".to_owned(),
            bar_chart(
                "Handshake pairs per CPU-second (in memory, higher is better)",
                &hs,
                None,
            ),
        ));
    }
    let mut bulk = Vec::new();
    for suite in [AES, CHACHA] {
        for (label, id, color) in [
            ("bTLS", format!("bulk/btls/{suite}"), OURS),
            ("rustls", format!("bulk/rustls/{suite}"), RUSTLS),
            ("AEAD alone (floor)", format!("bulk/floor/{suite}"), FLOOR),
        ] {
            if let Some(v) = results.mb_s(&id) {
                bulk.push(Bar {
                    label: format!("{label}, {suite}"),
                    value: v,
                    text: format!("{} MB/s", fmt_num(v)),
                    color,
                });
            }
        }
        if let Some(o) = results.openssl_mb_s(suite) {
            bulk.push(Bar {
                label: format!("openssl speed ÷ 2, {suite}"),
                value: o / 2.0,
                text: format!("{} MB/s", fmt_num(o / 2.0)),
                color: OPENSSL,
            });
        }
    }
    if !bulk.is_empty() {
        let title = "Bulk send + receive on one core, 16 KiB records, MB per CPU-second";
        charts.push((
            "bulk".to_owned(),
            title.to_owned(),
            bar_chart(title, &bulk, None),
        ));
    }
    let mut targets = Vec::new();
    for f in &results.figures {
        for r in &f.ratios {
            if let Some(t) = r.target {
                targets.push(Bar {
                    label: format!("{} ÷ {}", f.id, r.against),
                    value: r.value / t,
                    text: format!("{} (target {t})", fmt_ratio_short(r)),
                    color: if r.value >= t { GOOD } else { BAD },
                });
            }
        }
    }
    if !targets.is_empty() {
        let title = "Targets: each ratio as a share of its target (the line is the target)";
        charts.push((
            "targets".to_owned(),
            title.to_owned(),
            bar_chart(title, &targets, Some((1.0, "target"))),
        ));
    }
    let mut ins = Vec::new();
    for (name, i) in &results.instructions {
        if i.unit.contains("handshake") {
            ins.push(Bar {
                label: name.clone(),
                value: i.per_unit,
                text: format!("{} M", fmt_num(i.per_unit / 1e6)),
                color: if name.starts_with("btls") {
                    OURS
                } else if name.starts_with("rustls") {
                    RUSTLS
                } else {
                    FLOOR
                },
            });
        }
    }
    if !ins.is_empty() {
        let title = "Instructions per handshake pair (callgrind, lower is better)";
        charts.push((
            "instructions".to_owned(),
            title.to_owned(),
            bar_chart(title, &ins, None),
        ));
    }
    if let Some(bars) = breakdown(results) {
        let title = "Where a bTLS Ed25519 full handshake pair's CPU time goes";
        charts.push((
            "breakdown".to_owned(),
            title.to_owned(),
            bar_chart(title, &bars, None),
        ));
    }
    charts
}

fn fmt_ratio_short(r: &Ratio) -> String {
    if r.against.contains("share") || r.against.contains("floor") {
        format!("{:.0}%", r.value * 100.0)
    } else {
        format!("{:.2}×", r.value)
    }
}

/// The full Ed25519 pair's time split into the primitives it needs (counts from the floor's
/// table) and the rest.
fn breakdown(results: &Results) -> Option<Vec<Bar>> {
    let pair = results.ns(&format!("handshake-full/btls/{ED}"))?;
    let p = |name: &str| results.ns(&format!("primitive/{name}"));
    let parts = [
        ("2 × X25519 key generation", 2.0 * p("x25519-keygen")?),
        ("2 × X25519 agreement", 2.0 * p("x25519-agree")?),
        ("2 × Ed25519 signature", 2.0 * p("ed25519-sign")?),
        ("2 × Ed25519 verification", 2.0 * p("ed25519-verify")?),
        (
            "HKDF, HMAC, SHA-256, AEAD keys (×2 sides)",
            2.0 * (10.0 * p("hkdf-expand")?
                + 3.0 * p("hmac-sha256")?
                + p("transcript-sha256")?
                + 2.0 * p("aead-key-setup")?),
        ),
    ];
    let crypto: f64 = parts.iter().map(|(_, v)| v).sum();
    let mut bars: Vec<Bar> = parts
        .iter()
        .map(|(label, ns)| Bar {
            label: (*label).to_owned(),
            value: *ns,
            text: format!("{} ({:.0}%)", fmt_time(*ns), ns / pair * 100.0),
            color: FLOOR,
        })
        .collect();
    let rest = (pair - crypto).max(0.0);
    bars.push(Bar {
        label: "protocol, codec, allocation, the rest".into(),
        value: rest,
        text: format!("{} ({:.0}%)", fmt_time(rest), rest / pair * 100.0),
        color: OURS,
    });
    Some(bars)
}

fn machine_rows(machine: &serde_json::Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for (key, label) in [
        ("date", "date (UTC)"),
        ("cpu", "CPU"),
        ("cpu_features", "CPU features used by the crypto"),
        ("hypervisor", "hypervisor"),
        ("cores", "cores"),
        ("memory_gib", "memory (GiB)"),
        ("kernel", "kernel"),
        ("rustc", "rustc"),
        ("openssl", "openssl"),
        ("valgrind", "valgrind"),
        ("load_average_at_start", "load average at start"),
    ] {
        if let Some(v) = machine.get(key) {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            rows.push((label.to_owned(), text));
        }
    }
    rows
}

/// Renders the report of `results`, compared with `baseline` if there is one.
pub fn render(results: &Results, baseline: Option<(&Results, &Path)>) -> Rendered {
    let changes = baseline
        .map(|(b, _)| compare(results, b))
        .unwrap_or_default();
    let mut charts: Vec<(String, String, String)> = chart_bars(results);
    let notable: Vec<&Change> = changes
        .iter()
        .filter(|c| c.kind != "time" || c.verdict != Verdict::WithinNoise)
        .collect();
    if !notable.is_empty() {
        let title = "Against the baseline: relative change (red: regression beyond noise)";
        charts.push((
            "baseline".to_owned(),
            title.to_owned(),
            change_chart(title, &notable),
        ));
    }
    let regressions: Vec<&Change> = changes
        .iter()
        .filter(|c| c.verdict == Verdict::Regression)
        .collect();

    let mut md = String::new();
    let mut html = String::new();
    let _ = writeln!(md, "# bTLS benchmark comparison report\n");
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>bTLS benchmark report</title><style>{CSS}</style></head><body><h1>bTLS benchmark comparison report</h1>"
    );
    let verdict_line = match (baseline, regressions.len()) {
        (None, _) => "No baseline to compare with.".to_owned(),
        (Some((_, p)), 0) => format!(
            "Compared with `{}`: no regression beyond the noise.",
            p.display()
        ),
        (Some((_, p)), n) => format!(
            "Compared with `{}`: **{n} regression(s) beyond the noise**.",
            p.display()
        ),
    };
    let misses: Vec<String> = results
        .figures
        .iter()
        .flat_map(|f| {
            f.ratios
                .iter()
                .filter(|r| r.met() == Some(false))
                .map(move |r| format!("{} ÷ {}", f.id, r.against))
        })
        .collect();
    let target_line = if misses.is_empty() {
        "Every target is met.".to_owned()
    } else {
        format!("Targets missed: {}.", misses.join("; "))
    };
    let _ = writeln!(md, "{verdict_line} {target_line}\n");
    let _ = write!(
        html,
        "<p class=\"{}\">{} {}</p>",
        if regressions.is_empty() && misses.is_empty() {
            "ok"
        } else {
            "bad"
        },
        esc(&verdict_line).replace("**", ""),
        esc(&target_line)
    );

    // Figures.
    let _ = writeln!(
        md,
        "## Figures and ratios\n\nEach ratio compares two measurements of this run (higher is better).\n\n| figure | value | ratios |\n|---|---:|---|"
    );
    let _ = write!(
        html,
        "<h2>Figures and ratios</h2><p>Each ratio compares two measurements of this run (higher is better).</p><table><tr><th>figure</th><th>value</th><th>ratios</th></tr>"
    );
    for f in &results.figures {
        let ratios: Vec<String> = f
            .ratios
            .iter()
            .map(|r| format!("{}: {}", r.against, fmt_ratio(r)))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} {} | {} |",
            f.title,
            fmt_num(f.value),
            f.unit,
            ratios.join("<br>")
        );
        let cells: Vec<String> = f
            .ratios
            .iter()
            .map(|r| {
                let class = match r.met() {
                    Some(true) => "ok",
                    Some(false) => "bad",
                    None => "",
                };
                format!(
                    "<span class=\"{class}\">{}: {}</span>",
                    esc(&r.against),
                    esc(&fmt_ratio(r))
                )
            })
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"num\">{} {}</td><td>{}</td></tr>",
            esc(&f.title),
            fmt_num(f.value),
            esc(&f.unit),
            cells.join("<br>")
        );
    }
    html.push_str("</table>");

    // Charts.
    let _ = writeln!(md, "\n## Charts\n");
    html.push_str("<h2>Charts</h2>");
    for (name, title, svg) in &charts {
        let _ = writeln!(md, "![{title}](charts/{name}.svg)\n");
        let _ = write!(html, "<figure>{svg}</figure>");
    }

    // Baseline.
    if let Some((_, path)) = baseline {
        let _ = writeln!(
            md,
            "## Against the baseline\n\nBaseline: `{}`. Noise: a change counts only beyond ±{:.0}% of CPU time (and outside both runs' 95% confidence intervals), ±{:.0}% of wall time, ±{:.0}% of instructions, ±{:.0}% of a ratio. Positive is better.\n\n| measurement | kind | baseline | current | change | verdict |\n|---|---|---:|---:|---:|---|",
            path.display(),
            NOISE_CPU * 100.0,
            NOISE_WALL * 100.0,
            NOISE_INSTRUCTIONS * 100.0,
            NOISE_CPU * 100.0
        );
        let _ = write!(
            html,
            "<h2>Against the baseline</h2><p>Baseline: <code>{}</code>. Noise: a change counts only beyond ±{:.0}% of CPU time (and outside both runs' 95% confidence intervals), ±{:.0}% of wall time, ±{:.0}% of instructions, ±{:.0}% of a ratio. Positive is better.</p><table><tr><th>measurement</th><th>kind</th><th>baseline</th><th>current</th><th>change</th><th>verdict</th></tr>",
            esc(&path.display().to_string()),
            NOISE_CPU * 100.0,
            NOISE_WALL * 100.0,
            NOISE_INSTRUCTIONS * 100.0,
            NOISE_CPU * 100.0
        );
        let mut sorted: Vec<&Change> = changes.iter().collect();
        sorted.sort_by(|a, b| a.better_by.total_cmp(&b.better_by));
        for c in sorted {
            let (b, cur) = match c.kind {
                "time" => (fmt_time(c.baseline), fmt_time(c.current)),
                _ => (fmt_num(c.baseline), fmt_num(c.current)),
            };
            let v = match c.verdict {
                Verdict::Regression => "**regression**",
                Verdict::Improvement => "improvement",
                Verdict::WithinNoise => "within noise",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {b} | {cur} | {:+.1}% | {v} |",
                c.id,
                c.kind,
                c.better_by * 100.0
            );
            let class = match c.verdict {
                Verdict::Regression => "bad",
                Verdict::Improvement => "ok",
                Verdict::WithinNoise => "",
            };
            let _ = write!(
                html,
                "<tr class=\"{class}\"><td>{}</td><td>{}</td><td class=\"num\">{b}</td><td class=\"num\">{cur}</td><td class=\"num\">{:+.1}%</td><td>{}</td></tr>",
                esc(&c.id),
                c.kind,
                c.better_by * 100.0,
                v.replace("**", "")
            );
        }
        html.push_str("</table>");
    }

    // IUT bench.
    if !results.iut_bench.is_empty() {
        let _ = writeln!(
            md,
            "\n## Implementations over the adapter contract (`btls-harness bench`)\n\nWall time on loopback against the reference peer; the first row is the reference for the ratios.\n\n| IUT | role | processes | full handshakes/s | resumed handshakes/s | IUT receives MB/s | IUT sends MB/s |\n|---|---|---:|---:|---:|---:|---:|"
        );
        html.push_str("<h2>Implementations over the adapter contract (<code>btls-harness bench</code>)</h2><p>Wall time on loopback against the reference peer; the first row is the reference for the ratios.</p><table><tr><th>IUT</th><th>role</th><th>processes</th><th>full handshakes/s</th><th>resumed handshakes/s</th><th>IUT receives MB/s</th><th>IUT sends MB/s</th></tr>");
        let first = results.iut_bench.first().map(iut_rates).unwrap_or_default();
        for doc in &results.iut_bench {
            let rates = iut_rates(doc);
            let cell = |label: &str| -> String {
                let Some((_, v)) = rates.iter().find(|(l, _)| l == label) else {
                    return "unsupported".into();
                };
                match first.iter().find(|(l, _)| l == label) {
                    Some((_, f))
                        if *f > 0.0
                            && !results
                                .iut_bench
                                .first()
                                .is_some_and(|r| std::ptr::eq(doc, r)) =>
                    {
                        format!("{} ({:.2}×)", fmt_num(*v), v / f)
                    }
                    _ => fmt_num(*v),
                }
            };
            let s = |k: &str| {
                doc.get(k)
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_default()
            };
            let row = [
                s("iut"),
                s("role"),
                s("concurrency"),
                cell("full handshakes/s"),
                cell("resumed handshakes/s"),
                cell("bulk iut-receives MB/s"),
                cell("bulk iut-sends MB/s"),
            ];
            let _ = writeln!(md, "| {} |", row.join(" | "));
            let _ = write!(
                html,
                "<tr>{}</tr>",
                row.iter()
                    .map(|c| format!("<td>{}</td>", esc(c)))
                    .collect::<String>()
            );
        }
        html.push_str("</table>");
    }

    // Every measurement.
    let _ = writeln!(
        md,
        "\n## Every measurement\n\nCriterion's mean per iteration with its 95% confidence interval; CPU time of the benchmark thread unless marked wall.\n\n| benchmark | mean | 95% interval | throughput |\n|---|---:|---:|---:|"
    );
    html.push_str("<h2>Every measurement</h2><p>Criterion's mean per iteration with its 95% confidence interval; CPU time of the benchmark thread unless marked wall.</p><table><tr><th>benchmark</th><th>mean</th><th>95% interval</th><th>throughput</th></tr>");
    for (id, m) in &results.measurements {
        let tput = match m.bytes {
            Some(b) => format!("{} MB/s", fmt_num(b as f64 * 1e3 / m.ns)),
            None => format!("{}/s", fmt_num(1e9 / m.ns)),
        };
        let clock = if m.clock == "wall" { " (wall)" } else { "" };
        let row = [
            format!("{id}{clock}"),
            fmt_time(m.ns),
            format!("{} – {}", fmt_time(m.lower_ns), fmt_time(m.upper_ns)),
            tput,
        ];
        let _ = writeln!(md, "| {} |", row.join(" | "));
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&row[0]),
            row[1],
            row[2],
            row[3]
        );
    }
    html.push_str("</table>");
    if !results.instructions.is_empty() {
        let _ = writeln!(
            md,
            "\n## Instruction counts (callgrind)\n\nStable where wall time on a shared machine is not. Valgrind hides AVX-512, so aws-lc runs its AVX2 code here.\n\n| workload | instructions per unit | unit | per byte |\n|---|---:|---|---:|"
        );
        html.push_str("<h2>Instruction counts (callgrind)</h2><p>Stable where wall time on a shared machine is not. Valgrind hides AVX-512, so aws-lc runs its AVX2 code here.</p><table><tr><th>workload</th><th>instructions per unit</th><th>unit</th><th>per byte</th></tr>");
        for (name, i) in &results.instructions {
            let per_byte = i.per_byte.map(|b| format!("{b:.2}")).unwrap_or_default();
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {per_byte} |",
                fmt_num(i.per_unit),
                i.unit
            );
            let _ = write!(
                html,
                "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{per_byte}</td></tr>",
                esc(name),
                fmt_num(i.per_unit),
                esc(&i.unit)
            );
        }
        html.push_str("</table>");
    }

    // Machine.
    let _ = writeln!(md, "\n## The machine\n\n| | |\n|---|---|");
    html.push_str("<h2>The machine</h2><table>");
    for (k, v) in machine_rows(&results.machine) {
        let _ = writeln!(md, "| {k} | {v} |");
        let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    for suite in [AES, CHACHA] {
        if let Some(o) = results.openssl_mb_s(suite) {
            let k = format!("openssl speed -evp, 16 KiB, {suite}");
            let v = format!("{} MB/s", fmt_num(o));
            let _ = writeln!(md, "| {k} | {v} |");
            let _ = write!(html, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
        }
    }
    html.push_str("</table>");
    let _ = writeln!(md, "\n## How to read this\n\n{HOW_TO_READ}");
    let _ = writeln!(
        html,
        "<h2>How to read this</h2><p>{}</p></body></html>",
        esc(&format!("\n{HOW_TO_READ}"))
            .replace("\n\n", "</p><p>")
            .replace("\n- ", "<br>• ")
    );
    Rendered {
        markdown: md,
        html,
        charts: charts.into_iter().map(|(n, _, s)| (n, s)).collect(),
    }
}

const HOW_TO_READ: &str = "- Handshake pairs: one client and one server connection driven against each other in memory on one core, from nothing to both established; per CPU-second of the benchmark thread.
- Crypto floor: only the primitives one pair needs (ephemeral keys, ECDH, signatures, verifications, HKDF, HMAC, SHA-256, AEAD key setup), from aws-lc-rs; the share reached is floor time ÷ measured time.
- rustls: TLS 1.3 with aws-lc-rs, an Ed25519 certificate signed by an Ed25519 CA, X25519, AES-256-GCM-SHA384; server authentication as usually deployed (and a mutual variant, since every bTLS handshake is mutual).
- Bulk: the client seals 16 KiB, the server opens it and the application reads it out, on one core. openssl speed measures one direction, so the limit for seal + open is half its rate.
- Loopback: one connection at a time over TCP (connect, handshake, close_notify both ways), wall time; bTLS needs three round trips where TLS 1.3 needs one, so latency, not CPU, decides here.
- btls-harness bench: any implementation through its adapter, against the reference peer, wall time.";

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1a202c}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#2f855a}.bad{color:#c53030;font-weight:600}tr.bad td{background:#fff5f5}figure{margin:1em 0}code{background:#edf2f7;padding:0 3px}";
