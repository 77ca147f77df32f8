//! No code: this crate only unifies dependency features across the release builds
//! (see Cargo.toml).
