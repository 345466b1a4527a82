//! Probes on fake filesystem trees built in temporary directories, then
//! evaluated with the shipped FinTech policy.
//!
//! Unreadable paths: the tests run as root, where `chmod 000` does not stop
//! reads, so "cannot read" is produced in ways root cannot bypass either:
//! a symlink loop on a path component (`ELOOP`), a directory where a file is
//! expected (`EISDIR` / "not a regular file"), and a FIFO where a `/proc` file
//! is expected (which would also block a naive `open()` forever).

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mamori::device::*;
use tempfile::TempDir;
use time::macros::date;

struct Tree {
    dir: TempDir,
}

impl Tree {
    fn new() -> Self {
        let t = Tree {
            dir: TempDir::new().unwrap(),
        };
        fs::create_dir_all(t.fs()).unwrap();
        fs::create_dir_all(t.proc().join("self")).unwrap();
        t
    }
    fn fs(&self) -> PathBuf {
        self.dir.path().join("root")
    }
    fn proc(&self) -> PathBuf {
        self.dir.path().join("proc")
    }
    fn p(&self, abs: &str) -> PathBuf {
        if let Some(rest) = abs.strip_prefix("/proc/") {
            self.proc().join(rest)
        } else {
            self.fs().join(abs.trim_start_matches('/'))
        }
    }
    fn file(&self, abs: &str, text: &str) -> &Self {
        let p = self.p(abs);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
        self
    }
    fn dir(&self, abs: &str) -> &Self {
        fs::create_dir_all(self.p(abs)).unwrap();
        self
    }
    fn link(&self, abs: &str, target: &str) -> &Self {
        let p = self.p(abs);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
        self
    }
    fn append(&self, abs: &str, text: &str) -> &Self {
        let p = self.p(abs);
        let mut s = fs::read_to_string(&p).unwrap_or_default();
        s.push_str(text);
        fs::write(p, s).unwrap();
        self
    }
    fn cfg(&self, platform: DevicePlatform) -> ProbeConfig {
        let mut c = ProbeConfig::at(platform, self.fs(), self.proc());
        c.probe_ports = false; // hermetic: ports have their own test
        c
    }
    fn probe(&self, platform: DevicePlatform) -> DeviceFacts {
        run_probes(&self.cfg(platform))
    }
}

const PIXEL_PROPS: &str = "\
# begin build properties
ro.build.version.release=15
ro.build.version.sdk=35
ro.build.version.security_patch=2026-10-05
ro.build.tags=release-keys
ro.debuggable=0
ro.secure=1
ro.product.model=Pixel 8
ro.product.device=shiba
ro.hardware=shiba
";

const MAPS_CLEAN: &str = "\
5d8e1000-5d8e3000 r--p 00000000 fd:00 1234 /system/bin/app_process64
7a1c000000-7a1c200000 r-xp 00000000 fd:00 2345 /apex/com.android.runtime/lib64/bionic/libc.so
7a1d000000-7a1d100000 r-xp 00000000 fd:00 3456 /data/app/~~x/jp.example.bank/base.apk
";

const MOUNTINFO_CLEAN: &str = "\
1 0 253:0 / / ro,relatime shared:1 - ext4 /dev/block/dm-0 ro,seclabel
20 1 253:1 / /vendor ro,relatime shared:2 - ext4 /dev/block/dm-1 ro,seclabel
30 1 259:7 / /data rw,nosuid,nodev,noatime shared:3 - f2fs /dev/block/dm-5 rw,seclabel
";

fn clean_android() -> Tree {
    let t = Tree::new();
    t.file("/system/build.prop", PIXEL_PROPS)
        .file(
            "/vendor/build.prop",
            "ro.vendor.build.security_patch=2026-10-05\n",
        )
        .file("/system/bin/sh", "")
        .file("/system/bin/toybox", "")
        .dir("/data/local/tmp")
        .dir("/cache")
        .dir("/dev/socket")
        .file(
            "/proc/self/status",
            "Name:\tjp.example.bank\nState:\tS (sleeping)\nTracerPid:\t0\nUid:\t10234\n",
        )
        .file("/proc/self/maps", MAPS_CLEAN)
        .file("/proc/self/mountinfo", MOUNTINFO_CLEAN);
    t
}

