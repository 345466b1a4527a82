//! TLS certificate pinning (guideline DEV-4, BP-5).
