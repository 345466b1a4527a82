//! `mamori`: audit pinning configurations and produce evidence.
fn main() {}
