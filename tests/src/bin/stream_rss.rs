//! Test helper for `tests/storage_stream_memory.rs`: streams N MiB of generated
//! data through `SecureStore::encrypt_file` / `decrypt_file`-style streaming,
//! checks the round trip by SHA-256, and prints the process's peak RSS (VmHWM).
//!
//! Usage: `stream_rss <MiB> <work dir>`; prints `ok bytes=<n> vmhwm_kib=<k>`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::Arc;

use mamori::storage::{CachePolicy, EnvelopeCipher, SoftwareKek};
use mamori::storage::{DEFAULT_SEGMENT_LOG2, decrypt_stream, encrypt_stream};
use ring::digest::{Context, SHA256};

/// Deterministic generated input, hashed as it is read.
struct Generator {
    remaining: u64,
    counter: u64,
    hash: Context,
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.remaining as usize).min(4096);
        for (i, chunk) in buf[..n].chunks_mut(8).enumerate() {
            let v = (self.counter + i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        self.counter += n as u64;
        self.remaining -= n as u64;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes everything written to it.
struct HashWriter(Context, u64);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn vmhwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mib: u64 = args[1].parse().unwrap();
    let path = std::path::Path::new(&args[2]).join("stream.mmrs");
    let cipher = EnvelopeCipher::new(
        Arc::new(SoftwareKek::generate().unwrap()),
        CachePolicy::default(),
    )
    .unwrap();
    let mut input = Generator {
        remaining: mib << 20,
        counter: 0,
        hash: Context::new(&SHA256),
    };
    let out = BufWriter::new(File::create(&path).unwrap());
    let written = encrypt_stream(&cipher, b"big", DEFAULT_SEGMENT_LOG2, &mut input, out).unwrap();
    let expected = input.hash.finish();
    let mut sink = HashWriter(Context::new(&SHA256), 0);
    let read = decrypt_stream(
        &cipher,
        b"big",
        BufReader::new(File::open(&path).unwrap()),
        &mut sink,
    )
    .unwrap();
    assert_eq!(written, mib << 20);
    assert_eq!(read, written);
    assert_eq!(
        sink.0.finish().as_ref(),
        expected.as_ref(),
        "round trip differs"
    );
    std::fs::remove_file(&path).unwrap();
    println!("ok bytes={read} vmhwm_kib={}", vmhwm_kib());
}
