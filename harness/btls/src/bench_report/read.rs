//! Reading criterion's estimates and callgrind's instruction counts.

use super::*;
use crate::Error;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads every `*/new/benchmark.json` and its `estimates.json` under criterion's folder.
pub fn read_criterion(dir: &Path) -> Result<BTreeMap<String, Measurement>, Error> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(Error::read(&d))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                if let Some((id, m)) = read_estimate(&path)? {
                    out.insert(id, m);
                }
            } else if path.file_name().is_some_and(|n| n != "report") {
                stack.push(path);
            }
        }
    }
    Ok(out)
}

fn read_json(path: &Path) -> Result<serde_json::Value, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::read(path))?;
    serde_json::from_str(&text).map_err(Error::json(path))
}

fn read_estimate(dir: &Path) -> Result<Option<(String, Measurement)>, Error> {
    let bench = dir.join("benchmark.json");
    let estimates = dir.join("estimates.json");
    if !bench.exists() || !estimates.exists() {
        return Ok(None);
    }
    let bench = read_json(&bench)?;
    let est = read_json(&estimates)?;
    let Some(id) = bench.get("full_id").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let mean = est.get("mean");
    let num = |path: &[&str]| -> Option<f64> {
        let mut v = mean?;
        for p in path {
            v = v.get(p)?;
        }
        v.as_f64()
    };
    let (Some(ns), Some(lower_ns), Some(upper_ns)) = (
        num(&["point_estimate"]),
        num(&["confidence_interval", "lower_bound"]),
        num(&["confidence_interval", "upper_bound"]),
    ) else {
        return Ok(None);
    };
    let bytes = bench
        .get("throughput")
        .and_then(|t| t.get("Bytes"))
        .and_then(serde_json::Value::as_u64);
    let clock = if id.starts_with("loopback") {
        "wall"
    } else {
        "cpu"
    };
    Ok(Some((
        id.to_owned(),
        Measurement {
            ns,
            lower_ns,
            upper_ns,
            clock: clock.to_owned(),
            bytes,
        },
    )))
}

/// Reads `callgrind.json` from `scripts/bench-callgrind.sh`.
pub fn read_callgrind(path: &Path) -> Result<BTreeMap<String, Instructions>, Error> {
    let doc = read_json(path)?;
    let mut out = BTreeMap::new();
    for w in doc
        .get("workloads")
        .and_then(|w| w.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(name), Some(per_unit)) = (
            w.get("name").and_then(|v| v.as_str()),
            w.get("per_unit").and_then(serde_json::Value::as_f64),
        ) else {
            continue;
        };
        out.insert(
            name.to_owned(),
            Instructions {
                per_unit,
                unit: w
                    .get("unit")
                    .and_then(|v| v.as_str())
                    .unwrap_or("unit")
                    .to_owned(),
                per_byte: w.get("per_byte").and_then(serde_json::Value::as_f64),
            },
        );
    }
    Ok(out)
}
