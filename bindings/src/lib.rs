//! uniffi bindings of the Mamori core: objects, foreign traits and error mapping.
//!
//! The core crate stays pure Rust; this crate adds the FFI surface that Kotlin
//! and Swift see. Generated bindings are build output (`cargo xtask bindings`).
uniffi::setup_scaffolding!();
mod device;