/// What the Kotlin collector reports on a healthy Pixel.
fn pixel_platform() -> DeviceFacts {
    let mut f = DeviceFacts::new(DevicePlatform::Android);
    let p = |prop: &str, v: &str| DeviceEvidence::platform().property(prop).value(v);
    f.android_api_level = DeviceFact::known("35", p("Build.VERSION.SDK_INT", "35"));
    f.os_version = DeviceFact::known("15", p("Build.VERSION.RELEASE", "15"));
    f.security_patch = DeviceFact::known(
        "2026-10-05",
        p("Build.VERSION.SECURITY_PATCH", "2026-10-05"),
    );
    f.screen_lock = DeviceFact::flag(
        FactState::Present,
        p("KeyguardManager.isDeviceSecure", "true"),
    );
    f.biometrics_enrolled = DeviceFact::flag(
        FactState::Present,
        p("BiometricManager.canAuthenticate", "BIOMETRIC_SUCCESS"),
    );
    f.keystore_level = DeviceFact::known("strongbox", p("FEATURE_STRONGBOX_KEYSTORE", "true"));
    f.debugger_attached =
        DeviceFact::flag(FactState::Absent, p("Debug.isDebuggerConnected", "false"));
    f.emulator = DeviceFact::flag(
        FactState::Absent,
        p("Build.FINGERPRINT", "google/shiba/shiba:15/..."),
    );
    f.developer_options = DeviceFact::flag(
        FactState::Absent,
        p("Settings.Global.DEVELOPMENT_SETTINGS_ENABLED", "0"),
    );
    f.adb_enabled = DeviceFact::flag(FactState::Absent, p("Settings.Global.ADB_ENABLED", "0"));
    f.installer = DeviceFact::known(
        "com.android.vending",
        p("PackageManager.getInstallSourceInfo", "com.android.vending"),
    );
    f.indicators = observe_packages(Some(&[]));
    f
}

fn obs<'a>(f: &'a DeviceFacts, id: &str) -> &'a IndicatorObservation {
    f.indicators
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no observation {id}"))
}

fn verdict(f: &DeviceFacts) -> DeviceVerdict {
    evaluate(f, &DevicePolicy::fintech_default(), date!(2026 - 11 - 25))
}

fn rules(v: &DeviceVerdict) -> Vec<(&str, DeviceDecision)> {
    v.findings
        .iter()
        .map(|f| (f.rule.as_str(), f.decision))
        .collect()
}

#[test]
fn clean_android_is_allowed() {
    let t = clean_android();
    let probed = t.probe(DevicePlatform::Android);
    assert_eq!(probed.android_api_level.value.as_deref(), Some("35"));
    assert_eq!(probed.security_patch.value.as_deref(), Some("2026-10-05"));
    let ev = &probed.security_patch.evidence[0];
    assert_eq!(ev.source, EvidenceSource::Probe);
    assert_eq!(ev.path.as_deref(), Some("/system/build.prop"));
    // Every root indicator could be checked and none is there.
    for o in probed
        .indicators
        .iter()
        .filter(|o| o.class == IndicatorClass::Root)
    {
        assert_eq!(o.state, FactState::Absent, "{} {:?}", o.id, o.evidence);
    }
    assert_eq!(obs(&probed, "android.tracer_pid").state, FactState::Absent);
    let merged = probed.merge(pixel_platform());
    let v = verdict(&merged);
    assert_eq!(v.decision, DeviceDecision::Allow, "{:#?}", v.findings);
    assert!(v.findings.is_empty(), "{:#?}", v.findings);
    let root = v
        .coverage
        .iter()
        .find(|c| c.class == IndicatorClass::Root)
        .unwrap();
    assert_eq!((root.present, root.unknown), (0, 0));
    assert!(root.absent > 50, "{root:?}");
}

