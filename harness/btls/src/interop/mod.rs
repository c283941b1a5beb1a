//! The interop matrix: every client implementation against every server implementation on
//! every interop case (`harness/INTEROP.md`), with the harness as a recording TCP proxy between
//! the two adapters.
//!
//! - [`case`]: the case files of `scenarios/interop/`;
//! - the recording proxy is the core's (`harness_core::proxy`);
//! - [`cell`]: one (client, server, case) cell: start, relay, reap, judge;
//! - [`report`]: `results.json`, `report.md`, `report.html`, `junit.xml`, captures and
//!   transcripts.

pub mod case;
pub mod cell;
pub mod report;

use case::InteropCase;
use cell::{run_cell, CellOptions, CellResult, CellStatus};
use harness_core::pool::parallel_map;
use harness_core::process::Iut;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A whole interop run.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The implementations, in the order given (rows are clients, columns servers).
    pub implementations: Vec<Iut>,
    /// The cases run.
    pub cases: Vec<InteropCase>,
    /// Every cell, client-major, then server, then case.
    pub cells: Vec<CellResult>,
    /// The run's seed.
    pub seed: u64,
    /// Wall time.
    pub duration: Duration,
}

impl Matrix {
    /// Cells with `status`.
    pub fn count(&self, status: CellStatus) -> usize {
        self.cells.iter().filter(|c| c.status == status).count()
    }

    /// Whether any cell failed (unsupported cells do not fail a run).
    pub fn failed(&self) -> bool {
        self.count(CellStatus::Failed) > 0
    }

    /// The cells of one (client, server) pair, in case order.
    pub fn pair<'a>(
        &'a self,
        client: &'a str,
        server: &'a str,
    ) -> impl Iterator<Item = &'a CellResult> + 'a {
        self.cells
            .iter()
            .filter(move |c| c.client.implementation == client && c.server.implementation == server)
    }
}

/// Runs every cell of `implementations` × `implementations` × `cases` on `jobs` threads,
/// printing one line per cell to `progress`.
pub fn run_matrix(
    implementations: &[Iut],
    cases: &[InteropCase],
    options: &CellOptions,
    jobs: usize,
    progress: Option<&Mutex<dyn Write + Send>>,
) -> Matrix {
    let started = Instant::now();
    let mut plan = Vec::new();
    for client in implementations {
        for server in implementations {
            for case in cases {
                plan.push((client, server, case));
            }
        }
    }
    let total = plan.len();
    let done = AtomicUsize::new(0);
    let results = parallel_map(&plan, jobs, |_, &(client, server, case)| {
        let result = run_cell(case, client, server, options);
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(out) = progress {
            if let Ok(mut out) = out.lock() {
                let _ = writeln!(
                    out,
                    "[{n:>3}/{total}] {:<11} {} × {} {} ({} ms){}",
                    result.status.as_str(),
                    client.name,
                    server.name,
                    case.id,
                    result.duration.as_millis(),
                    result
                        .reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                );
            }
        }
        result
    });
    Matrix {
        implementations: implementations.to_vec(),
        cases: cases.to_vec(),
        cells: results.into_iter().flatten().collect(),
        seed: options.seed,
        duration: started.elapsed(),
    }
}
