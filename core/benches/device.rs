//! Device probes and policy evaluation.
//!
//! Targets (issue 4): the full Rust probe set on a realistic fake tree under
//! 5 ms; policy evaluation under 50 µs.

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::device::*;
use time::macros::date;

/// A Pixel-like tree: build.prop, a few hundred system files, and the
/// /proc/self files of a real-sized app process (2,000 maps lines).
fn realistic_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for d in [
        "system/bin",
        "system/xbin",
        "system/lib64",
        "vendor/bin",
        "data/local/tmp",
        "cache",
        "dev/socket",
        "sbin",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for i in 0..300 {
        fs::write(root.join(format!("system/bin/tool{i}")), "").unwrap();
        fs::write(root.join(format!("system/lib64/lib{i}.so")), "").unwrap();
    }
    let mut props = String::from(
        "ro.build.version.release=16\nro.build.version.sdk=36\nro.build.version.security_patch=2026-10-05\n\
         ro.build.tags=release-keys\nro.debuggable=0\nro.secure=1\nro.product.model=Pixel 9\nro.hardware=tokay\n",
    );
    for i in 0..400 {
        writeln!(props, "ro.vendor.feature.{i}=value{i}").unwrap();
    }
    fs::write(root.join("system/build.prop"), &props).unwrap();
    fs::write(
        root.join("vendor/build.prop"),
        "ro.vendor.build.security_patch=2026-10-05\n",
    )
    .unwrap();
    let proc_ = dir.path().join("proc/self");
    fs::create_dir_all(&proc_).unwrap();
    let mut maps = String::new();
    for i in 0..2000u64 {
        writeln!(
            maps,
            "{:x}-{:x} r-xp 00000000 fd:00 {} /system/lib64/lib{}.so",
            0x7a00000000 + i * 0x1000,
            0x7a00001000 + i * 0x1000,
            1000 + i,
            i % 300
        )
        .unwrap();
    }
    fs::write(proc_.join("maps"), maps).unwrap();
    let mut mi = String::new();
    for i in 0..60 {
        writeln!(
            mi,
            "{i} 1 253:{i} / /mnt/m{i} ro,relatime shared:{i} - ext4 /dev/block/dm-{i} ro,seclabel"
        )
        .unwrap();
    }
    fs::write(proc_.join("mountinfo"), mi).unwrap();
    fs::write(
        proc_.join("status"),
        "Name:\tjp.example.bank\nTracerPid:\t0\n",
    )
    .unwrap();
    dir
}

fn platform_facts() -> DeviceFacts {
    let mut f = DeviceFacts::new(Platform::Android);
    let e = || Evidence::platform();
    f.android_api_level = Fact::known("36", e());
    f.security_patch = Fact::known("2026-10-05", e());
    f.screen_lock = Fact::flag(Tri::Present, e());
    f.keystore_level = Fact::known("strongbox", e());
    f.debugger_attached = Fact::flag(Tri::Absent, e());
    f.emulator = Fact::flag(Tri::Absent, e());
    f.developer_options = Fact::flag(Tri::Absent, e());
    f.adb_enabled = Fact::flag(Tri::Absent, e());
    f.indicators = observe_packages(Some(&[]));
    f
}

fn bench(c: &mut Criterion) {
    let tree = realistic_tree();
    let cfg = ProbeConfig::at(
        Platform::Android,
        tree.path().join("root"),
        tree.path().join("proc"),
    );
    c.bench_function("device/probe_full_set", |b| {
        b.iter(|| black_box(run_probes(black_box(&cfg))))
    });

    let facts = run_probes(&cfg).merge(platform_facts());
    let policy = DevicePolicy::fintech_default();
    assert_eq!(
        evaluate(&facts, &policy, date!(2026 - 11 - 25)).decision,
        DeviceDecision::Allow
    );
    c.bench_function("device/facts_sha256", |b| {
        b.iter(|| black_box(black_box(&facts).sha256()))
    });
    c.bench_function("device/policy_sha256", |b| {
        b.iter(|| black_box(black_box(&policy).sha256()))
    });
    let snapshot = FactsSnapshot::new(facts.clone());
    c.bench_function("device/evaluate_snapshot", |b| {
        b.iter(|| {
            black_box(evaluate_snapshot(
                black_box(&snapshot),
                &policy,
                date!(2026 - 11 - 25),
            ))
        })
    });
    c.bench_function("device/evaluate", |b| {
        b.iter(|| black_box(evaluate(black_box(&facts), &policy, date!(2026 - 11 - 25))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
