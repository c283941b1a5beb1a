//! The figures of a run (each measurement with its ratios to the baselines of the same run) and
//! the comparison with a saved baseline.

use super::*;

impl Results {
    pub(super) fn ns(&self, id: &str) -> Option<f64> {
        self.measurements.get(id).map(|m| m.ns)
    }

    pub(super) fn mb_s(&self, id: &str) -> Option<f64> {
        let m = self.measurements.get(id)?;
        Some(m.bytes? as f64 * 1e3 / m.ns)
    }

    pub(super) fn openssl_mb_s(&self, suite: &str) -> Option<f64> {
        self.machine
            .get("openssl_speed_16k_mb_s")?
            .get(suite)?
            .as_f64()
    }

    /// Builds the figure table from the measurements (the ratios the issue asks for).
    pub fn compute_figures(&mut self) {
        let mut figures = Vec::new();
        let per_s = |ns: f64| 1e9 / ns;
        for alg in [ED, P256] {
            let Some(full) = self.ns(&format!("handshake-full/btls/{alg}")) else {
                continue;
            };
            let mut ratios = Vec::new();
            if alg == ED {
                if let Some(r) = self.ns(&format!("handshake-full/rustls/{ED}")) {
                    ratios.push(Ratio {
                        against: "rustls TLS 1.3 full (server auth)".into(),
                        value: r / full,
                        target: Some(1.2),
                    });
                }
                if let Some(r) = self.ns(&format!("handshake-full/rustls-mutual/{ED}")) {
                    ratios.push(Ratio {
                        against: "rustls TLS 1.3 full (mutual auth)".into(),
                        value: r / full,
                        target: None,
                    });
                }
            }
            if let Some(f) = self.ns(&format!("handshake-full/floor-btls/{alg}")) {
                // The targets are stated for the configuration rustls is measured in;
                // P-256's share is shown without one (its RFC 6979 signing is RustCrypto's).
                ratios.push(Ratio {
                    against: "crypto floor (share reached)".into(),
                    value: f / full,
                    target: (alg == ED).then_some(0.6),
                });
            }
            figures.push(Figure {
                id: format!("full/{alg}"),
                title: format!("bTLS full handshake pairs, {alg}, in memory"),
                value: per_s(full),
                unit: "pairs/CPU-s".into(),
                ratios,
            });
            if let Some(resumed) = self.ns(&format!("handshake-resumed/btls/{alg}")) {
                let mut ratios = vec![Ratio {
                    against: "own full handshake".into(),
                    value: full / resumed,
                    target: Some(1.5),
                }];
                if alg == ED {
                    if let Some(r) = self.ns(&format!("handshake-resumed/rustls/{ED}")) {
                        ratios.push(Ratio {
                            against: "rustls TLS 1.3 resumed".into(),
                            value: r / resumed,
                            target: None,
                        });
                    }
                }
                if let Some(f) = self.ns(&format!("handshake-resumed/floor/{alg}")) {
                    ratios.push(Ratio {
                        against: "crypto floor (share reached)".into(),
                        value: f / resumed,
                        target: None,
                    });
                }
                figures.push(Figure {
                    id: format!("resumed/{alg}"),
                    title: format!("bTLS resumed handshake pairs, {alg}, in memory"),
                    value: per_s(resumed),
                    unit: "pairs/CPU-s".into(),
                    ratios,
                });
            }
        }
        if let (Some(r), Some(f)) = (
            self.ns(&format!("handshake-full/rustls/{ED}")),
            self.ns(&format!("handshake-full/floor-rustls/{ED}")),
        ) {
            figures.push(Figure {
                id: "rustls-full".into(),
                title: "rustls TLS 1.3 full handshake pairs (the baseline), in memory".into(),
                value: per_s(r),
                unit: "pairs/CPU-s".into(),
                ratios: vec![Ratio {
                    against: "its crypto floor (share reached)".into(),
                    value: f / r,
                    target: None,
                }],
            });
        }
        for suite in [AES, CHACHA] {
            let Some(ours) = self.mb_s(&format!("bulk/btls/{suite}")) else {
                continue;
            };
            let mut ratios = Vec::new();
            if suite == AES {
                if let Some(r) = self.mb_s(&format!("bulk/rustls/{AES}")) {
                    ratios.push(Ratio {
                        against: "rustls AES-256-GCM".into(),
                        value: ours / r,
                        target: Some(1.0),
                    });
                }
            }
            if let Some(f) = self.mb_s(&format!("bulk/floor/{suite}")) {
                ratios.push(Ratio {
                    against: "aws-lc-rs AEAD alone (floor)".into(),
                    value: ours / f,
                    target: None,
                });
            }
            if let Some(o) = self.openssl_mb_s(suite) {
                // Send and receive on one core: each byte is sealed and opened, so the machine's
                // limit for the pair is half of openssl's one-direction speed.
                ratios.push(Ratio {
                    against: "openssl speed (seal + open: half its rate)".into(),
                    value: ours / (o / 2.0),
                    target: None,
                });
            }
            figures.push(Figure {
                id: format!("bulk/{suite}"),
                title: format!("bTLS bulk send + receive, 16 KiB records, {suite}, one core"),
                value: ours,
                unit: "MB/CPU-s".into(),
                ratios,
            });
        }
        for kind in ["full", "resumed"] {
            if let (Some(ours), Some(r)) = (
                self.ns(&format!("loopback-{kind}/btls/{ED}")),
                self.ns(&format!("loopback-{kind}/rustls/{ED}")),
            ) {
                figures.push(Figure {
                    id: format!("loopback-{kind}"),
                    title: format!(
                        "bTLS {kind} connections over loopback TCP, {ED} (one at a time)"
                    ),
                    value: per_s(ours),
                    unit: "connections/s (wall)".into(),
                    ratios: vec![Ratio {
                        against: "rustls over loopback".into(),
                        value: r / ours,
                        target: None,
                    }],
                });
            }
        }
        let ins = |name: &str| self.instructions.get(name).map(|i| i.per_unit);
        if let Some(ours) = ins(&format!("btls-full/{ED}")) {
            let mut ratios = Vec::new();
            if let Some(r) = ins(&format!("rustls-full/{ED}")) {
                ratios.push(Ratio {
                    against: "rustls full (instructions)".into(),
                    value: r / ours,
                    target: None,
                });
            }
            if let Some(f) = ins(&format!("floor-btls-full/{ED}")) {
                ratios.push(Ratio {
                    against: "crypto floor (instructions)".into(),
                    value: f / ours,
                    target: None,
                });
            }
            figures.push(Figure {
                id: "instructions/full".into(),
                title: format!("Instructions per bTLS full handshake pair, {ED}"),
                value: ours,
                unit: "instructions (lower is better; ratios: higher is better)".into(),
                ratios,
            });
        }
        self.figures = figures;
    }
}

