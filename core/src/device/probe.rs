//! Rust probes: files, system property files, `/proc/self/*` and loopback ports.
//!
//! Every probe takes its filesystem root and proc root from [`ProbeConfig`],
//! so tests run them on fake trees built in temporary directories, and every
//! probe runs inside one time budget:
//!
//! * no process is spawned (RootBeer's `getprop`/`mount`/`which` without a
//!   timeout caused ANRs; see research §3);
//! * files are opened only when `stat` says they are regular files, so a FIFO
//!   planted where `/proc/self/maps` should be cannot block `open()`, and reads
//!   are capped at [`ProbeConfig::max_file_bytes`];
//! * port probes use `connect_timeout` bounded by the remaining budget;
//! * once the budget is spent, the remaining checks say [`FactState::Unknown`]
//!   ("time budget exhausted"): an unfinished check is never "clean".
//!
//! Any error other than "not found" (permission denied, a symlink loop, a
//! directory where a file was expected) gives [`FactState::Unknown`] with the error
//! kind as evidence. On Android `/data/adb` is unreadable to apps by design,
//! so "cannot see Magisk's directory" must not read as "no Magisk".
//!
//! Limits, on purpose: system properties are read from property *files*
//! (`build.prop` and friends); runtime-only properties (`ro.boot.qemu`) need
//! bionic's property API, which the platform collector provides through the
//! `emulator` fact. The core stays free of `unsafe`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::facts::{
    DeviceEvidence, DeviceFact, DeviceFacts, DevicePlatform, FactState, IndicatorObservation,
};
use super::indicators::{Indicator, IndicatorKind, IndicatorTable};

/// Where and how long the probes look.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// Platform whose indicators are checked.
    pub platform: DevicePlatform,
    /// Filesystem root (`/` on a device; a temp dir in tests).
    pub fs_root: PathBuf,
    /// Proc root (`/proc` on a device); the probes read `<proc_root>/self/...`.
    pub proc_root: PathBuf,
    /// Total time budget for all probes.
    pub budget: Duration,
    /// Upper bound for one loopback connect.
    pub port_timeout: Duration,
    /// Whether to probe loopback ports at all.
    pub probe_ports: bool,
    /// Replaces the table's port for an indicator id (tests bind ephemeral ports).
    pub port_overrides: BTreeMap<String, u16>,
    /// Maximum bytes read from one file.
    pub max_file_bytes: u64,
}

impl ProbeConfig {
    /// Probes of the running system (`/`, `/proc`), for the platform this
    /// binary was built for.
    pub fn system() -> Self {
        let platform = if cfg!(target_os = "android") {
            DevicePlatform::Android
        } else if cfg!(target_os = "ios") {
            DevicePlatform::Ios
        } else {
            DevicePlatform::Other
        };
        Self::at(platform, "/", "/proc")
    }

    /// Probes of a tree rooted at `fs_root`, with `/proc` at `proc_root`.
    pub fn at(
        platform: DevicePlatform,
        fs_root: impl Into<PathBuf>,
        proc_root: impl Into<PathBuf>,
    ) -> Self {
        Self {
            platform,
            fs_root: fs_root.into(),
            proc_root: proc_root.into(),
            budget: Duration::from_millis(250),
            port_timeout: Duration::from_millis(50),
            probe_ports: true,
            port_overrides: BTreeMap::new(),
            max_file_bytes: 4 << 20,
        }
    }
}

/// Runs every probe in the built-in indicator table.
pub fn run_probes(cfg: &ProbeConfig) -> DeviceFacts {
    run_probes_with(cfg, IndicatorTable::builtin())
}

struct Ctx<'a> {
    cfg: &'a ProbeConfig,
    deadline: Instant,
}

