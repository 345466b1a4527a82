//! Pinning configured in code: OkHttp `CertificatePinner.Builder` in Kotlin
//! and Java, TrustKit dictionaries passed to `initSharedInstance` in Swift and
//! Objective-C, and `buildConfigField`s in Gradle files (issue 12, items 2-4).
//!
//! Real apps rarely write pins as string literals inside `.add(...)`: they
//! use constants, lists with the spread operator, loops, concatenations,
//! templates and `BuildConfig` fields. A regular expression reads none of
//! these, so each file is parsed with its language's tree-sitter grammar and
//! the expressions that reach `.add(...)` or `initSharedInstance` are
//! evaluated by a small interpreter of constants ([`eval`]). What it cannot
//! evaluate is not guessed: it becomes an [`Unresolved`] entry naming the
//! expression and where its value lives, which the audit reports.
//!
//! Files given together are one program: a constant in `Pins.kt` resolves in
//! `Network.kt`, and `BuildConfig.PIN` resolves from the `buildConfigField`
//! of a `build.gradle(.kts)` given alongside.
//!
//! Each file's text is limited to [`crate::limits::MAX_SOURCE_BYTES`];
//! parsing is linear, the walk is iterative (no stack per nesting level) and
//! evaluation is bounded in depth and value size.

mod eval;
mod gradle;
mod lex;

use std::collections::HashMap;

pub(crate) use eval::Lang;
use eval::{Ctx, Parsed, Program, Site, Val, Why, WhyKind};
use plist::{Dictionary, Value};

use super::apple;
use super::base64::Base64Dialect;
use super::error::ImportError;
use super::model::{
    AuditConfig, DomainEntry, LenientPin, Location, PinScope, SourceFormat, Unresolved,
};

/// What a source file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Code(Lang),
    Gradle,
}

/// One input file of a group.
pub(crate) struct Input {
    pub file: String,
    pub text: String,
    pub kind: Kind,
}

/// Recognises Kotlin, Java, Swift, Objective-C and Gradle build files from
/// their content (the extension is not trusted: files are often renamed
/// `.txt` when attached to a ticket).
pub(crate) fn detect(text: &str) -> Option<Kind> {
    let t = text.trim_start_matches('\u{feff}');
    let has = |s: &str| t.contains(s);
    let lines = || t.lines().map(str::trim);
    let gradle = has("buildConfigField")
        || (has("android {") && (has("defaultConfig") || has("compileSdk")))
        || (has("plugins {") && has("dependencies {") && !has("fun ") && !has("class "));
    if gradle && !has("CertificatePinner.Builder") && !has("initSharedInstance") {
        return Some(Kind::Gradle);
    }
    let mut score: HashMap<&str, i32> = HashMap::new();
    let mut bump = |lang: &'static str, n: i32| *score.entry(lang).or_default() += n;
    for l in lines().take(20_000) {
        if l.starts_with("#import")
            || l.starts_with("@interface")
            || l.starts_with("@implementation")
        {
            bump("objc", 3);
        }
        if l.starts_with("import ") {
            if l.ends_with(';') {
                bump("java", 2);
            } else if l.split_whitespace().nth(1).is_some_and(|m| m.contains('.')) {
                bump("kotlin", 2);
            } else {
                bump("swift", 2);
            }
        }
        if l.starts_with("package ") {
            if l.ends_with(';') {
                bump("java", 2);
            } else {
                bump("kotlin", 2);
            }
        }
        if l.starts_with("fun ")
            || l.contains(" fun ")
            || l.starts_with("val ")
            || l.contains("const val ")
            || l.starts_with("object ")
        {
            bump("kotlin", 2);
        }
        if l.contains("static final ")
            || l.starts_with("public class ")
            || l.contains("new CertificatePinner")
        {
            bump("java", 2);
        }
        if l.starts_with("func ")
            || l.contains(" func ")
            || l.starts_with("let ")
            || l.contains("initSharedInstance(withConfiguration")
        {
            bump("swift", 2);
        }
        if l.contains("@{")
            || l.contains("@[")
            || l.contains("@\"")
            || l.contains("initSharedInstanceWithConfiguration")
        {
            bump("objc", 2);
        }
    }
    let (best, n) = score.into_iter().max_by_key(|(k, v)| (*v, *k))?;
    if n < 2 {
        return None;
    }
    let relevant = has("CertificatePinner")
        || has("TrustKit")
        || has("kTSK")
        || has("TSKPinnedDomains")
        || has("sha256/")
        || has("const val")
        || has("static final")
        || has("let ")
        || has("NSString");
    if !relevant {
        return None;
    }
    Some(Kind::Code(match best {
        "kotlin" => Lang::Kotlin,
        "java" => Lang::Java,
        "swift" => Lang::Swift,
        _ => Lang::ObjC,
    }))
}

