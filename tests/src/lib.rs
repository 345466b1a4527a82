//! Shared helpers for Mamori's end-to-end tests.