impl Ctx<'_> {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn under(&self, root: &Path, abs: &str) -> PathBuf {
        root.join(abs.trim_start_matches('/'))
    }

    /// Reads a small regular file; `Err` carries the reason it is unknown.
    fn read(&self, path: &Path) -> Result<String, String> {
        if self.remaining().is_none() {
            return Err(BUDGET.into());
        }
        let meta = fs::metadata(path).map_err(|e| kind_name(e.kind()))?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        let mut buf = Vec::new();
        fs::File::open(path)
            .and_then(|f| f.take(self.cfg.max_file_bytes).read_to_end(&mut buf))
            .map_err(|e| kind_name(e.kind()))?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

const BUDGET: &str = "time budget exhausted";

fn kind_name(k: ErrorKind) -> String {
    match k {
        ErrorKind::NotFound => "not found".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        other => format!("unreadable: {other}"),
    }
}

/// Runs every probe of `table` that applies to `cfg.platform`.
pub fn run_probes_with(cfg: &ProbeConfig, table: &IndicatorTable) -> DeviceFacts {
    let ctx = Ctx {
        cfg,
        deadline: Instant::now() + cfg.budget,
    };
    let mut facts = DeviceFacts::new(cfg.platform);
    let rows: Vec<&Indicator> = table.for_platform(cfg.platform).collect();

    let props = if cfg.platform == DevicePlatform::Ios {
        None
    } else {
        let p = read_properties(&ctx, &table.property_files);
        props_to_facts(&p, &mut facts);
        Some(p)
    };
    let maps = lines_of(&ctx, "self/maps");
    let mountinfo = lines_of(&ctx, "self/mountinfo");
    let status = lines_of(&ctx, "self/status");

    let mut out = Vec::with_capacity(rows.len());
    for ind in rows {
        let (state, ev) = match ind.kind {
            IndicatorKind::Path => probe_path(&ctx, &ind.target),
            IndicatorKind::Property | IndicatorKind::PropertyContains => match &props {
                Some(p) => probe_property(p, ind),
                None => continue,
            },
            IndicatorKind::Maps => probe_lines(&maps, "self/maps", |l| l.contains(&ind.target)),
            IndicatorKind::Mountinfo => {
                probe_lines(&mountinfo, "self/mountinfo", |l| l.contains(&ind.target))
            }
            IndicatorKind::MountRw => {
                probe_lines(&mountinfo, "self/mountinfo", |l| mounted_rw(l, &ind.target))
            }
            IndicatorKind::TracerPid => probe_tracer(&status),
            IndicatorKind::Port => {
                if !cfg.probe_ports {
                    continue;
                }
                let port = cfg
                    .port_overrides
                    .get(&ind.id)
                    .copied()
                    .or_else(|| ind.target.parse().ok());
                match port {
                    Some(p) => probe_port(&ctx, p),
                    None => continue,
                }
            }
            // Seen only by the platform collectors.
            IndicatorKind::LoadedImage | IndicatorKind::Package => continue,
        };
        out.push(IndicatorObservation {
            id: ind.id.clone(),
            class: ind.class,
            strength: ind.strength,
            state,
            evidence: vec![ev],
        });
    }
    facts.indicators = out;
    facts.normalize();
    facts
}

fn probe_path(ctx: &Ctx<'_>, abs: &str) -> (FactState, DeviceEvidence) {
    let ev = DeviceEvidence::probe().path(abs);
    if ctx.remaining().is_none() {
        return (FactState::Unknown, ev.detail(BUDGET));
    }
    match fs::symlink_metadata(ctx.under(&ctx.cfg.fs_root, abs)) {
        Ok(m) => {
            let t = if m.file_type().is_symlink() {
                "symlink"
            } else if m.is_dir() {
                "directory"
            } else {
                "file"
            };
            (FactState::Present, ev.value(t))
        }
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            (FactState::Absent, ev)
        }
        Err(e) => (FactState::Unknown, ev.detail(kind_name(e.kind()))),
    }
}

/// Properties read from files: name -> (value, file). `Err` when no file was readable.
type Props = Result<BTreeMap<String, (String, String)>, String>;