#[test]
fn magisk_device_is_blocked_with_evidence() {
    let t = clean_android();
    t.file("/data/adb/magisk.db", "SQLite format 3")
        .dir("/data/adb/modules/zygisk_shamiko")
        .dir("/data/adb/magisk")
        .append(
            "/proc/self/mountinfo",
            "812 30 0:45 / /system/bin/magisk rw,relatime - tmpfs magisk rw,seclabel\n",
        );
    let f = t.probe(DevicePlatform::Android).merge(pixel_platform());
    assert_eq!(
        obs(&f, "android.magisk.magisk_db").state,
        FactState::Present
    );
    assert_eq!(
        obs(&f, "android.mountinfo.magisk").state,
        FactState::Present
    );
    assert_eq!(obs(&f, "android.kernelsu.ksu").state, FactState::Absent);
    let v = verdict(&f);
    assert_eq!(v.decision, DeviceDecision::Block);
    let root = v
        .findings
        .iter()
        .find(|x| x.rule == "indicators.root")
        .unwrap();
    assert_eq!(root.decision, DeviceDecision::Block);
    assert_eq!(root.guideline, mamori::guideline::GuidelineId::Dev2);
    assert_eq!(root.masvs, ["MASVS-RESILIENCE-1"]);
    assert!(
        root.indicators
            .contains(&"android.magisk.magisk_db".to_owned())
    );
    assert!(
        root.evidence
            .iter()
            .any(|e| e.path.as_deref() == Some("/data/adb/magisk.db")
                && e.source == EvidenceSource::Probe)
    );
    assert!(root.evidence.iter().any(|e| {
        e.value
            .as_deref()
            .is_some_and(|v| v.contains("tmpfs magisk"))
    }));
    assert!(
        root.criterion
            .starts_with("DEV-2: Let the app run only on OS versions"),
        "{}",
        root.criterion
    );
}

#[test]
fn kernelsu_device_is_blocked() {
    let t = clean_android();
    t.file("/data/adb/ksud", "\x7fELF")
        .dir("/data/adb/ksu/modules");
    let v = verdict(&t.probe(DevicePlatform::Android).merge(pixel_platform()));
    assert_eq!(v.decision, DeviceDecision::Block);
    let root = v
        .findings
        .iter()
        .find(|x| x.rule == "indicators.root")
        .unwrap();
    assert_eq!(
        root.indicators,
        ["android.kernelsu.ksu", "android.kernelsu.ksud"]
    );
}

fn iphone_platform(version: &str) -> DeviceFacts {
    let mut f = DeviceFacts::new(DevicePlatform::Ios);
    let p = |prop: &str, v: &str| DeviceEvidence::platform().property(prop).value(v);
    f.os_version = DeviceFact::known(version, p("ProcessInfo.operatingSystemVersion", version));
    f.screen_lock = DeviceFact::flag(
        FactState::Present,
        p(
            "LAContext.canEvaluatePolicy(.deviceOwnerAuthentication)",
            "true",
        ),
    );
    f.biometrics_enrolled =
        DeviceFact::flag(FactState::Present, p("LAContext.biometryType", "faceID"));
    f.keystore_level = DeviceFact::known("secure_enclave", p("SecureEnclave.isAvailable", "true"));
    f.debugger_attached = DeviceFact::flag(FactState::Absent, p("sysctl P_TRACED", "0"));
    f.emulator = DeviceFact::flag(
        FactState::Absent,
        p("targetEnvironment(simulator)", "false"),
    );
    f
}

#[test]
fn rootless_jailbroken_iphone_is_blocked() {
    let t = Tree::new();
    // Dopamine (rootless): /var/jb is a symlink into /private/preboot.
    t.dir("/private/preboot/1A2B3C/dopamine-Xy12/procursus/usr/lib")
        .file(
            "/private/preboot/1A2B3C/dopamine-Xy12/procursus/usr/lib/libellekit.dylib",
            "",
        )
        .link(
            "/var/jb",
            "../private/preboot/1A2B3C/dopamine-Xy12/procursus",
        )
        .file(
            "/var/mobile/Library/Preferences/com.opa334.Dopamine.plist",
            "",
        )
        // palera1n loader preferences.
        .file(
            "/var/mobile/Library/Preferences/com.samiiau.loader.plist",
            "",
        );
    let probed = t.probe(DevicePlatform::Ios);
    assert_eq!(obs(&probed, "ios.path.var_jb").state, FactState::Present);
    assert_eq!(
        obs(&probed, "ios.path.var_jb").evidence[0].value.as_deref(),
        Some("symlink")
    );
    assert_eq!(
        obs(&probed, "ios.path.var_jb_usr_lib_libellekit_dylib").state,
        FactState::Present
    );
    assert_eq!(
        obs(&probed, "ios.path.applications_cydia_app").state,
        FactState::Absent
    );
    // No Android indicator is checked on iOS.
    assert!(
        probed
            .indicators
            .iter()
            .all(|o| !o.id.starts_with("android."))
    );
    let mut platform = iphone_platform("18.1");
    platform.indicators = observe_loaded_images(&[
        "/usr/lib/libSystem.B.dylib".into(),
        "/private/preboot/1A2B3C/dopamine-Xy12/procursus/usr/lib/libellekit.dylib".into(),
    ]);
    let f = probed.merge(platform);
    assert_eq!(
        obs(&f, "ios.image.libellekit_dylib").state,
        FactState::Present
    );
    let v = verdict(&f);
    assert_eq!(v.decision, DeviceDecision::Block);
    let jb = v
        .findings
        .iter()
        .find(|x| x.rule == "indicators.jailbreak")
        .unwrap();
    for id in [
        "ios.path.var_jb",
        "ios.path.var_mobile_library_preferences_com_opa334_dopamine_plist",
        "ios.path.var_mobile_library_preferences_com_samiiau_loader_plist",
        "ios.image.libellekit_dylib",
    ] {
        assert!(
            jb.indicators.iter().any(|i| i == id),
            "{id} in {:?}",
            jb.indicators
        );
    }
    assert!(v.coverage.iter().all(|c| c.class != IndicatorClass::Root));
}

