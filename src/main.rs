//! The `folio` binary: everything it does is `folio::cli` (zero2prod's thin
//! binary), so the commands are library code the crate's lints and
//! visibility see.

fn main() -> std::process::ExitCode {
    folio::cli::run()
}