fn read_properties(ctx: &Ctx<'_>, files: &[String]) -> Props {
    let mut map = BTreeMap::new();
    let mut any = false;
    let mut last_err = String::from("no property file");
    for f in files {
        match ctx.read(&ctx.under(&ctx.cfg.fs_root, f)) {
            Ok(text) => {
                any = true;
                for line in text.lines() {
                    let line = line.trim();
                    if line.starts_with('#') {
                        continue;
                    }
                    if let Some((k, v)) = line.split_once('=') {
                        map.entry(k.trim().to_owned())
                            .or_insert_with(|| (v.trim().to_owned(), f.clone()));
                    }
                }
            }
            Err(e) => last_err = format!("no property file readable (last: {f}: {e})"),
        }
    }
    if any { Ok(map) } else { Err(last_err) }
}

fn prop_fact(props: &Props, key: &str, check: impl Fn(&str) -> bool) -> DeviceFact {
    match props {
        Err(e) => DeviceFact::flag(
            FactState::Unknown,
            DeviceEvidence::probe().property(key).detail(e),
        ),
        Ok(map) => match map.get(key) {
            None => DeviceFact::flag(
                FactState::Unknown,
                DeviceEvidence::probe()
                    .property(key)
                    .detail("not set in the property files read"),
            ),
            Some((v, file)) if check(v) => {
                DeviceFact::known(v, DeviceEvidence::probe().property(key).path(file).value(v))
            }
            Some((v, file)) => DeviceFact::flag(
                FactState::Unknown,
                DeviceEvidence::probe()
                    .property(key)
                    .path(file)
                    .value(v)
                    .detail("unparseable"),
            ),
        },
    }
}

fn props_to_facts(props: &Props, facts: &mut DeviceFacts) {
    facts.os_version = prop_fact(props, "ro.build.version.release", |v| !v.is_empty());
    facts.android_api_level =
        prop_fact(props, "ro.build.version.sdk", |v| v.parse::<u32>().is_ok());
    facts.security_patch = prop_fact(props, "ro.build.version.security_patch", |v| {
        super::parse_patch_level(v).is_some()
    });
}

fn probe_property(props: &Props, ind: &Indicator) -> (FactState, DeviceEvidence) {
    let ev = DeviceEvidence::probe().property(&ind.target);
    let want = ind.equals.as_deref().unwrap_or_default();
    match props {
        Err(e) => (FactState::Unknown, ev.detail(e)),
        Ok(map) => match map.get(&ind.target) {
            None => (
                FactState::Absent,
                ev.detail("not set in the property files read"),
            ),
            Some((v, file)) => {
                let hit = match ind.kind {
                    IndicatorKind::PropertyContains => v.contains(want),
                    _ => v == want,
                };
                let ev = ev.path(file).value(v);
                (
                    if hit {
                        FactState::Present
                    } else {
                        FactState::Absent
                    },
                    ev,
                )
            }
        },
    }
}

type Lines = (Result<String, String>, String);

fn lines_of(ctx: &Ctx<'_>, rel: &str) -> Lines {
    // DeviceEvidence names the logical path, not where a test tree happens to live.
    (
        ctx.read(&ctx.cfg.proc_root.join(rel)),
        format!("/proc/{rel}"),
    )
}

fn probe_lines(
    lines: &Lines,
    _what: &str,
    hit: impl Fn(&str) -> bool,
) -> (FactState, DeviceEvidence) {
    let (text, path) = lines;
    let ev = DeviceEvidence::probe().path(path.clone());
    match text {
        Err(e) => (FactState::Unknown, ev.detail(e.clone())),
        Ok(t) => match t.lines().find(|l| hit(l)) {
            Some(l) => (FactState::Present, ev.value(l.trim())),
            None => (FactState::Absent, ev),
        },
    }
}

/// `mountinfo` fields: id parent major:minor root mount-point options ...
fn mounted_rw(line: &str, mount_point: &str) -> bool {
    let mut f = line.split_whitespace();
    let point = f.nth(4);
    let opts = f.next();
    point == Some(mount_point) && opts.is_some_and(|o| o.split(',').any(|x| x == "rw"))
}

