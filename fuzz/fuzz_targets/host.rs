//! The host grammar: connection hosts and rule patterns. A parsed host
//! re-parses to itself, and an exact pattern matches its own host.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mamori::pinning::{Host, HostPattern};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(h) = Host::parse(s) {
        let again = Host::parse(&h.to_string()).expect("a normalised host re-parses");
        assert_eq!(again, h);
    }
    for sub in [false, true] {
        if let Ok(p) = HostPattern::parse(s, sub) {
            if let HostPattern::Exact(h) = &p {
                assert!(p.matches(h));
            }
        }
    }
});