pub(super) fn verdict(better_by: f64, threshold: f64, separated: bool) -> Verdict {
    if separated && better_by < -threshold {
        Verdict::Regression
    } else if separated && better_by > threshold {
        Verdict::Improvement
    } else {
        Verdict::WithinNoise
    }
}

/// Compares this run with the baseline (see the module's note on noise).
pub fn compare(current: &Results, baseline: &Results) -> Vec<Change> {
    let mut out = Vec::new();
    for (id, cur) in &current.measurements {
        let Some(base) = baseline.measurements.get(id) else {
            continue;
        };
        let threshold = if cur.clock == "wall" {
            NOISE_WALL
        } else {
            NOISE_CPU
        };
        let separated = cur.lower_ns > base.upper_ns || cur.upper_ns < base.lower_ns;
        let better_by = base.ns / cur.ns - 1.0;
        out.push(Change {
            id: id.clone(),
            kind: "time",
            baseline: base.ns,
            current: cur.ns,
            better_by,
            threshold,
            verdict: verdict(better_by, threshold, separated),
        });
    }
    for (id, cur) in &current.instructions {
        let Some(base) = baseline.instructions.get(id) else {
            continue;
        };
        let better_by = base.per_unit / cur.per_unit - 1.0;
        out.push(Change {
            id: id.clone(),
            kind: "instructions",
            baseline: base.per_unit,
            current: cur.per_unit,
            better_by,
            threshold: NOISE_INSTRUCTIONS,
            verdict: verdict(better_by, NOISE_INSTRUCTIONS, true),
        });
    }
    for fig in &current.figures {
        let Some(base) = baseline.figures.iter().find(|f| f.id == fig.id) else {
            continue;
        };
        for r in &fig.ratios {
            let Some(b) = base.ratios.iter().find(|b| b.against == r.against) else {
                continue;
            };
            let better_by = r.value / b.value - 1.0;
            out.push(Change {
                id: format!("{} ÷ {}", fig.id, r.against),
                kind: "ratio",
                baseline: b.value,
                current: r.value,
                better_by,
                threshold: NOISE_CPU,
                verdict: verdict(better_by, NOISE_CPU, true),
            });
        }
    }
    for cur in &current.iut_bench {
        let name = cur.get("iut").and_then(|v| v.as_str()).unwrap_or("iut");
        let Some(base) = baseline
            .iut_bench
            .iter()
            .find(|b| b.get("iut").and_then(|v| v.as_str()) == Some(name))
        else {
            continue;
        };
        for (label, value) in iut_rates(cur) {
            let Some((_, b)) = iut_rates(base).into_iter().find(|(l, _)| *l == label) else {
                continue;
            };
            let better_by = value / b - 1.0;
            out.push(Change {
                id: format!("iut {name}: {label}"),
                kind: "iut",
                baseline: b,
                current: value,
                better_by,
                threshold: NOISE_WALL,
                verdict: verdict(better_by, NOISE_WALL, true),
            });
        }
    }
    out
}

/// The rates of one `btls-harness bench` result: label and value (higher is better).
pub(super) fn iut_rates(doc: &serde_json::Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for kind in ["full", "resumed"] {
        if let Some(v) = doc
            .get(kind)
            .filter(|r| r.get("status").and_then(|s| s.as_str()) == Some("ok"))
            .and_then(|r| r.get("per_second"))
            .and_then(serde_json::Value::as_f64)
        {
            out.push((format!("{kind} handshakes/s"), v));
        }
    }
    for b in doc
        .get("bulk")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
    {
        if let (Some(dir), Some(v)) = (
            b.get("direction").and_then(|d| d.as_str()),
            b.get("mb_per_second").and_then(serde_json::Value::as_f64),
        ) {
            out.push((format!("bulk {dir} MB/s"), v));
        }
    }
    out
}
