//! Rust probes: files, system property files, `/proc/self/*` and loopback ports.
//!
//! Every probe takes its filesystem root and proc root from [`ProbeConfig`],
//! so tests run them on fake trees built in temporary directories, and every
//! probe runs inside one time budget:
//!
//! * no process is spawned (RootBeer's `getprop`/`mount`/`which` without a
//!   timeout caused ANRs; see research §3);
//! * files are opened with `O_NONBLOCK | O_NOFOLLOW` and the opened
//!   descriptor must be a regular file (`fstat`), so a FIFO or symlink planted
//!   (or swapped in) where `/proc/self/maps` should be cannot block or
//!   redirect the read; a file longer than [`ProbeConfig::max_file_bytes`] is
//!   unknown (a `frida-agent` line past the cap must not read as "absent").
//!   Property files that are symlinks (`/default.prop` on Android 10+) are
//!   not followed; their targets are in the table themselves;
//! * port probes use `connect_timeout` bounded by the remaining budget;
//! * the probes run on a worker thread and the caller returns at the
//!   deadline: a check still running then, or not started, says
//!   [`FactState::Unknown`] ("time budget exhausted"), as does everything
//!   when the worker thread cannot be started. An unfinished check is never
//!   "clean".
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
use std::sync::{Arc, Mutex, mpsc};
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

struct Ctx {
    cfg: ProbeConfig,
    deadline: Instant,
}

impl Ctx {
    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    fn under(&self, root: &Path, abs: &str) -> PathBuf {
        root.join(abs.trim_start_matches('/'))
    }

