//! One module per subcommand.

pub mod config;
pub mod pin;
pub mod verify;
