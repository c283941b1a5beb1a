//! The adapter contract's vector mode: the harness hands an IUT one vector file at a time
//! (`ADAPTER --vectors FILE`), the IUT answers each test with a JSON line, and the harness judges
//! the answers — so an implementation can be checked before it can run a handshake.

use super::{judge, Answer, VectorError};
use crate::events::Event;
use crate::Error;
use harness_core::process::{Iut, EXIT_UNSUPPORTED};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How an IUT did on the vectors.
#[derive(Debug, Clone, Default)]
pub struct VectorRun {
    /// Tests answered as the vectors expect.
    pub passed: usize,
    /// Wrong or missing answers.
    pub failures: Vec<VectorError>,
    /// Files the IUT does not support (it exited 89), with its reason.
    pub unsupported: Vec<(String, String)>,
}

/// One answer line: `{"event":"vector","tcId":N,"result":"valid"|"invalid","alert":…}`.
fn answer(line: &Value) -> Option<(u64, Answer)> {
    let Some(Event::Vector {
        tc_id,
        result,
        alert,
        ..
    }) = Event::from_value(line)
    else {
        return None;
    };
    let valid = match result.as_str() {
        "valid" => true,
        "invalid" => false,
        _ => return None,
    };
    Some((
        tc_id,
        Answer {
            valid,
            alert,
            detail: String::new(),
        },
    ))
}

/// Runs `iut` in vector mode over every vector file in `dir`.
pub fn check_iut(iut: &Iut, dir: &Path, timeout: Duration) -> Result<VectorRun, Error> {
    let mut run = VectorRun::default();
    for file in super::generate_all() {
        let path = dir.join(file.name);
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(Error::read(&path))?;
        let doc: Value = serde_json::from_str(&text).map_err(Error::json(&path))?;
        let running = iut.start(&["--vectors".to_owned(), path.display().to_string()])?;
        let finished = running.finish(timeout);
        if finished.code == Some(EXIT_UNSUPPORTED) {
            run.unsupported.push((
                name,
                finished
                    .stderr
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ));
            continue;
        }
        if finished.killed {
            run.failures.push(VectorError {
                file: name.clone(),
                tc_id: 0,
                message: "the IUT did not finish in time and was killed".into(),
            });
        }
        let answers: BTreeMap<u64, Answer> = finished.events.iter().filter_map(answer).collect();
        for group in doc
            .get("testGroups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for test in group
                .get("tests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let tc_id = test.get("tcId").and_then(Value::as_u64).unwrap_or(0);
                let outcome = match answers.get(&tc_id) {
                    Some(a) => judge(test, a),
                    None => Err("no answer".to_owned()),
                };
                match outcome {
                    Ok(()) => run.passed += 1,
                    Err(message) => run.failures.push(VectorError {
                        file: name.clone(),
                        tc_id,
                        message,
                    }),
                }
            }
        }
    }
    Ok(run)
}
