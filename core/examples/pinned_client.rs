//! A pinned HTTPS GET with plain rustls: build the `ClientConfig` from a pin
//! policy and every handshake is checked against it (DEV-4).
//!
//! ```text
//! cargo run -p mamori --example pinned_client -- POLICY.toml HOST[:PORT] [PATH]
//! ```
//! Any rustls-based client (reqwest with `use_preconfigured_tls`, ureq,
//! hyper-rustls, tokio-rustls) takes the same `ClientConfig`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mamori::pinning::{AppInfo, PinPolicy, PinVerifier, client_config};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: pinned_client POLICY HOST[:PORT] [PATH]");
        std::process::exit(2);
    }
    let policy = PinPolicy::load(Path::new(&args[1])).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2);
    });
    let (host, port) = match args[2].rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(443)),
        None => (args[2].clone(), 443),
    };
    let path = args.get(3).cloned().unwrap_or_else(|| "/".into());

    // Reports go wherever the app wants; here, stderr.
    let verifier = PinVerifier::new(policy).with_listener(
        Arc::new(|r: &mamori::pinning::PinFailureReport| {
            eprintln!("pin failure report: {}", r.to_json())
        }),
        AppInfo::default(),
    );
    let config = Arc::new(client_config(Arc::new(verifier), port));

    let server_name = host.clone().try_into().expect("valid server name");
    let mut conn = rustls::ClientConnection::new(config, server_name).expect("client connection");
    let mut sock = TcpStream::connect((host.as_str(), port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if let Err(e) = tls.write_all(request.as_bytes()) {
        eprintln!("blocked: {e}");
        std::process::exit(1);
    }
    let mut body = Vec::new();
    let _ = tls.read_to_end(&mut body);
    println!("{}", String::from_utf8_lossy(&body));
}
