//! `btls-keytool`: generates bTLS key pairs, signs published keys as a registry, fills a
//! registry directory and shows key files. File formats: `reference-impl/docs/key-files.md`.

use anyhow::{bail, Context, Result};
use btls::crypto::{registry_verify, OsRandom, RandomSource, SeededRandom, SigningKey};
use btls::keys::{
    load_private_key, load_published_key, save_private_key, save_published_key, DirectoryRegistry,
    OwnKey, PasswordProtection, DEFAULT_ITERATIONS,
};
use btls::msgs::{KeyAlgorithm, PublishedKey};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Keys for bTLS: generate key pairs, sign and publish them, inspect key files.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a key pair: writes NAME.key.json (private) and NAME.pub.json (published).
    Generate(Generate),
    /// Sign a published key as a registry (SPEC BT-KEY-1).
    Sign {
        /// The registry's private key file (an ED25519_X25519 key).
        #[arg(long, value_name = "FILE")]
        registry_key: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// The published key to sign.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// Where to write the signed published key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Store published keys in a registry directory (DIR/{hex reg}/{hex key}.btlskey).
    Publish {
        /// The registry directory.
        #[arg(long, value_name = "DIR")]
        registry_dir: PathBuf,
        /// Published key files.
        #[arg(required = true, value_name = "FILE")]
        keys: Vec<PathBuf>,
    },
    /// Print a key file's fields (never the private key).
    Show {
        /// A private or published key file.
        file: PathBuf,
    },
    /// Check a published key's registry signature; exits 1 if it does not verify.
    Verify {
        /// The registry's published key file.
        #[arg(long, value_name = "FILE")]
        registry_pub: PathBuf,
        /// The published key to check.
        file: PathBuf,
    },
}

#[derive(Args)]
struct PasswordArgs {
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "password_file")]
    password_env: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

impl PasswordArgs {
    fn get(&self) -> Result<Option<String>> {
        if let Some(var) = &self.password_env {
            return Ok(Some(std::env::var(var).with_context(|| {
                format!("environment variable {var} is not set")
            })?));
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
        }
        Ok(None)
    }
}

#[derive(Args)]
struct Generate {
    /// Key algorithm: ed25519-x25519 or ecdsa-p256-ecdh-p256.
    #[arg(long, value_name = "NAME")]
    algorithm: String,
    /// Registration handle (who owns the key).
    #[arg(long, value_name = "HANDLE")]
    reg: String,
    /// Key handle (which of the owner's keys).
    #[arg(long, value_name = "HANDLE")]
    key: String,
    /// Directory to write the two files to.
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
    /// Base name of the files (default: REG-KEY with unsafe characters replaced).
    #[arg(long)]
    name: Option<String>,
    /// Validity in days from not-before.
    #[arg(long, default_value_t = 365)]
    valid_days: u64,
    /// Start of validity, Unix seconds (default: now).
    #[arg(long, value_name = "UNIX")]
    not_before: Option<u64>,
    #[command(flatten)]
    password: PasswordArgs,
    /// PBKDF2 iterations for a password-protected file.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS)]
    iterations: u32,
    /// Derive the key from this seed (reproducible test keys only; never for real keys).
    #[arg(long)]
    seed: Option<u64>,
}

fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn generate(args: Generate) -> Result<()> {
    let alg = KeyAlgorithm::from_name(&args.algorithm).with_context(|| {
        format!(
            "unknown algorithm {:?}: use ed25519-x25519 or ecdsa-p256-ecdh-p256",
            args.algorithm
        )
    })?;
    if args.reg.is_empty() || args.reg.len() > 255 || args.key.is_empty() || args.key.len() > 255 {
        bail!("--reg and --key must be 1 to 255 bytes");
    }
    let mut rng: Box<dyn RandomSource> = match args.seed {
        Some(seed) => Box::new(SeededRandom::new(seed)),
        None => Box::new(OsRandom),
    };
    let signing = SigningKey::generate(alg, rng.as_mut()).context("key generation failed")?;
    let not_before = match args.not_before {
        Some(t) => t,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    };
    let published = PublishedKey {
        reg_handle: args.reg.clone().into_bytes(),
        key_handle: args.key.clone().into_bytes(),
        key_algorithm: alg,
        public_key: signing.public_key().to_vec(),
        not_before,
        not_after: not_before.saturating_add(args.valid_days.saturating_mul(86_400)),
        registry_signature: Vec::new(),
    };
    let key = OwnKey::new(signing, published).context("key pair mismatch")?;
    let name = args
        .name
        .unwrap_or_else(|| safe_name(&format!("{}-{}", args.reg, args.key)));
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let private = args.out_dir.join(format!("{name}.key.json"));
    let public = args.out_dir.join(format!("{name}.pub.json"));
    let protection = args.password.get()?.map(|p| PasswordProtection {
        iterations: args.iterations,
        ..PasswordProtection::new(&p)
    });
    save_private_key(&private, &key, protection.as_ref(), rng.as_mut())?;
    save_published_key(&public, &key.published)?;
    println!(
        "wrote {} ({})",
        private.display(),
        if protection.is_some() {
            "password-protected"
        } else {
            "plain"
        }
    );
    println!("wrote {}", public.display());
    Ok(())
}

fn show(path: &Path) -> Result<()> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Option<serde_json::Value> = serde_json::from_slice(&text).ok();
    if let Some(serde_json::Value::Object(mut map)) = value {
        if map.contains_key("private_key") {
            map.insert("private_key".into(), "(hidden)".into());
        }
        map.remove("ciphertext");
        for (k, v) in map {
            println!(
                "{k}: {}",
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            );
        }
        return Ok(());
    }
    let key = load_published_key(path)?;
    println!("{key:#?}");
    Ok(())
}

fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Generate(args) => generate(args)?,
        Command::Sign {
            registry_key,
            password,
            input,
            out,
        } => {
            let registry = load_private_key(&registry_key, password.get()?.as_deref())?;
            if registry.signing.algorithm() != KeyAlgorithm::ED25519_X25519 {
                bail!(
                    "{}: a registry key must be ED25519_X25519",
                    registry_key.display()
                );
            }
            let mut key = load_published_key(&input)?;
            key.registry_signature = Vec::new();
            key.registry_signature = registry.signing.sign(&key.to_be_signed());
            save_published_key(&out, &key)?;
            println!(
                "signed {} as registry {}",
                key.display_name(),
                registry.published.display_name()
            );
        }
        Command::Publish { registry_dir, keys } => {
            let registry = DirectoryRegistry::new(&registry_dir);
            for path in keys {
                let key = load_published_key(&path)?;
                let stored = registry
                    .publish(&key)
                    .with_context(|| format!("publishing {}", path.display()))?;
                println!("published {} at {}", key.display_name(), stored.display());
            }
        }
        Command::Show { file } => show(&file)?,
        Command::Verify { registry_pub, file } => {
            let registry = load_published_key(&registry_pub)?;
            let key = load_published_key(&file)?;
            let ok = !key.registry_signature.is_empty()
                && registry_verify(
                    &registry.public_key,
                    &key.to_be_signed(),
                    &key.registry_signature,
                );
            println!(
                "{}: registry signature {}",
                file.display(),
                if ok { "valid" } else { "INVALID or missing" }
            );
            return Ok(ok);
        }
    }
    Ok(true)
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("btls-keytool: {e:#}");
            ExitCode::from(2)
        }
    }
}