#[test]
fn clean_iphone_is_allowed_and_old_ios_is_blocked() {
    let t = Tree::new();
    t.file("/usr/lib/libSystem.B.dylib", "")
        .dir("/var/mobile/Library/Preferences");
    let mut platform = iphone_platform("18.1");
    platform.indicators = observe_loaded_images(&["/usr/lib/libSystem.B.dylib".into()]);
    let f = t.probe(DevicePlatform::Ios).merge(platform);
    let v = verdict(&f);
    assert_eq!(v.decision, DeviceDecision::Allow, "{:#?}", v.findings);
    let mut old = f.clone();
    old.os_version = DeviceFact::known("17.7.2", DeviceEvidence::platform());
    let v = verdict(&old);
    assert_eq!(rules(&v), [("ios.min_version", DeviceDecision::Block)]);
}

#[test]
fn frida_instrumented_process_is_blocked() {
    let t = clean_android();
    t.append(
        "/proc/self/maps",
        "7b00000000-7b01000000 r-xp 00000000 fd:05 99 /data/local/tmp/re.frida.server/frida-agent-64.so\n",
    );
    let f = t.probe(DevicePlatform::Android).merge(pixel_platform());
    assert_eq!(
        obs(&f, "android.maps.frida_agent").state,
        FactState::Present
    );
    let v = verdict(&f);
    let hook = v
        .findings
        .iter()
        .find(|x| x.rule == "indicators.hooking")
        .unwrap();
    assert_eq!(hook.decision, DeviceDecision::Block);
    assert_eq!(hook.masvs, ["MASVS-RESILIENCE-4"]);
    assert_eq!(hook.maswe, ["MASWE-0102"]);
    assert!(hook.evidence.iter().any(|e| {
        e.path.as_deref() == Some("/proc/self/maps")
            && e.value
                .as_deref()
                .is_some_and(|v| v.ends_with("frida-agent-64.so"))
    }));
    assert_eq!(rules(&v), [("indicators.hooking", DeviceDecision::Block)]);
}

#[test]
fn traced_process_is_blocked() {
    let t = clean_android();
    t.file(
        "/proc/self/status",
        "Name:\tjp.example.bank\nTracerPid:\t4242\n",
    );
    let f = t.probe(DevicePlatform::Android).merge(pixel_platform());
    let o = obs(&f, "android.tracer_pid");
    assert_eq!(
        (o.state, o.evidence[0].value.as_deref()),
        (FactState::Present, Some("4242"))
    );
    assert_eq!(
        rules(&verdict(&f)),
        [("indicators.debugger", DeviceDecision::Block)]
    );
}

