//! What every CLI process test shares: running the real `mamori` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `mamori` binary with `args` and collects its exit status and output.
#[allow(dead_code)]
pub fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(args)
        .output()
        .expect("the mamori binary runs")
}

/// Runs the built `mamori` binary in `dir` (relative paths in `args` resolve there).
#[allow(dead_code)] // not every test file runs in a directory
pub fn mamori_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("the mamori binary runs")
}

/// The repository's root (examples live under `examples/`).
#[allow(dead_code)]
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A process's standard output as text.
#[allow(dead_code)]
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A process's standard error as text.
#[allow(dead_code)]
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `dir/name` and returns that path as a string.
#[allow(dead_code)]
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}
