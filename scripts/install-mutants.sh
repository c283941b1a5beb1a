#!/usr/bin/env bash
# Installs cargo-mutants (crates.io, `cargo install --locked`, about 5 minutes on 2 cores) when it
# is missing, then prints its version. scripts/mutants.sh runs it over the reference.
set -euo pipefail
version=27.1.0
if ! command -v cargo-mutants >/dev/null 2>&1; then
    echo "install-mutants.sh: installing cargo-mutants $version" >&2
    cargo install --locked --quiet cargo-mutants --version "$version" ||
        { echo "install-mutants.sh: cargo install cargo-mutants failed" >&2; exit 1; }
fi
cargo mutants --version