#[test]
fn emulator_props_are_detected_and_weak_ones_need_corroboration() {
    let t = Tree::new();
    t.file(
        "/system/build.prop",
        "ro.build.version.sdk=35\nro.build.version.security_patch=2026-10-05\nro.build.version.release=15\n\
         ro.kernel.qemu=1\nro.hardware=ranchu\nro.product.model=sdk\nro.build.tags=release-keys\n",
    )
    .file("/dev/qemu_pipe", "")
    .file("/proc/self/status", "TracerPid:\t0\n")
    .file("/proc/self/maps", MAPS_CLEAN)
    .file("/proc/self/mountinfo", MOUNTINFO_CLEAN);
    let mut platform = pixel_platform();
    platform.emulator = DeviceFact::unknown();
    let f = t.probe(DevicePlatform::Android).merge(platform.clone());
    assert_eq!(
        obs(&f, "android.prop.ro_kernel_qemu").state,
        FactState::Present
    );
    let v = verdict(&f);
    let emu = v
        .findings
        .iter()
        .find(|x| x.rule == "indicators.emulator")
        .unwrap();
    assert_eq!(emu.decision, DeviceDecision::Block);
    assert!(
        emu.criterion.contains("1 strong, 3 weak"),
        "{}",
        emu.criterion
    );

    // Weak signals only: two of the three the emulator rule wants -> warn.
    let t = clean_android();
    t.file(
        "/system/build.prop",
        &PIXEL_PROPS.replace("ro.hardware=shiba", "ro.hardware=goldfish"),
    )
    .file("/dev/qemu_pipe", "");
    let f = t.probe(DevicePlatform::Android).merge(platform.clone());
    let v = verdict(&f);
    assert_eq!(rules(&v), [("indicators.emulator", DeviceDecision::Warn)]);
    // A third weak one corroborates -> block.
    t.file("/system/lib/libc_malloc_debug_qemu.so", "");
    let v = verdict(&t.probe(DevicePlatform::Android).merge(platform));
    assert_eq!(rules(&v), [("indicators.emulator", DeviceDecision::Block)]);
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo runs");
    assert!(st.success());
}

#[test]
fn unreadable_paths_are_unknown_not_clean() {
    let t = clean_android();
    // /data/adb: a symlink to itself -> every lookup below it fails with ELOOP
    // (apps get EACCES on real devices; both must read as unknown).
    t.link("/data/adb", "adb");
    // /proc/self/maps: a FIFO with no writer (a naive open() would block).
    fs::remove_file(t.p("/proc/self/maps")).unwrap();
    mkfifo(&t.p("/proc/self/maps"));
    // /proc/self/status: a directory where a file is expected.
    fs::remove_file(t.p("/proc/self/status")).unwrap();
    t.dir("/proc/self/status");
    // /proc/self/mountinfo: a dangling symlink loop.
    fs::remove_file(t.p("/proc/self/mountinfo")).unwrap();
    t.link("/proc/self/mountinfo", "mountinfo");

    let start = Instant::now();
    let f = t.probe(DevicePlatform::Android);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "a probe blocked: {:?}",
        start.elapsed()
    );

    let magisk = obs(&f, "android.magisk.magisk_db");
    assert_eq!(magisk.state, FactState::Unknown);
    assert!(
        magisk.evidence[0]
            .detail
            .as_deref()
            .unwrap()
            .contains("unreadable"),
        "{magisk:?}"
    );
    assert_eq!(obs(&f, "android.kernelsu.ksud").state, FactState::Unknown);
    let maps = obs(&f, "android.maps.frida_agent");
    assert_eq!(
        (maps.state, maps.evidence[0].detail.as_deref()),
        (FactState::Unknown, Some("not a regular file"))
    );
    assert_eq!(obs(&f, "android.tracer_pid").state, FactState::Unknown);
    assert_eq!(
        obs(&f, "android.mountinfo.magisk").state,
        FactState::Unknown
    );
    // Readable indicators are still checked.
    assert_eq!(
        obs(&f, "android.bin.su.system_xbin").state,
        FactState::Absent
    );

    let mut platform = pixel_platform();
    platform.debugger_attached = DeviceFact::unknown();
    let v = verdict(&f.merge(platform));
    // The debugger could not be checked at all: warn (the policy's
    // `unknown`), never allow. Root and hooking were partly checked (su paths,
    // packages): recorded, with the unknown indicators listed.
    assert_eq!(v.decision, DeviceDecision::Warn, "{:#?}", v.findings);
    assert_eq!(
        rules(&v),
        [
            ("indicators.root", DeviceDecision::Allow),
            ("indicators.hooking", DeviceDecision::Allow),
            ("indicators.debugger", DeviceDecision::Warn)
        ]
    );
    let hook = &v.findings[1];
    assert!(
        hook.criterion.contains("could not be completed"),
        "{}",
        hook.criterion
    );
    assert!(
        hook.indicators
            .contains(&"android.maps.frida_agent".to_owned())
    );
    let root = v
        .coverage
        .iter()
        .find(|c| c.class == IndicatorClass::Root)
        .unwrap();
    assert!(root.unknown >= 13, "{root:?}");
}

