//! Evidence report.
