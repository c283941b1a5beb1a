//! `btls-iut`: the reference implementation's adapter (`harness/IUT-ADAPTER.md`).

fn main() -> std::process::ExitCode {
    btls_iut::main()
}
