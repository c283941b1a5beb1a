//! `btls-harness vectors`: regenerate, verify, or check an IUT against the test vectors.

use crate::iut_args::IutArgs;
use anyhow::Result;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub(crate) enum VectorsAction {
    /// Rewrite every vector file from the reference implementation and say which changed.
    Regenerate {
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
    /// Check the reference implementation against every vector file.
    Verify {
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
    /// Feed every vector file to an IUT in the adapter's vector mode and judge its answers.
    Check {
        #[command(flatten)]
        iut: IutArgs,
        /// The vectors folder.
        #[arg(long, default_value = "vectors")]
        dir: PathBuf,
    },
}

/// Runs `btls-harness vectors ACTION`.
pub(crate) fn main(action: VectorsAction) -> Result<bool> {
    match action {
        VectorsAction::Regenerate { dir } => {
            for (path, change) in btls_profile::vectors::regenerate(&dir)? {
                println!("{change:?}: {}", path.display());
            }
            Ok(true)
        }
        VectorsAction::Verify { dir } => Ok(match btls_profile::vectors::verify(&dir) {
            Ok(n) => {
                println!("{n} vectors verified in {}", dir.display());
                true
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                false
            }
        }),
        VectorsAction::Check { iut, dir } => {
            let iut = iut.iut().map_err(anyhow::Error::msg)?;
            let run =
                btls_profile::vectors::check_iut(&iut, &dir, std::time::Duration::from_secs(60))
                    .map_err(anyhow::Error::msg)?;
            for e in &run.failures {
                eprintln!("{e}");
            }
            for (file, why) in &run.unsupported {
                eprintln!("unsupported: {file}: {why}");
            }
            println!(
                "{} passed, {} failed, {} file(s) unsupported",
                run.passed,
                run.failures.len(),
                run.unsupported.len()
            );
            Ok(run.failures.is_empty())
        }
    }
}
