//! Mamori: the device-layer security core for FinTech mobile apps.
//!
//! Every check cites the item of the FinTech security guideline it serves
//! ([`guideline::GuidelineId`]): certificate pinning (DEV-4, BP-5), the device
//! OS security level (DEV-2) and hardware-keystore-backed local encryption
//! (DEV-1, NEW-1, DATA-2, DEV-3).
//!
//! The crate is pure Rust with no FFI and no uniffi dependency: `mamori-ffi` is the one
//! uniffi component, and it exposes these types to Kotlin and Swift as uniffi *remote types*
//! (field-for-field mirrors declared there and checked by the compiler). Keep the records
//! that cross the FFI plain data: public fields of strings, numbers, options, vectors and
//! other such records.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(unreachable_pub)]

pub mod attestation;
#[cfg(feature = "audit")]
pub mod audit;
pub mod date;
pub mod device;
pub mod guideline;
mod io_error;
pub mod limits;
pub mod pinning;
mod policy_format;
pub mod storage;

pub use io_error::io_reason;
pub use policy_format::{FieldProblem, PolicyFormat};