fn probe_tracer(status: &Lines) -> (FactState, DeviceEvidence) {
    let (text, path) = status;
    let ev = DeviceEvidence::probe()
        .path(path.clone())
        .property("TracerPid");
    match text {
        Err(e) => (FactState::Unknown, ev.detail(e.clone())),
        Ok(t) => {
            let v = t
                .lines()
                .find_map(|l| l.strip_prefix("TracerPid:"))
                .map(str::trim);
            match v.map(|v| (v, v.parse::<u32>())) {
                Some((v, Ok(0))) => (FactState::Absent, ev.value(v)),
                Some((v, Ok(_))) => (FactState::Present, ev.value(v)),
                Some((v, Err(_))) => (FactState::Unknown, ev.value(v).detail("unparseable")),
                None => (FactState::Unknown, ev.detail("no TracerPid line")),
            }
        }
    }
}

fn probe_port(ctx: &Ctx<'_>, port: u16) -> (FactState, DeviceEvidence) {
    let ev = DeviceEvidence::probe()
        .property("tcp 127.0.0.1")
        .value(port.to_string());
    let Some(left) = ctx.remaining() else {
        return (FactState::Unknown, ev.detail(BUDGET));
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match TcpStream::connect_timeout(&addr, left.min(ctx.cfg.port_timeout)) {
        Ok(_) => (FactState::Present, ev.detail("listening")),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => (FactState::Absent, ev),
        Err(e) => (FactState::Unknown, ev.detail(kind_name(e.kind()))),
    }
}

/// Observations for the iOS loaded-image list handed in by the Swift
/// collector (`_dyld_get_image_name`), matched against the table's
/// `loaded_image` substrings, case-insensitively.
pub fn observe_loaded_images(images: &[String]) -> Vec<IndicatorObservation> {
    let lower: Vec<String> = images.iter().map(|s| s.to_lowercase()).collect();
    IndicatorTable::builtin()
        .indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::LoadedImage)
        .map(|i| {
            let hit = lower.iter().position(|l| l.contains(&i.target));
            let ev = DeviceEvidence::platform().property("dyld image list");
            let (state, ev) = match hit {
                Some(n) => (FactState::Present, ev.value(images[n].clone())),
                None => (FactState::Absent, ev),
            };
            IndicatorObservation {
                id: i.id.clone(),
                class: i.class,
                strength: i.strength,
                state,
                evidence: vec![ev],
            }
        })
        .collect()
}

/// Observations for the table's `package` indicators, given the packages the
/// Kotlin collector found installed. `None` (the app cannot see other
/// packages: Android 11+ package visibility without `<queries>`) makes them
/// unknown rather than absent.
pub fn observe_packages(installed: Option<&[String]>) -> Vec<IndicatorObservation> {
    IndicatorTable::builtin()
        .indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::Package)
        .map(|i| {
            let ev = DeviceEvidence::platform()
                .property("PackageManager.getPackageInfo")
                .value(i.target.clone());
            let (state, ev) = match installed {
                None => (
                    FactState::Unknown,
                    ev.detail("package visibility not granted"),
                ),
                Some(list) if list.contains(&i.target) => (FactState::Present, ev),
                Some(_) => (FactState::Absent, ev),
            };
            IndicatorObservation {
                id: i.id.clone(),
                class: i.class,
                strength: i.strength,
                state,
                evidence: vec![ev],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_rw_parsing() {
        let l = "22 1 253:0 / /system rw,relatime shared:1 - ext4 /dev/block/dm-0 rw";
        assert!(mounted_rw(l, "/system"));
        assert!(!mounted_rw(l, "/vendor"));
        let l = "22 1 253:0 / /system ro,relatime shared:1 - ext4 /dev/block/dm-0 rw";
        assert!(!mounted_rw(l, "/system"));
    }
}