    /// Reads a small regular file whole; `Err` carries the reason it is
    /// unknown. Nothing is trusted from before the open: the file is opened
    /// without blocking and without following a final symlink, and the
    /// opened descriptor's own type is checked (`fstat`), so a FIFO or a
    /// symlink swapped in after any earlier look cannot block or redirect the
    /// read. A file longer than the cap is an error, never a clean prefix.
    fn read(&self, path: &Path) -> Result<String, String> {
        if self.remaining().is_none() {
            return Err(BUDGET.into());
        }
        let file = open_no_follow_no_block(path).map_err(|e| kind_name(e.kind()))?;
        let meta = file.metadata().map_err(|e| kind_name(e.kind()))?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        let cap = self.cfg.max_file_bytes;
        let mut buf = Vec::new();
        file.take(cap.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| kind_name(e.kind()))?;
        if buf.len() as u64 > cap {
            return Err(format!(
                "longer than the {cap}-byte read cap: only part could be checked"
            ));
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

/// Opens for reading with `O_NONBLOCK | O_NOFOLLOW` (std's safe
/// `custom_flags`; the constants come from libc). `O_NONBLOCK` makes opening
/// a FIFO with no writer return at once; regular files ignore it.
fn open_no_follow_no_block(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    opts.open(path)
}

const BUDGET: &str = "time budget exhausted";

fn kind_name(k: ErrorKind) -> String {
    match k {
        ErrorKind::NotFound => "not found".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        other => format!("unreadable: {other}"),
    }
}

/// One indicator the probes check, with its port resolved.
#[derive(Clone)]
struct Check {
    ind: Indicator,
    port: u16,
}

impl Check {
    /// What the check looks at, before it has seen anything: the evidence
    /// every outcome starts from, including "too late".
    fn evidence(&self) -> DeviceEvidence {
        let ev = DeviceEvidence::probe();
        match self.ind.kind {
            IndicatorKind::Path => ev.path(&self.ind.target),
            IndicatorKind::Property | IndicatorKind::PropertyContains => {
                ev.property(&self.ind.target)
            }
            IndicatorKind::Maps => ev.path(MAPS),
            IndicatorKind::Mountinfo | IndicatorKind::MountRw => ev.path(MOUNTINFO),
            IndicatorKind::TracerPid => ev.path(STATUS).property("TracerPid"),
            _ => ev.property("tcp 127.0.0.1").value(self.port.to_string()),
        }
    }
}

const MAPS: &str = "/proc/self/maps";
const MOUNTINFO: &str = "/proc/self/mountinfo";
const STATUS: &str = "/proc/self/status";

/// The checks of `table` that apply to `cfg`, in table order.
fn plan(cfg: &ProbeConfig, table: &IndicatorTable) -> Vec<Check> {
    table
        .for_platform(cfg.platform)
        .filter_map(|ind| {
            let port = match ind.kind {
                IndicatorKind::Property | IndicatorKind::PropertyContains
                    if cfg.platform == DevicePlatform::Ios =>
                {
                    return None;
                }
                IndicatorKind::Port if !cfg.probe_ports => return None,
                IndicatorKind::Port => cfg
                    .port_overrides
                    .get(&ind.id)
                    .copied()
                    .or_else(|| ind.target.parse().ok())?,
                // Seen only by the platform collectors.
                IndicatorKind::LoadedImage | IndicatorKind::Package => return None,
                _ => 0,
            };
            Some(Check {
                ind: ind.clone(),
                port,
            })
        })
        .collect()
}

/// What the worker has finished so far. The caller takes it at the
/// deadline; the worker stops writing once `closed`.
#[derive(Default)]
struct Partial {
    closed: bool,
    /// OS facts from the property files, once read.
    os: Option<[DeviceFact; 3]>,
    /// One slot per check, in plan order.
    results: Vec<Option<(FactState, DeviceEvidence)>>,
}

type Shared = Arc<Mutex<Partial>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Partial> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs every probe of `table` that applies to `cfg.platform`.
///
/// The probes run on a worker thread and this call returns at the deadline
/// (`cfg.budget`) whatever the worker is doing: a check that has not
/// finished by then is [`FactState::Unknown`] ("time budget exhausted").
/// A worker stuck in the kernel (a hung filesystem) is left to finish on
/// its own; it writes nothing after the deadline.
pub fn run_probes_with(cfg: &ProbeConfig, table: &IndicatorTable) -> DeviceFacts {
    let ctx = Ctx {
        cfg: cfg.clone(),
        deadline: Instant::now() + cfg.budget,
    };
    let checks = plan(cfg, table);
    let shared: Shared = Arc::new(Mutex::new(Partial {
        results: vec![None; checks.len()],
        ..Partial::default()
    }));
    let deadline = ctx.deadline;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = {
        let (checks, shared) = (checks.clone(), shared.clone());
        let property_files = table.property_files.clone();
        move || {
            probe_all(&ctx, &checks, &property_files, &shared);
            let _ = done_tx.send(());
        }
    };
    let started = std::thread::Builder::new()
        .name("mamori-probes".into())
        .spawn(worker);
    if started.is_ok() {
        let _ = done_rx.recv_timeout(deadline_left(deadline));
    }
    let partial = {
        let mut p = lock(&shared);
        p.closed = true;
        std::mem::take(&mut *p)
    };
    let mut facts = DeviceFacts::new(cfg.platform);
    if cfg.platform != DevicePlatform::Ios {
        let os = partial
            .os
            .unwrap_or_else(|| props_to_facts(&Err(BUDGET.into())));
        [
            facts.os_version,
            facts.android_api_level,
            facts.security_patch,
        ] = os;
    }
    facts.indicators = checks
        .iter()
        .zip(partial.results.into_iter().chain(std::iter::repeat(None)))
        .map(|(c, r)| {
            let (state, ev) =
                r.unwrap_or_else(|| (FactState::Unknown, c.evidence().detail(BUDGET)));
            IndicatorObservation {
                id: c.ind.id.clone(),
                class: c.ind.class,
                strength: c.ind.strength,
                state,
                evidence: vec![ev],
            }
        })
        .collect();
    facts.normalize();
    facts
}

fn deadline_left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// The worker: reads, then checks, publishing each result as it is made.
fn probe_all(ctx: &Ctx, checks: &[Check], property_files: &[String], shared: &Shared) {
    let props = (ctx.cfg.platform != DevicePlatform::Ios).then(|| {
        let p = read_properties(ctx, property_files);
        let os = props_to_facts(&p);
        let mut s = lock(shared);
        if !s.closed {
            s.os = Some(os);
        }
        p
    });
    let maps = ctx.read(&ctx.cfg.proc_root.join("self/maps"));
    let mountinfo = ctx.read(&ctx.cfg.proc_root.join("self/mountinfo"));
    let status = ctx.read(&ctx.cfg.proc_root.join("self/status"));
    for (i, c) in checks.iter().enumerate() {
        let ind = &c.ind;
        let ev = c.evidence();
        let result = match ind.kind {
            IndicatorKind::Path => probe_path(ctx, &ind.target, ev),
            IndicatorKind::Property | IndicatorKind::PropertyContains => match &props {
                Some(p) => probe_property(p, ind, ev),
                None => continue,
            },
            IndicatorKind::Maps => probe_lines(&maps, ev, |l| l.contains(&ind.target)),
            IndicatorKind::Mountinfo => probe_lines(&mountinfo, ev, |l| l.contains(&ind.target)),
            IndicatorKind::MountRw => probe_lines(&mountinfo, ev, |l| mounted_rw(l, &ind.target)),
            IndicatorKind::TracerPid => probe_tracer(&status, ev),
            _ => probe_port(ctx, c.port, ev),
        };
        let mut s = lock(shared);
        if s.closed {
            return;
        }
        s.results[i] = Some(result);
    }
}

fn probe_path(ctx: &Ctx, abs: &str, ev: DeviceEvidence) -> (FactState, DeviceEvidence) {
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

fn read_properties(ctx: &Ctx, files: &[String]) -> Props {
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

/// OS version, API level and security patch, in that order.
fn props_to_facts(props: &Props) -> [DeviceFact; 3] {
    [
        prop_fact(props, "ro.build.version.release", |v| !v.is_empty()),
        prop_fact(props, "ro.build.version.sdk", |v| v.parse::<u32>().is_ok()),
        prop_fact(props, "ro.build.version.security_patch", |v| {
            super::parse_patch_level(v).is_some()
        }),
    ]
}

fn probe_property(
    props: &Props,
    ind: &Indicator,
    ev: DeviceEvidence,
) -> (FactState, DeviceEvidence) {
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

/// A `/proc` file's text, or why it could not be read.
type Lines = Result<String, String>;

fn probe_lines(
    lines: &Lines,
    ev: DeviceEvidence,
    hit: impl Fn(&str) -> bool,
) -> (FactState, DeviceEvidence) {
    match lines {
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

fn probe_tracer(status: &Lines, ev: DeviceEvidence) -> (FactState, DeviceEvidence) {
    match status {
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

fn probe_port(ctx: &Ctx, port: u16, ev: DeviceEvidence) -> (FactState, DeviceEvidence) {
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