/// The source format a code kind configures.
pub(crate) fn format_of(kind: Kind) -> Option<SourceFormat> {
    match kind {
        Kind::Code(Lang::Kotlin | Lang::Java) => Some(SourceFormat::OkHttp),
        Kind::Code(Lang::Swift | Lang::ObjC) => Some(SourceFormat::TrustKit),
        Kind::Gradle => None,
    }
}

/// Reads a group of files given together. Returns one configuration per
/// file that builds a `CertificatePinner` or initialises TrustKit; the other
/// files (constants, Gradle) only contribute values.
pub(crate) fn import_group(inputs: &[Input]) -> Result<Vec<AuditConfig>, ImportError> {
    import_group_as(inputs, true)
}

/// [`import_group`], parsing only the files that can matter (`lazy`) or
/// every file (the reference the pre-pass is tested against).
fn import_group_as(inputs: &[Input], lazy: bool) -> Result<Vec<AuditConfig>, ImportError> {
    for i in inputs {
        crate::limits::check_source(i.text.len()).map_err(|limit| ImportError::Limit {
            file: i.file.clone(),
            limit,
        })?;
    }
    // `buildConfigField`s become a generated BuildConfig.java, as AGP does.
    let mut fields = Vec::new();
    let mut field_origin: Vec<(String, u32, String)> = Vec::new();
    let mut gradle_unread: Vec<Location> = Vec::new();
    for i in inputs.iter().filter(|i| i.kind == Kind::Gradle) {
        let (f, unread) = gradle::fields(&i.text);
        field_origin.extend(
            f.iter()
                .map(|x| (i.file.clone(), x.line, x.variant.clone())),
        );
        fields.extend(f);
        gradle_unread.extend(unread.into_iter().map(|l| Location::new(&i.file, Some(l))));
    }
    let generated = gradle::java_source(&fields);
    let all_code: Vec<(&str, &str, Lang)> = inputs
        .iter()
        .filter_map(|i| match i.kind {
            Kind::Code(lang) => Some((i.file.as_str(), i.text.as_str(), lang)),
            Kind::Gradle => None,
        })
        .collect();
    // Only the files that can hold a call site or a value one reaches are
    // parsed (`lex`): the others cannot change the findings.
    let needed = if lazy {
        lex::needed(
            &all_code
                .iter()
                .map(|(_, t, l)| (*t, *l))
                .collect::<Vec<_>>(),
        )
    } else {
        vec![true; all_code.len()]
    };
    let code: Vec<(&str, &str, Lang)> = all_code
        .iter()
        .zip(needed)
        .filter_map(|(c, n)| n.then_some(*c))
        .collect();
    let mut parsed: Vec<Parsed> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let unparsed = |file: &str, why| match why {
        eval::Unparsed::NoTree | eval::Unparsed::Cancelled => ImportError::Syntax {
            location: Location::new(file, None),
            what: "source code",
            reason: "the parser gave no syntax tree".into(),
        },
        eval::Unparsed::Budget(limit) => ImportError::Limit {
            file: file.into(),
            limit,
        },
    };
    let results = eval::parse_all(&code);
    // A file that spent its budget stopped the others (`Cancelled`): its
    // error is the group's, whatever the order.
    if let Some((file, why)) = results
        .iter()
        .zip(&code)
        .find_map(|(r, (file, _, _))| match r {
            Err(eval::Unparsed::Budget(limit)) => Some((file, limit.clone())),
            _ => None,
        })
    {
        return Err(ImportError::Limit {
            file: (*file).into(),
            limit: why,
        });
    }
    for (p, (file, _, _)) in results.into_iter().zip(&code) {
        names.push(file);
        parsed.push(p.map_err(|why| unparsed(file, why))?);
    }
    let code_files = parsed.len();
    if !fields.is_empty() {
        // Generated from string literals, so it parses; a budget spent on a
        // huge one is still an error, never a panic.
        let p = eval::parse(
            "BuildConfig.java",
            &generated,
            Lang::Java,
            &std::sync::atomic::AtomicBool::new(false),
        );
        parsed.push(p.map_err(|why| unparsed("BuildConfig.java", why))?);
    }
    let prog = Program::build(&parsed, &|name| {
        matches!(
            name,
            "add"
                | "initSharedInstance"
                | "initSharedInstanceWithConfiguration"
                | "initWithConfiguration"
                | "TrustKit"
        )
    });
    // Where a position is: a code file, or (line n + 2 of the generated
    // class is field n) the `buildConfigField` and its block.
    let origin = |file: usize, line: u32| -> (Location, Option<&str>) {
        if file >= code_files {
            match field_origin.get((line as usize).saturating_sub(2)) {
                Some((f, l, v)) => (Location::new(f, Some(*l)), Some(v.as_str())),
                None => (Location::new("build.gradle", None), None),
            }
        } else {
            (Location::new(names[file], Some(line)), None)
        }
    };
    let locate = |w: &Why| -> (Location, String) {
        let loc = origin(w.file, w.line).0;
        let WhyKind::BuildConfigVariants(_, c) = &w.kind else {
            return (loc, w.hint());
        };
        let each: Vec<String> = c
            .iter()
            .map(|(v, f, l)| {
                let (loc, block) = origin(*f, *l);
                let v = v
                    .as_deref()
                    .map_or("(not a string)".into(), |s| format!("{s:?}"));
                match block.filter(|b| !b.is_empty()) {
                    Some(b) => format!("{v} in {b} ({loc})"),
                    None => format!("{v} ({loc})"),
                }
            })
            .collect();
        (loc, format!("{}: {}", w.hint(), each.join(", ")))
    };
    let mut out: Vec<Option<AuditConfig>> = (0..code_files).map(|_| None).collect();
    let mut builders: HashMap<(usize, String), usize> = HashMap::new();
    let mut indexes: Vec<HashMap<(usize, String), usize>> =
        (0..code_files).map(|_| HashMap::new()).collect();
    for site in &prog.sites {
        let p = &parsed[site.file];
        match p.lang {
            Lang::Kotlin | Lang::Java => {
                okhttp_add(&prog, site, &mut builders, &mut indexes, &mut out, &locate)?;
            }
            Lang::Swift | Lang::ObjC => {
                trustkit_init(&prog, site, &mut out, &locate)?;
            }
        }
    }
    let mut configs: Vec<AuditConfig> = out.into_iter().flatten().collect();
    if configs.is_empty() {
        return Err(ImportError::UnknownFormat {
            file: all_code
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>()
                .join(", "),
            reason: "source code without a CertificatePinner.Builder().add(...) call or a TrustKit initSharedInstance(withConfiguration:) call".into(),
        });
    }
    if let Some(first) = configs.first_mut() {
        for loc in gradle_unread {
            first.unresolved.push(Unresolved {
                expression: "buildConfigField(...)".into(),
                location: loc,
                host: None,
                build_config: true,
                hint: "a buildConfigField whose arguments are not three string literals".into(),
            });
        }
    }
    Ok(configs)
}

