//! Empty: a build script makes cargo resolve `[build-dependencies]`, which is how this crate
//! unifies the features of host dependencies (proc macros and their `syn`) across the release
//! builds (see Cargo.toml).
fn main() {}
