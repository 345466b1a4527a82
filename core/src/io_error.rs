//! Operating-system errors in plain words.
//!
//! `std::io::Error`'s `Display` ends in the errno (`Connection refused (os
//! error 111)`): a detail for a debugger, not for the person reading a
//! message. Every user-facing message that carries an I/O error goes
//! through [`io_reason`].

/// The reason of an I/O error, without the "(os error N)" suffix; the
/// common kinds in fixed words.
pub fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "no such file".to_owned(),
        K::PermissionDenied => "permission denied".to_owned(),
        K::IsADirectory => "is a directory, not a file".to_owned(),
        K::AlreadyExists => "already exists".to_owned(),
        K::ConnectionRefused => "connection refused".to_owned(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_is_dropped() {
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(io_reason(&e), "connection refused");
        let e = std::fs::read("/nonexistent/mamori").unwrap_err();
        assert_eq!(io_reason(&e), "no such file");
        let e = std::io::Error::from_raw_os_error(28);
        assert!(!io_reason(&e).contains("os error"), "{}", io_reason(&e));
    }
}
