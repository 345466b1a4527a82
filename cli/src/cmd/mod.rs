//! One module per subcommand.

pub mod device;
