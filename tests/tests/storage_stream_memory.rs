//! Streaming runs in constant memory: a child process streams a few hundred MiB
//! through encryption to a file and back, checks the round trip by SHA-256, and
//! reports its peak RSS (VmHWM), which must stay under 32 MiB.
//!
//! `MAMORI_STREAM_MIB=1024` (or more) runs the same check on a bigger stream.

use std::process::Command;

#[test]
fn streaming_peak_rss_stays_under_32_mib() {
    let mib: u64 = std::env::var("MAMORI_STREAM_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stream_rss"))
        .arg(mib.to_string())
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ok "))
        .expect("result line");
    let field = |k: &str| -> u64 {
        line.split(' ')
            .find_map(|f| f.strip_prefix(k))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    assert_eq!(field("bytes="), mib << 20);
    let peak = field("vmhwm_kib=");
    eprintln!("streamed {mib} MiB each way: peak RSS {peak} KiB");
    assert!(peak < 32 * 1024, "peak RSS {peak} KiB");
}
