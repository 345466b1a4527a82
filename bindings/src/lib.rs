//! uniffi bindings of the Mamori core: objects, foreign traits and error mapping.
//!
//! The core crate stays pure Rust; this crate adds the FFI surface that Kotlin
//! and Swift see. Generated bindings are build output (`cargo xtask bindings`).
uniffi::setup_scaffolding!();

/// Every block the library frees is zeroed first (NEW-1): uniffi's own transport
/// buffers carry data keys and item values and are freed without wiping
/// (`docs/memory.md`). On in every `cargo xtask` build of the platform library.
#[cfg(feature = "wipe-freed-memory")]
#[global_allocator]
static WIPING_ALLOCATOR: mamori_wipe::WipingAllocator = mamori_wipe::WipingAllocator::system();

mod device;
pub mod pin_update;
pub mod pinning;
pub mod storage;
mod types;

/// The version of the native Mamori library (the `mamori-ffi` crate version).
///
/// Apps log it next to their own version so a report can name the exact SDK
/// build; the Kotlin and Swift tests use it to prove the FFI round trip works.
#[uniffi::export]
pub fn mamori_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_the_crate_version() {
        assert_eq!(super::mamori_version(), env!("CARGO_PKG_VERSION"));
    }
}