#[test]
fn unreadable_property_files_leave_os_facts_unknown() {
    let t = clean_android();
    fs::remove_file(t.p("/system/build.prop")).unwrap();
    fs::remove_file(t.p("/vendor/build.prop")).unwrap();
    t.dir("/system/build.prop");
    let f = t.probe(DevicePlatform::Android);
    assert_eq!(f.android_api_level.state, FactState::Unknown);
    assert_eq!(f.security_patch.state, FactState::Unknown);
    assert_eq!(
        obs(&f, "android.prop.ro_debuggable").state,
        FactState::Unknown
    );
    let v = verdict(&f);
    assert!(rules(&v).contains(&("android.min_api_level", DeviceDecision::Warn)));
    assert!(rules(&v).contains(&("android.max_patch_age_days", DeviceDecision::Warn)));
}

#[test]
fn spent_budget_makes_everything_unknown() {
    let t = clean_android();
    t.file("/data/adb/magisk.db", "");
    let mut cfg = t.cfg(DevicePlatform::Android);
    cfg.budget = Duration::ZERO;
    let f = run_probes(&cfg);
    assert!(!f.indicators.is_empty());
    for o in &f.indicators {
        assert_eq!(o.state, FactState::Unknown, "{}", o.id);
    }
    assert!(
        f.indicators
            .iter()
            .any(|o| o.evidence[0].detail.as_deref() == Some("time budget exhausted"))
    );
}

#[test]
fn loopback_port_probe_sees_listeners_and_is_bounded() {
    let t = clean_android();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = t.cfg(DevicePlatform::Android);
    cfg.probe_ports = true;
    cfg.port_overrides.insert("any.port.frida".into(), open);
    cfg.port_overrides.insert("any.port.needle".into(), closed);
    let start = Instant::now();
    let f = run_probes(&cfg);
    assert!(start.elapsed() < Duration::from_millis(500));
    let frida = obs(&f, "any.port.frida");
    assert_eq!(
        (frida.state, frida.evidence[0].value.clone()),
        (FactState::Present, Some(open.to_string()))
    );
    assert_eq!(obs(&f, "any.port.needle").state, FactState::Absent);
    let v = verdict(&f.merge(pixel_platform()));
    assert_eq!(rules(&v), [("indicators.hooking", DeviceDecision::Block)]);
}

#[test]
fn probes_of_this_machine_finish_within_budget() {
    let start = Instant::now();
    let f = run_probes(&ProbeConfig::system());
    assert!(start.elapsed() < Duration::from_secs(1));
    // We are not being traced by a debugger in CI.
    if cfg!(target_os = "linux") {
        assert_eq!(obs(&f, "android.tracer_pid").state, FactState::Absent);
    }
}

#[test]
fn package_visibility_denied_is_unknown() {
    let unknown = observe_packages(None);
    assert!(unknown.iter().all(|o| o.state == FactState::Unknown));
    let seen = observe_packages(Some(&["com.topjohnwu.magisk".to_owned()]));
    let m = seen
        .iter()
        .find(|o| o.id == "android.pkg.com_topjohnwu_magisk")
        .unwrap();
    assert_eq!(
        (m.state, m.evidence[0].source),
        (FactState::Present, EvidenceSource::Platform)
    );
}

/// Issue 9 item 8: a `frida-agent` line past the read cap must not read as
/// "absent". The maps file is longer than the cap, so the probe saw only part
/// of it: unknown, with the cap named.
#[test]
fn maps_longer_than_the_read_cap_is_unknown_not_absent() {
    let t = clean_android();
    let mut cfg = t.cfg(DevicePlatform::Android);
    cfg.max_file_bytes = 64 << 10;
    let mut maps = String::new();
    while (maps.len() as u64) <= cfg.max_file_bytes {
        maps.push_str(MAPS_CLEAN);
    }
    maps.push_str(
        "7b00000000-7b00100000 r-xp 00000000 fd:05 99 /data/local/tmp/frida-agent-64.so\n",
    );
    t.file("/proc/self/maps", &maps);
    let f = run_probes(&cfg);
    let frida = obs(&f, "android.maps.frida_agent");
    assert_eq!(frida.state, FactState::Unknown, "{frida:?}");
    let detail = frida.evidence[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("read cap"), "{detail}");
    // A file exactly at the cap is read whole.
    maps.truncate(cfg.max_file_bytes as usize);
    let keep = maps.rfind('\n').unwrap() + 1;
    maps.truncate(keep);
    t.file("/proc/self/maps", &maps);
    let f = run_probes(&cfg);
    assert_eq!(obs(&f, "android.maps.frida_agent").state, FactState::Absent);
}

