//! Crash safety of the pin-update state (issue 14): a child process applies
//! signed updates of increasing version through `PinUpdater` and
//! `FileUpdateStore` and is killed with SIGKILL at random points. After every
//! kill a restarted updater must restore the last confirmed version or the one
//! being applied, never an older one (a rollback) and never nothing.
//!
//! Kills: `MAMORI_UPDATE_CRASH_KILLS` (default 150).

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mamori::PolicyFormat;
use mamori::pinning::{FileUpdateStore, PinUpdater, PolicyDocument, PolicySource, UpdateVerifier};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};

fn kills() -> u64 {
    std::env::var("MAMORI_UPDATE_CRASH_KILLS")
        .ok()
        .map(|v| v.parse().expect("MAMORI_UPDATE_CRASH_KILLS is a number"))
        .unwrap_or(150)
}

#[test]
fn sigkill_during_persist_leaves_the_old_or_the_new_update_never_a_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let rng = SystemRandom::new();
    let primary = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let backup = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let pk = |p: &ring::pkcs8::Document| {
        B64.encode(
            Ed25519KeyPair::from_pkcs8(p.as_ref())
                .unwrap()
                .public_key()
                .as_ref(),
        )
    };
    let key_file = dir.path().join("primary.pk8");
    std::fs::write(&key_file, primary.as_ref()).unwrap();
    let pin = |b: u8| format!("sha256/{}", B64.encode([b; 32]));
    let base = format!(
        "[[domain]]\nhost = \"api.bank.example\"\npins = [\"{}\", \"{}\"]\n\n[updates]\nkeys = [{{ id = \"primary\", ed25519 = \"{}\" }}, {{ id = \"backup\", ed25519 = \"{}\" }}]\n",
        pin(1),
        pin(2),
        pk(&primary),
        pk(&backup)
    );
    let base_file = dir.path().join("base.toml");
    std::fs::write(&base_file, &base).unwrap();
    let state = dir.path().join("pin-update.json");
    let restart = || {
        let doc = PolicyDocument::parse(&base, PolicyFormat::Toml, "base").unwrap();
        PinUpdater::new(
            UpdateVerifier::from_base(doc, "base", None).unwrap(),
            Box::new(FileUpdateStore::new(&state)),
        )
    };

    let mut rng: u64 = 0x00DD_BA11_5EED;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (iterations, started) = (kills(), Instant::now());
    let (mut confirmed, mut in_flight_kills, mut new_on_restart) = (None::<u64>, 0u64, 0u64);
    for iteration in 0..iterations {
        let first = confirmed.map_or(1, |v| v + 1);
        let (child, rx, reader) = mamori_tests::spawn_with_lines(
            Command::new(env!("CARGO_BIN_EXE_update_persister"))
                .arg(&state)
                .arg(&base_file)
                .arg(&key_file)
                .arg(first.to_string()),
        );
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(30)).as_deref(),
            Ok("O"),
            "iteration {iteration}: child did not start"
        );
        std::thread::sleep(Duration::from_micros(next() % 40_000));
        // The child never stops by itself: a panic (a failed operation) would end it early.
        let lines =
            mamori_tests::sigkill_and_collect(child, reader, &format!("iteration {iteration}"));
        let mut pending = None;
        for line in &lines {
            match line.split_once(' ') {
                Some(("A", v)) => pending = Some(v.parse::<u64>().unwrap()),
                Some(("D", v)) => {
                    confirmed = Some(v.parse().unwrap());
                    pending = None;
                }
                _ => {}
            }
        }
        in_flight_kills += pending.is_some() as u64;

        let up = restart();
        assert!(
            up.restore_error().is_none(),
            "iteration {iteration}: state does not restore: {:?}",
            up.restore_error()
        );
        let restored = match up.source() {
            PolicySource::Update { version } => Some(version),
            PolicySource::Base => None,
        };
        assert!(
            restored == confirmed || (restored.is_some() && restored == pending),
            "iteration {iteration}: restored {restored:?}, expected {confirmed:?} or {pending:?}"
        );
        assert_eq!(up.highest_version(), restored, "iteration {iteration}");
        if restored != confirmed {
            new_on_restart += 1;
        }
        confirmed = restored;
    }
    eprintln!(
        "{iterations} kills in {:?}: last version {confirmed:?}, {in_flight_kills} kills with an apply in \
         flight, {new_on_restart} of them had already persisted the new version",
        started.elapsed()
    );
    assert!(
        confirmed.unwrap_or(0) > iterations / 4,
        "the child barely applied updates"
    );
    // A kill between the temporary file and its rename leaves the temporary
    // file; the next save removes such leftovers (they never accumulate).
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.len() <= 1,
        "temporary files left behind: {leftovers:?}"
    );
    assert!(
        in_flight_kills > iterations / 10,
        "too few kills during an apply: {in_flight_kills}"
    );
}
