//! One module per subcommand.

pub mod attest;
pub mod audit;
pub mod config;
pub mod convert;
pub mod device;
pub mod pin;
pub mod pin_update;
pub mod report;
pub mod verify;