/// The built-in table cut down to one indicator and no property files: a
/// probe run that only reads `/proc/self/{maps,mountinfo,status}`.
fn maps_only_table() -> IndicatorTable {
    let builtin = IndicatorTable::builtin();
    IndicatorTable {
        property_files: Vec::new(),
        indicators: vec![builtin.get("android.maps.frida_agent").unwrap().clone()],
        ..builtin.clone()
    }
}

/// Issue 9 item 8: a FIFO swapped in after a type check blocked `open()`
/// forever (a `stat` then `open` race). A thread keeps replacing
/// `/proc/self/maps` (atomic rename) by a regular file or a FIFO with no
/// writer while probes run; every run must finish, see either the file or
/// "not a regular file", and never block.
#[test]
fn fifo_swapped_in_during_a_probe_never_blocks_it() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let t = clean_android();
    let maps = t.p("/proc/self/maps");
    let regular = t.dir.path().join("maps.regular");
    let fifo = t.dir.path().join("maps.fifo");
    fs::write(&regular, MAPS_CLEAN).unwrap();
    mkfifo(&fifo);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, maps, tmp) = (stop.clone(), maps.clone(), t.dir.path().join("maps.tmp"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for src in [&regular, &fifo] {
                    let _ = fs::remove_file(&tmp);
                    fs::hard_link(src, &tmp).unwrap();
                    fs::rename(&tmp, &maps).unwrap();
                }
            }
        })
    };
    let mut cfg = t.cfg(DevicePlatform::Android);
    // Long enough that a blocked read cannot hide behind the budget.
    cfg.budget = Duration::from_secs(5);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let table = maps_only_table();
        let (mut file, mut not_regular) = (0u32, 0u32);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            let f = run_probes_with(&cfg, &table);
            let o = obs(&f, "android.maps.frida_agent");
            match (o.state, o.evidence[0].detail.as_deref()) {
                (FactState::Absent, None) => file += 1,
                (FactState::Unknown, Some("not a regular file")) => not_regular += 1,
                other => panic!("unexpected observation {other:?}"),
            }
        }
        done_tx.send((file, not_regular)).unwrap();
    });
    let result = done_rx.recv_timeout(Duration::from_secs(20));
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let (file, not_regular) = result.expect("a probe blocked on a FIFO swapped in (or panicked)");
    assert!(
        file > 0 && not_regular > 0,
        "both states seen: {file} file, {not_regular} FIFO"
    );
}

/// Issue 9 item 8: the time budget holds even while one check is slow (here
/// a property file so large that parsing it takes far longer than the
/// budget): the call returns at the deadline and what had not finished is
/// unknown.
#[test]
fn budget_is_enforced_while_a_check_is_still_running() {
    let t = clean_android();
    let mut props = String::from(PIXEL_PROPS);
    for i in 0..60_000 {
        props.push_str(&format!("vendor.filler.{i:07}=value-{i}\n"));
    }
    t.file("/system/build.prop", &props);
    let mut cfg = t.cfg(DevicePlatform::Android);
    cfg.max_file_bytes = 64 << 20;
    cfg.budget = Duration::from_secs(120);
    let start = Instant::now();
    let full = run_probes(&cfg);
    let unbounded = start.elapsed();
    assert_eq!(full.android_api_level.value.as_deref(), Some("35"));
    assert!(
        unbounded > Duration::from_millis(100),
        "the slow check must be slower than the budget below: {unbounded:?}"
    );

    cfg.budget = Duration::from_millis(10);
    let start = Instant::now();
    let f = run_probes(&cfg);
    let bounded = start.elapsed();
    assert!(
        bounded < unbounded / 2,
        "returned after {bounded:?}; the slow check alone takes {unbounded:?}"
    );
    assert_eq!(f.android_api_level.state, FactState::Unknown);
    assert!(!f.indicators.is_empty());
    for o in &f.indicators {
        assert_eq!(o.state, FactState::Unknown, "{}", o.id);
        assert_eq!(
            o.evidence[0].detail.as_deref(),
            Some("time budget exhausted"),
            "{}",
            o.id
        );
    }
}
