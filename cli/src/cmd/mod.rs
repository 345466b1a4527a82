//! One module per subcommand.

pub mod config;
pub mod device;
pub mod pin;
pub mod verify;
