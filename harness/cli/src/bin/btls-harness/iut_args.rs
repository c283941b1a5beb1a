//! The options every command that starts an IUT shares, and the capture format option.

use harness_capture::Format;
use harness_core::Iut;
use std::path::PathBuf;

/// The command-line options that name an implementation under test, shared by the CLI's
/// commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct IutArgs {
    /// The IUT's adapter program.
    #[arg(long, value_name = "PROGRAM")]
    pub(crate) iut: PathBuf,
    /// A name for the IUT in case names and reports.
    #[arg(long, default_value = "iut")]
    pub(crate) iut_name: String,
    /// An argument put before the contract's flags (for example the script of an interpreter);
    /// repeatable.
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    pub(crate) iut_arg: Vec<String>,
}

impl IutArgs {
    /// The IUT, once its adapter program is known to exist.
    pub(crate) fn iut(&self) -> Result<Iut, String> {
        if !self.iut.exists() {
            return Err(format!(
                "the IUT adapter {} does not exist",
                self.iut.display()
            ));
        }
        Ok(Iut {
            name: self.iut_name.clone(),
            program: self.iut.clone(),
            prefix_args: self.iut_arg.clone(),
        })
    }
}

/// `--capture-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum CaptureFormat {
    /// pcapng, with a comment on every packet naming the scenario step.
    #[default]
    Pcapng,
    /// Classic pcap (nanosecond timestamps; no comments).
    Pcap,
}

impl From<CaptureFormat> for Format {
    fn from(f: CaptureFormat) -> Self {
        match f {
            CaptureFormat::Pcapng => Format::Pcapng,
            CaptureFormat::Pcap => Format::Pcap,
        }
    }
}