/// Where an unevaluated value is written, and the hint that says where its
/// value is (for a `BuildConfig` field with variants, each value and where).
type Locate<'a> = dyn Fn(&Why) -> (Location, String) + 'a;

fn unresolved(w: &Why, host: Option<&str>, locate: &Locate) -> Unresolved {
    let (location, hint) = locate(w);
    Unresolved {
        expression: w.expr.clone(),
        location,
        host: host.map(str::to_owned),
        build_config: matches!(
            w.kind,
            WhyKind::BuildConfig(_) | WhyKind::BuildConfigVariants(..)
        ),
        hint,
    }
}

/// The strings of an argument value: a string, or each element of a loop
/// variable; `Err` with the unknown part otherwise.
fn strings(v: &Val) -> Result<Vec<String>, Option<std::rc::Rc<Why>>> {
    match v {
        Val::Str(s) => Ok(vec![s.clone()]),
        Val::Each(items) | Val::List(items) => {
            let mut out = Vec::new();
            for x in items.iter() {
                match x {
                    Val::Str(s) => out.push(s.clone()),
                    Val::Unknown(w) => return Err(Some(w.clone())),
                    _ => return Err(None),
                }
            }
            Ok(out)
        }
        Val::Unknown(w) => Err(Some(w.clone())),
        _ => Err(None),
    }
}

fn pin_like(s: &str) -> bool {
    s.starts_with("sha256/") || s.starts_with("sha1/")
}

/// One `.add(pattern, pins...)` call.
fn okhttp_add<'t>(
    prog: &Program<'t>,
    site: &Site<'t>,
    builders: &mut HashMap<(usize, String), usize>,
    indexes: &mut [HashMap<(usize, String), usize>],
    out: &mut [Option<AuditConfig>],
    locate: &Locate,
) -> Result<(), ImportError> {
    let p = &prog.files[site.file];
    let index = &mut indexes[site.file];
    let ctx = Ctx::at(site);
    let args = prog.args(&ctx, site.node);
    // Which builder: a chain on `CertificatePinner.Builder()`, a variable or
    // parameter of that type, the receiver of an `apply { }`, or (for an
    // unknown receiver) pins that look like OkHttp pins.
    let key = match eval::receiver(p, site.node) {
        Some(r) => match prog.builder_root(site.file, r) {
            Some(root) => Some(eval::builder_key(site.file, root)),
            None => prog
                .chain_root_name(site.file, r)
                .and_then(|n| prog.pinner_variable(site, n)),
        },
        None => site.implicit_builder.and_then(|b| {
            prog.builder_root(site.file, b)
                .map(|root| eval::builder_key(site.file, root))
                .or_else(|| {
                    prog.chain_root_name(site.file, b)
                        .and_then(|n| prog.pinner_variable(site, n))
                })
        }),
    };
    let key = match key {
        Some(k) => k,
        None => {
            let looks = args.len() >= 2
                && matches!(strings(&args[0].0), Ok(h) if h.iter().all(|h| !pin_like(h)))
                && args[1..]
                    .iter()
                    .all(|(v, _)| matches!(strings(v), Ok(ps) if !ps.is_empty() && ps.iter().all(|s| pin_like(s))));
            if !looks {
                return Ok(());
            }
            let r = eval::receiver(p, site.node)
                .map(|r| eval::node_text(p, r).to_owned())
                .unwrap_or_default();
            format!("recv:{}", r.split('.').next().unwrap_or(""))
        }
    };
    let next = builders.len();
    let group = *builders.entry((site.file, key)).or_insert(next);
    let cfg = out[site.file].get_or_insert_with(|| AuditConfig::new(p.name, SourceFormat::OkHttp));
    let call_line = add_line(p, site);
    let loc = Location::new(p.name, Some(call_line));
    let Some((host_v, _)) = args.first() else {
        return Err(super::okhttp::refuse(
            loc,
            "add() needs a pattern and at least one pin",
        ));
    };
    let hosts = match strings(host_v) {
        Ok(h) => h,
        Err(w) => {
            let w = w.unwrap_or_else(|| std::rc::Rc::new(other_why(site, call_line)));
            cfg.unresolved.push(unresolved(&w, None, locate));
            return Ok(());
        }
    };
    let mut pins: Vec<(String, Location)> = Vec::new();
    let mut unknown: Vec<Unresolved> = Vec::new();
    for (v, node) in &args[1..] {
        let l = Location::new(p.name, Some(eval::node_line(*node)));
        match strings(v) {
            Ok(ps) => pins.extend(ps.into_iter().map(|s| (s, l.clone()))),
            Err(w) => {
                let w =
                    w.unwrap_or_else(|| std::rc::Rc::new(other_why(site, eval::node_line(*node))));
                unknown.push(unresolved(&w, None, locate));
            }
        }
    }
    if pins.is_empty() && unknown.is_empty() {
        // `add(pattern, vararg pins)` loops over the pins: with none it
        // adds nothing and does not even check the pattern.
        cfg.ignored.push(crate::audit::model::Ignored {
            name: format!(
                "add({}) without pins (OkHttp adds nothing: the host is not pinned)",
                hosts
                    .iter()
                    .map(|h| format!("{h:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            location: loc,
        });
        return Ok(());
    }
    for h in &hosts {
        let host = super::okhttp::add(cfg, h, &pins, loc.clone(), group, index)?;
        for u in &unknown {
            let mut u = u.clone();
            u.host = Some(host.clone());
            cfg.unresolved.push(u);
        }
    }
    Ok(())
}

fn other_why(site: &Site, line: u32) -> Why {
    Why {
        expr: "argument".into(),
        line,
        file: site.file,
        kind: WhyKind::Other,
    }
}

/// The line of the `add` name itself (a chain starts lines earlier).
fn add_line(p: &Parsed, site: &Site) -> u32 {
    eval::node_line(eval::callee_node(p, site.node))
}

/// `TrustKit.initSharedInstance(withConfiguration: cfg)`,
/// `TrustKit(configuration: cfg)`, `[TrustKit initSharedInstanceWithConfiguration:cfg]`,
/// `[[TrustKit alloc] initWithConfiguration:cfg]`.
fn trustkit_init<'t>(
    prog: &Program<'t>,
    site: &Site<'t>,
    out: &mut [Option<AuditConfig>],
    locate: &Locate,
) -> Result<(), ImportError> {
    let p = &prog.files[site.file];
    let n = site.node;
    let t = eval::node_text(p, n);
    let arg = match p.lang {
        Lang::Swift => {
            if !(t.starts_with("TrustKit.initSharedInstance") || t.starts_with("TrustKit(")) {
                return Ok(());
            }
            let mut c = n.walk();
            let suffix = n.named_children(&mut c).find(|k| k.kind() == "call_suffix");
            suffix
                .and_then(|s| s.named_child(0))
                .and_then(|args| eval::first_named(args, "value_argument"))
                .and_then(|a| a.child_by_field_name("value"))
        }
        _ => {
            let recv = n
                .child_by_field_name("receiver")
                .map(|r| eval::node_text(p, r));
            let ok = matches!(recv, Some("TrustKit"))
                || recv.is_some_and(|r| r.replace(' ', "") == "[TrustKitalloc]");
            if !ok {
                return Ok(());
            }
            let method = n.child_by_field_name("method");
            let mut c = n.walk();
            let kids: Vec<_> = n.named_children(&mut c).collect();
            kids.into_iter().skip_while(|k| Some(*k) != method).nth(1)
        }
    };
    let line = eval::node_line(n);
    let loc = Location::new(p.name, Some(line));
    let Some(arg) = arg else {
        return Err(ImportError::Syntax {
            location: loc,
            what: "TrustKit initialisation",
            reason: "no configuration argument".into(),
        });
    };
    let ctx = Ctx::at(site);
    let value = prog.eval(&ctx, arg, 0);
    let cfg =
        out[site.file].get_or_insert_with(|| AuditConfig::new(p.name, SourceFormat::TrustKit));
    let Val::Dict(root) = value else {
        let w = match value {
            Val::Unknown(w) => (*w).clone(),
            _ => other_why(site, line),
        };
        cfg.unresolved.push(unresolved(&w, None, locate));
        return Ok(());
    };
    trustkit_dict(cfg, &root, p.name, loc, locate)
}

/// A TrustKit dictionary from code, read by the plist importer's rules; the
/// domains whose pins could not all be evaluated are read here with the
/// pins that could.
fn trustkit_dict(
    cfg: &mut AuditConfig,
    root: &[(Val, Val, u32)],
    file: &str,
    call: Location,
    locate: &Locate,
) -> Result<(), ImportError> {
    let mut top = Dictionary::new();
    let mut lines: HashMap<String, u32> = HashMap::new();
    let mut partial: Vec<DomainEntry> = Vec::new();
    for (k, v, _) in root {
        let Some(key) = key_str(k, cfg, locate) else {
            continue;
        };
        if key != apple::TSK_PINNED_DOMAINS {
            if let Some(pv) = to_plist(v, cfg, None, locate) {
                top.insert(key, pv);
            }
            continue;
        }
        let Val::Dict(domains) = v else {
            if let Val::Unknown(w) = v {
                cfg.unresolved.push(unresolved(w, None, locate));
                continue;
            }
            top.insert(key, Value::String(String::new()));
            continue;
        };
        let mut dd = Dictionary::new();
        for (dk, dv, dl) in domains.iter() {
            let Some(host) = key_str(dk, cfg, locate) else {
                continue;
            };
            lines.insert(host.to_lowercase(), *dl);
            let Val::Dict(entries) = dv else {
                match dv {
                    Val::Unknown(w) => cfg.unresolved.push(unresolved(w, Some(&host), locate)),
                    _ => {
                        dd.insert(host, Value::String(String::new()));
                    }
                }
                continue;
            };
            let mut e = Dictionary::new();
            let mut missing = Vec::new();
            for (ek, ev, _) in entries.iter() {
                let Some(ek) = key_str(ek, cfg, locate) else {
                    continue;
                };
                if let Some(pv) = to_plist(ev, cfg, Some((&host, &mut missing)), locate) {
                    e.insert(ek, pv);
                }
            }
            if missing.is_empty() {
                dd.insert(host, Value::Dictionary(e));
            } else {
                let loc = Location::new(file, Some(*dl));
                let mut d =
                    DomainEntry::new(&host.to_lowercase(), SourceFormat::TrustKit, loc.clone());
                d.has_pin_set = true;
                d.include_subdomains = e
                    .get(apple::TSK_INCLUDE_SUBDOMAINS)
                    .and_then(Value::as_boolean)
                    .unwrap_or(false);
                d.enforce = e
                    .get(apple::TSK_ENFORCE_PINNING)
                    .and_then(Value::as_boolean)
                    .unwrap_or(true);
                d.default_report_uri = !e
                    .get(apple::TSK_DISABLE_DEFAULT_REPORT_URI)
                    .and_then(Value::as_boolean)
                    .unwrap_or(false);
                if let Some(Value::Array(hs)) = e.get(apple::TSK_PUBLIC_KEY_HASHES) {
                    for h in hs.iter().filter_map(Value::as_string) {
                        let (entry, lenient) =
                            LenientPin::read_or_dead(Base64Dialect::Apple, h, PinScope::Any, &loc);
                        d.pins.extend(entry);
                        d.lenient_pins.extend(lenient);
                    }
                }
                partial.push(d);
                cfg.unresolved.extend(missing);
            }
        }
        top.insert(key, Value::Dictionary(dd));
    }
    let imported = apple::import_trustkit(&top, file, None).map_err(|e| match e {
        ImportError::Refused {
            location,
            platform,
            reason,
        } if location.line.is_none() => {
            let line = lines
                .iter()
                .filter(|(h, _)| reason.contains(h.as_str()))
                .map(|(_, l)| *l)
                .next()
                .or(call.line);
            ImportError::Refused {
                location: Location::new(file, line),
                platform,
                reason,
            }
        }
        other => other,
    });
    let imported = match imported {
        Ok(c) => c,
        // Every domain had unevaluated pins: nothing left for the importer.
        Err(_)
            if !partial.is_empty()
                && top
                    .get(apple::TSK_PINNED_DOMAINS)
                    .and_then(Value::as_dictionary)
                    .is_some_and(|d| d.is_empty()) =>
        {
            AuditConfig::new(file, SourceFormat::TrustKit)
        }
        Err(e) => return Err(e),
    };
    for mut d in imported.domains.into_iter().chain(partial) {
        if let Some(l) = lines.get(&d.host) {
            let loc = Location::new(file, Some(*l));
            d.location = loc.clone();
            for p in &mut d.pins {
                p.location = loc.clone();
            }
            for p in &mut d.lenient_pins {
                p.location = loc.clone();
            }
        }
        d.group = cfg.domains.len();
        cfg.domains.push(d);
    }
    cfg.ignored.extend(imported.ignored);
    Ok(())
}

/// A dictionary key as a string (TrustKit constants resolved).
fn key_str(k: &Val, cfg: &mut AuditConfig, locate: &Locate) -> Option<String> {
    match k {
        Val::Str(s) => Some(s.clone()),
        Val::Unknown(w) => {
            if let WhyKind::Name(n) = &w.kind {
                if let Some(real) = apple::tsk_string(n) {
                    return Some(real.to_owned());
                }
            }
            cfg.unresolved.push(unresolved(w, None, locate));
            None
        }
        _ => None,
    }
}

/// A value as a plist value. Unknown elements of a list are left out and
/// recorded in `missing` (with the domain) when given, else in the
/// configuration.
fn to_plist(
    v: &Val,
    cfg: &mut AuditConfig,
    mut missing: Option<(&str, &mut Vec<Unresolved>)>,
    locate: &Locate,
) -> Option<Value> {
    match v {
        Val::Str(s) => Some(Value::String(s.clone())),
        Val::Bool(b) => Some(Value::Boolean(*b)),
        Val::Num(n) => Some(Value::Integer((*n).into())),
        Val::List(items) | Val::Each(items) => {
            let mut a = Vec::new();
            for x in items.iter() {
                match x {
                    Val::Unknown(w) => {
                        if let WhyKind::Name(n) = &w.kind {
                            if let Some(real) = apple::tsk_string(n) {
                                a.push(Value::String(real.to_owned()));
                                continue;
                            }
                        }
                        match missing.as_mut() {
                            Some((host, m)) => m.push(unresolved(w, Some(host), locate)),
                            None => cfg.unresolved.push(unresolved(w, None, locate)),
                        }
                    }
                    other => a.extend(to_plist(other, cfg, None, locate)),
                }
            }
            Some(Value::Array(a))
        }
        Val::Dict(d) => {
            let mut out = Dictionary::new();
            for (k, v, _) in d.iter() {
                if let Some(k) = key_str(k, cfg, locate) {
                    if let Some(v) = to_plist(v, cfg, None, locate) {
                        out.insert(k, v);
                    }
                }
            }
            Some(Value::Dictionary(out))
        }
        Val::Unknown(w) => {
            match missing {
                Some((host, m)) => m.push(unresolved(w, Some(host), locate)),
                None => cfg.unresolved.push(unresolved(w, None, locate)),
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(file: &str, text: &str) -> Input {
        Input {
            file: file.to_owned(),
            text: text.to_owned(),
            kind: detect(text).unwrap_or(Kind::Code(Lang::Kotlin)),
        }
    }

    /// Skipping the files the lexical pre-pass finds cannot matter gives
    /// exactly the findings (or the error) of parsing every file: each
    /// fixture alone, all together (names defined several times become
    /// ambiguous), and with files that reuse their names in other roles.
    #[test]
    fn the_pre_pass_changes_no_result() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/audit/source");
        let mut fixtures: Vec<Input> = Vec::new();
        for sub in ["", "variants"] {
            let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
                .expect("fixtures")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            names.sort();
            for p in names {
                let text = std::fs::read_to_string(&p).expect("utf-8 fixture");
                fixtures.push(input(&p.display().to_string(), &text));
            }
        }
        assert!(fixtures.len() >= 12, "fixtures found: {}", fixtures.len());
        let extra = [
            // Names of the fixtures in unrelated roles: a parameter, a
            // local, a list that is not a pin list, one-argument adds.
            input(
                "Other.kt",
                "package x.y\nimport a.B\nclass Other(val PIN: String) {\n  fun f(HOST: Int) { val items = mutableListOf<String>(); items.add(\"x\") }\n}\n",
            ),
            input(
                "Other.java",
                "package x;\nimport a.B;\npublic class Other {\n  static final String PRIMARY = \"sha256/AAAA\";\n  void f(java.util.List<String> l) { l.add(PRIMARY); }\n}\n",
            ),
            input(
                "Headers.kt",
                "package x\nimport okhttp3.Headers\nfun h() = Headers.Builder().add(\"a\", \"b\").build()\n",
            ),
            input(
                "Unrelated.kt",
                "package z\nimport a.b\nobject Z { const val NOTHING = \"z\" }\n// CertificatePinner in a comment only\n",
            ),
        ];
        let run = |group: &[&Input], lazy: bool| -> String {
            let owned: Vec<Input> = group
                .iter()
                .map(|i| Input {
                    file: i.file.clone(),
                    text: i.text.clone(),
                    kind: i.kind,
                })
                .collect();
            format!("{:?}", import_group_as(&owned, lazy))
        };
        let all: Vec<&Input> = fixtures.iter().chain(&extra).collect();
        let mut groups: Vec<Vec<&Input>> = all.iter().map(|i| vec![*i]).collect();
        groups.push(all.clone());
        groups.push(fixtures.iter().collect());
        for f in &fixtures {
            groups.push(std::iter::once(f).chain(&extra).collect());
        }
        for g in groups {
            let names: Vec<&str> = g.iter().map(|i| i.file.as_str()).collect();
            assert_eq!(run(&g, true), run(&g, false), "group {names:?}");
        }
    }
}
