//! The audit model: one description of a pinning configuration that every
//! importer produces and every rule reads.
//!
//! Each platform words pinning differently (NSC XML, TrustKit and ATS
//! dictionaries, OkHttp code). The model keeps what the platform *declared*
//! (so a round trip and the AOSP expectations can be checked exactly) and the
//! platform's semantics that rules need: whether an expiry is device-local or
//! UTC, whether report-only exists, which anchors override pins.

use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;

use crate::audit::base64::Base64Dialect;
use crate::pinning::Pin;

/// The configuration formats Mamori reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// Android `network_security_config.xml`.
    Nsc,
    /// TrustKit (`TSKConfiguration` in Info.plist, or a JSON dictionary).
    TrustKit,
    /// Apple App Transport Security (`NSAppTransportSecurity`, `NSPinnedDomains`).
    Ats,
    /// OkHttp `CertificatePinner` pins (a list or Kotlin/Java `.add` calls).
    OkHttp,
    /// A Mamori pin policy (TOML or JSON).
    Mamori,
}

impl SourceFormat {
    /// The name used on the command line (`nsc`, `trustkit`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nsc => "nsc",
            Self::TrustKit => "trustkit",
            Self::Ats => "ats",
            Self::OkHttp => "okhttp",
            Self::Mamori => "mamori",
        }
    }

    /// The platform a format configures.
    pub fn platform(self) -> Platform {
        match self {
            Self::Nsc | Self::OkHttp => Platform::Android,
            Self::TrustKit | Self::Ats => Platform::Ios,
            Self::Mamori => Platform::Any,
        }
    }

    /// How the format interprets an expiry date.
    pub fn expiry_zone(self) -> ExpiryZone {
        match self {
            Self::Nsc => ExpiryZone::DeviceLocal,
            _ => ExpiryZone::Utc,
        }
    }
}

impl core::str::FromStr for SourceFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "nsc" | "android" => Ok(Self::Nsc),
            "trustkit" => Ok(Self::TrustKit),
            "ats" => Ok(Self::Ats),
            "okhttp" => Ok(Self::OkHttp),
            "mamori" | "toml" | "json" => Ok(Self::Mamori),
            other => Err(format!(
                "unknown format {other:?}; expected nsc, trustkit, ats, okhttp or mamori"
            )),
        }
    }
}

/// The platform a configuration applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Android (NSC, OkHttp).
    Android,
    /// iOS (TrustKit, ATS).
    Ios,
    /// Both (a Mamori policy runs in the shared Rust core).
    Any,
}

impl Platform {
    /// `android`, `ios` or `any`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Android => "android",
            Self::Ios => "ios",
            Self::Any => "any",
        }
    }
}

/// Where something was written: file and 1-based line, when known.
///
/// The file name is shared (`Arc<str>`): an importer makes one per file and
/// every location in that file points at it, so a 10 MB configuration with
/// hundreds of thousands of elements and findings does not allocate a copy
/// of its name for each (issue 9, item 7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// The file, as given on the command line.
    #[serde(serialize_with = "serialize_str")]
    pub file: Arc<str>,
    /// 1-based line, when the format has lines (XML, code, XML plists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

fn serialize_str<S: serde::Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

impl Location {
    /// A location in `file` at `line` (copies the name: importers keep one
    /// `Arc<str>` per file and use [`Self::in_file`]).
    pub fn new(file: &str, line: Option<u32>) -> Self {
        Self {
            file: Arc::from(file),
            line,
        }
    }

    /// A location at `line` of the shared file name `file` (no allocation).
    pub fn in_file(file: &Arc<str>, line: Option<u32>) -> Self {
        Self {
            file: Arc::clone(file),
            line,
        }
    }
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// How a platform reads an expiry date without a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryZone {
    /// Midnight in the device's time zone (Android NSC: `SimpleDateFormat`
    /// without a zone). Devices disagree by up to 26 hours.
    DeviceLocal,
    /// Midnight UTC (TrustKit, Mamori).
    Utc,
    /// The date carried its own offset (RFC 3339 in a Mamori policy).
    Explicit,
}

/// What happens when an expiry date passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterExpiry {
    /// Pins are silently skipped (NSC, TrustKit).
    FailOpenSilent,
    /// Pins are skipped but mismatches are still reported (Mamori fail-open).
    FailOpenReported,
    /// Pins keep being enforced (Mamori `on_expiry = "enforce"`).
    Enforce,
}

/// A pin-set expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expiry {
    /// The date as written.
    pub text: String,
    /// The instant, read as midnight UTC when the zone is not explicit; for a
    /// device-local expiry the real instant varies by ±14 h around it.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How the date is interpreted.
    pub zone: ExpiryZone,
    /// What the platform does afterwards.
    pub after: AfterExpiry,
}

/// Which certificate of the chain a pin is meant for (ATS distinguishes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinScope {
    /// Any certificate in the chain (NSC, TrustKit, OkHttp, Mamori).
    Any,
    /// A CA certificate (ATS `NSPinnedCAIdentities`).
    Ca,
    /// The leaf only (ATS `NSPinnedLeafIdentities`).
    Leaf,
}

/// One pin as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PinEntry {
    /// The SPKI SHA-256 pin.
    pub pin: Pin,
    /// Which certificate it may match.
    pub scope: PinScope,
    /// Where it was written.
    pub location: Location,
}

/// An OkHttp `sha1/` pin: OkHttp's `CertificatePinner.check` compares it
/// with the SHA-1 of each certificate's SPKI (`"sha1" -> if (pin.hash ==
/// sha1) return`), so it is a real pin there, but deprecated, and no other
/// platform (nor a Mamori policy) can express it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sha1Pin {
    /// The SHA-1 of the SPKI (20 bytes: other lengths never match and are
    /// [`LenientPin`]s).
    #[serde(skip)]
    pub hash: [u8; 20],
    /// The pin text as written (a public hash, not a secret).
    pub text: String,
    /// Where it was written.
    pub location: Location,
}

/// A pin whose text the platform read only thanks to its base64 decoder's
/// leniency, or that can never match. Pins that can match are also in
/// [`DomainEntry::pins`] (as the platform decoded them); pins that can never
/// match are only here, so no rule or conversion treats them as keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LenientPin {
    /// The pin text as written (a public hash, not a secret).
    pub text: String,
    /// The decoder that read it ([`Base64Dialect::decoder_name`]).
    pub decoder: &'static str,
    /// The liberties the decoder took, as sentences.
    pub leniency: Vec<String>,
    /// The decoded length in bytes.
    pub decoded_len: usize,
    /// Why the pin can never match, when it cannot.
    pub never_matches: Option<String>,
    /// Where it was written.
    pub location: Location,
}

impl LenientPin {
    /// Reads `text` with `dialect` as the platform does. `Ok((Some(entry),
    /// _))` for a pin that can match; the [`LenientPin`] is `Some` when the
    /// text needed leniency or can never match.
    pub(crate) fn read(
        dialect: Base64Dialect,
        text: &str,
        scope: PinScope,
        location: &Location,
    ) -> Result<(Option<PinEntry>, Option<LenientPin>), crate::audit::base64::Base64Error> {
        let decoded = crate::audit::base64::decode(dialect, text)?;
        let never_matches = decoded.never_matches();
        let entry = match (&never_matches, decoded.pin()) {
            (None, Some(pin)) => Some(PinEntry {
                pin,
                scope,
                location: location.clone(),
            }),
            _ => None,
        };
        let lenient = (!decoded.is_strict() || never_matches.is_some()).then(|| LenientPin {
            text: text.to_owned(),
            decoder: dialect.decoder_name(),
            leniency: decoded.leniency.iter().map(ToString::to_string).collect(),
            decoded_len: decoded.len(),
            never_matches,
            location: location.clone(),
        });
        Ok((entry, lenient))
    }

    /// Like [`Self::read`] for a platform that does not refuse a pin its
    /// decoder rejects (ATS): the text becomes a pin that can never match.
    pub(crate) fn read_or_dead(
        dialect: Base64Dialect,
        text: &str,
        scope: PinScope,
        location: &Location,
    ) -> (Option<PinEntry>, Option<LenientPin>) {
        Self::read(dialect, text, scope, location).unwrap_or_else(|e| {
            (
                None,
                Some(LenientPin {
                    text: text.to_owned(),
                    decoder: dialect.decoder_name(),
                    leniency: Vec::new(),
                    decoded_len: 0,
                    never_matches: Some(format!("it does not decode: {e}")),
                    location: location.clone(),
                }),
            )
        })
    }
}

/// TrustKit-Android's `<trustkit-config>` for a domain (own or inherited from
/// an enclosing `domain-config`, as TrustKit-Android's builder inherits it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustKitAndroid {
    /// `enforcePinning` as TrustKit-Android reads it (`Boolean.parseBoolean`;
    /// absent means false).
    pub enforce_pinning: bool,
    /// Whether `enforcePinning` was written (else TrustKit's default, false).
    pub enforce_declared: bool,
    /// Where the `trustkit-config` element was written.
    pub location: Location,
}

/// Where trust anchors come from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum AnchorSource {
    /// The platform's system CA store.
    System,
    /// CAs the user installed.
    User,
    /// Certificates bundled with the app (`@raw/name` in NSC, a file in Mamori).
    Bundled(String),
    /// NSC `src="wfa"`: the Wi-Fi Alliance (Passpoint) CA store of AOSP's
    /// `WfaCertificateSource`.
    Wfa,
}

impl AnchorSource {
    /// The NSC `src` attribute value.
    pub fn nsc_src(&self) -> String {
        match self {
            Self::System => "system".into(),
            Self::User => "user".into(),
            Self::Bundled(n) => n.clone(),
            Self::Wfa => "wfa".into(),
        }
    }

    /// Whether these anchors switch certificate transparency off (AOSP
    /// `CertificatesEntryRef.disableCT`: the user store and inline
    /// certificates; the system and Wi-Fi Alliance stores do not).
    pub fn disables_ct(&self) -> bool {
        matches!(self, Self::User | Self::Bundled(_))
    }
}

/// One `<certificates>` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclaredAnchor {
    /// Where the anchors come from.
    pub source: AnchorSource,
    /// `overridePins` as declared (`None` when the attribute is absent).
    pub override_pins: Option<bool>,
    /// Where it was written.
    pub location: Location,
}

/// The settings that a block of configuration declares (NSC `base-config`,
/// `domain-config`, `debug-overrides`; ATS global keys and exception domains).
/// `None` means "not declared, inherited".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Declared {
    /// `cleartextTrafficPermitted`.
    pub cleartext_permitted: Option<bool>,
    /// `hstsEnforced`.
    pub hsts_enforced: Option<bool>,
    /// `<trust-anchors>`: `Some(vec![])` for an empty element.
    pub trust_anchors: Option<Vec<DeclaredAnchor>>,
    /// `<certificateTransparency enabled>`.
    pub certificate_transparency: Option<bool>,
}

/// ATS transport settings beyond pinning (what MobSF checks).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AtsSettings {
    /// `NSAllowsArbitraryLoads`, `…ForMedia`, `…InWebContent`,
    /// `NSAllowsLocalNetworking` keys set to true.
    pub global_exceptions: Vec<(String, Location)>,
    /// Exception domains and their weakening keys.
    pub exception_domains: Vec<AtsException>,
}

/// One `NSExceptionDomains` entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AtsException {
    /// The domain.
    pub host: String,
    /// `NSIncludesSubdomains`.
    pub include_subdomains: bool,
    /// `NSExceptionAllowsInsecureHTTPLoads` (or the third-party variant).
    pub allows_insecure_http: bool,
    /// `NSExceptionMinimumTLSVersion`, when set.
    pub minimum_tls: Option<String>,
    /// `NSExceptionRequiresForwardSecrecy = NO`.
    pub no_forward_secrecy: bool,
    /// Where it was written.
    pub location: Location,
}

/// One domain (one name) of a configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DomainEntry {
    /// The host pattern as the platform reads it (lower case, trimmed;
    /// OkHttp `*.` / `**.` prefixes kept).
    pub host: String,
    /// Whether subdomains are covered.
    pub include_subdomains: bool,
    /// Which mechanism declared it (an Info.plist may hold TrustKit and ATS).
    pub mechanism: SourceFormat,
    /// Whether a pin set was declared (an NSC `domain-config` may have none).
    pub has_pin_set: bool,
    /// The pins, in order, duplicates kept (rules look for them).
    pub pins: Vec<PinEntry>,
    /// Pin-set expiry.
    pub expiry: Option<Expiry>,
    /// Whether mismatches block (false: report-only).
    pub enforce: bool,
    /// Report URIs.
    pub report_uris: Vec<String>,
    /// TrustKit's vendor default report URI is active.
    pub default_report_uri: bool,
    /// Settings declared on this domain's block (NSC).
    pub declared: Declared,
    /// Index (in the configuration's domain list) of the first domain of the
    /// enclosing NSC `domain-config`, for nested configs.
    pub parent: Option<usize>,
    /// Identifies the NSC `domain-config` (or dictionary entry) the domain
    /// belongs to: domains sharing one block share one group.
    pub group: usize,
    /// Where the domain was written.
    pub location: Location,
    /// Pins read only thanks to decoder leniency, or that can never match.
    pub lenient_pins: Vec<LenientPin>,
    /// TrustKit-Android's settings, when the NSC file carries them.
    pub trustkit_android: Option<TrustKitAndroid>,
    /// OkHttp `sha1/` pins of 20 bytes (real pins on OkHttp only).
    pub sha1_pins: Vec<Sha1Pin>,
    /// TrustKit `kTSKExcludeSubdomainFromParentPolicy`: the host is taken
    /// out of the policy of a parent that includes subdomains, and is not
    /// pinned (no pin set of its own).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub excluded_from_parent: bool,
}

impl DomainEntry {
    /// A domain with no pins and default settings.
    pub fn new(host: &str, mechanism: SourceFormat, location: Location) -> Self {
        Self {
            host: host.to_owned(),
            include_subdomains: false,
            mechanism,
            has_pin_set: false,
            pins: Vec::new(),
            expiry: None,
            enforce: true,
            report_uris: Vec::new(),
            default_report_uri: false,
            declared: Declared::default(),
            parent: None,
            group: 0,
            location,
            lenient_pins: Vec::new(),
            trustkit_android: None,
            sha1_pins: Vec::new(),
            excluded_from_parent: false,
        }
    }

    /// Why no host can ever select this name, when none can: only OkHttp
    /// gives `*.`/`**.` a meaning. Android NSC compares the name exactly or
    /// as a `.`-bounded suffix of the host (AOSP
    /// `ApplicationConfig.getConfigForHostname`, which strips the host's
    /// trailing dot, never the name's); TrustKit looks the name up as a
    /// dictionary key or a parent domain; Apple says not to use wildcard
    /// domains in `NSPinnedDomains`. A name with `*`, `:` or `/`, or with a
    /// leading or trailing dot, selects no host on those platforms.
    pub fn unusable_name(&self) -> Option<&'static str> {
        if self.mechanism == SourceFormat::OkHttp && self.host.ends_with('.') {
            return Some(
                "a trailing dot: OkHttp keeps it, so the pattern matches only a URL whose host is written with a trailing dot",
            );
        }
        if self.mechanism == SourceFormat::OkHttp || self.mechanism == SourceFormat::Mamori {
            return None;
        }
        let h = self.host.as_str();
        if h.trim() != h {
            // Only TrustKit keeps it (NSC and ATS names are trimmed at load).
            return Some("surrounding whitespace: TrustKit compares the key as written");
        }
        if h.contains('*') {
            Some("a literal `*`: only OkHttp has wildcard patterns")
        } else if h.contains('/') || h.contains(':') {
            Some("a URL, port or path: the platform compares host names only")
        } else if h.starts_with('.') {
            Some("a leading dot: no host name begins with one")
        } else if h.ends_with('.') {
            Some(
                "a trailing dot: the host's trailing dot is stripped before the comparison, the name's is not",
            )
        } else {
            None
        }
    }

    /// Whether the entry has a pin that can match: a SHA-256 pin, or an
    /// OkHttp `sha1/` pin (which OkHttp checks).
    pub fn is_pinned(&self) -> bool {
        !self.pins.is_empty() || !self.sha1_pins.is_empty()
    }

    /// The distinct pins, in order (linear: a set remembers those seen).
    pub fn distinct_pins(&self) -> Vec<Pin> {
        let mut seen = std::collections::HashSet::with_capacity(self.pins.len());
        self.pins
            .iter()
            .map(|p| p.pin)
            .filter(|p| seen.insert(*p))
            .collect()
    }
}

/// NSC `debug-overrides` (from the file or its `_debug.xml` companion).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DebugOverrides {
    /// What the block declares (anchors default to `overridePins=true`).
    pub declared: Declared,
    /// Where it was written.
    pub location: Location,
    /// Whether it came from the `<name>_debug.xml` companion resource.
    pub from_companion: bool,
}

/// An element or attribute the platform ignores (usually a typo).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ignored {
    /// The element or attribute name.
    pub name: String,
    /// Where it was written.
    pub location: Location,
}

/// An NSC boolean attribute whose text is not one of aapt2's booleans
/// (`true`, `TRUE`, `True`, `false`, `FALSE`, `False`, trimmed). aapt2
/// compiles an attribute without namespace as any type (a colour, an
/// integer, a float, else a string), and Android's
/// `XmlResourceParser.getAttributeBooleanValue` reads an integer-typed value
/// as `data != 0` and anything else as the attribute's default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotBoolean {
    /// `element@attribute`, e.g. `base-config@cleartextTrafficPermitted`.
    pub attribute: String,
    /// The value as written.
    pub text: String,
    /// What Android reads: `None` when the context's default applies and
    /// Mamori keeps the attribute as not declared (`overridePins`).
    pub read_as: Option<bool>,
    /// How it is read, in words.
    pub how: String,
    /// Where it was written.
    pub location: Location,
}

/// A value in source code that Mamori could not evaluate (OkHttp or TrustKit
/// configured in code): a function's result, a resource, a `BuildConfig`
/// field without its `build.gradle`, a name defined in a file not given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The expression as written (shortened to one line).
    pub expression: String,
    /// Where it was written.
    pub location: Location,
    /// The host whose pins it gives; `None` when the host itself is unknown.
    pub host: Option<String>,
    /// Whether it is a `BuildConfig` field (generated from
    /// `buildConfigField` in `build.gradle(.kts)`).
    pub build_config: bool,
    /// Where its value is, in words.
    pub hint: String,
}

/// One imported configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditConfig {
    /// The file it came from.
    pub file: String,
    /// The format it was read as.
    pub format: SourceFormat,
    /// The platform it configures.
    pub platform: Platform,
    /// Base settings (NSC `base-config`; ATS global keys).
    pub base: Declared,
    /// Where the base block was written, if declared.
    pub base_location: Option<Location>,
    /// The domains, in document order (one entry per name).
    pub domains: Vec<DomainEntry>,
    /// NSC debug overrides.
    pub debug_overrides: Option<DebugOverrides>,
    /// ATS transport settings.
    pub ats: Option<AtsSettings>,
    /// Elements and attributes the platform ignores.
    pub ignored: Vec<Ignored>,
    /// Custom trust anchors of a Mamori policy (file names).
    pub anchor_files: Vec<String>,
    /// Values of source code that could not be evaluated.
    pub unresolved: Vec<Unresolved>,
    /// NSC boolean attributes written as something else.
    pub not_boolean: Vec<NotBoolean>,
    /// The Android target SDK of the app this configuration ships in, when
    /// known (a package's `targetSdkVersion`): it decides the platform
    /// defaults for this configuration, whatever other apps audited with it
    /// target. `None` for a source file: the audit's option applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub android_target_sdk: Option<u32>,
}

impl AuditConfig {
    /// An empty configuration of `format` read from `file`.
    pub fn new(file: &str, format: SourceFormat) -> Self {
        Self {
            file: file.to_owned(),
            format,
            platform: format.platform(),
            base: Declared::default(),
            base_location: None,
            domains: Vec::new(),
            debug_overrides: None,
            ats: None,
            ignored: Vec::new(),
            anchor_files: Vec::new(),
            unresolved: Vec::new(),
            not_boolean: Vec::new(),
            android_target_sdk: None,
        }
    }

    /// Whether any domain has pins.
    pub fn has_pins(&self) -> bool {
        self.domains.iter().any(DomainEntry::is_pinned)
            || self.unresolved.iter().any(|u| u.host.is_some())
    }

    /// The effective cleartext setting of a domain (NSC inheritance: the
    /// domain, its enclosing configs, base-config, then the platform default
    /// for a current target SDK: not permitted).
    pub fn effective_cleartext(&self, idx: usize) -> bool {
        let mut cur = Some(idx);
        while let Some(i) = cur {
            if let Some(v) = self.domains[i].declared.cleartext_permitted {
                return v;
            }
            cur = self.domains[i].parent;
        }
        self.base.cleartext_permitted.unwrap_or(false)
    }

    /// The effective trust anchors of a domain, without debug overrides:
    /// the nearest declared `trust-anchors`, else base-config's, else the
    /// platform default (system).
    pub fn effective_anchors(&self, idx: usize) -> Vec<DeclaredAnchor> {
        let mut cur = Some(idx);
        while let Some(i) = cur {
            if let Some(v) = &self.domains[i].declared.trust_anchors {
                return v.clone();
            }
            cur = self.domains[i].parent;
        }
        match &self.base.trust_anchors {
            Some(v) => v.clone(),
            None => vec![DeclaredAnchor {
                source: AnchorSource::System,
                override_pins: None,
                location: Location::new(&self.file, None),
            }],
        }
    }

    /// The effective anchors of a debuggable build: the release anchors plus
    /// the debug-override anchors (`overridePins` defaulting to true); an
    /// anchor source present in both keeps the overriding copy (AOSP
    /// `override_dedup`). `idx = None` means the default config.
    pub fn effective_debug_anchors(&self, idx: Option<usize>) -> Vec<(AnchorSource, bool)> {
        let base: Vec<DeclaredAnchor> = match idx {
            Some(i) => self.effective_anchors(i),
            None => self.base.trust_anchors.clone().unwrap_or_else(|| {
                vec![DeclaredAnchor {
                    source: AnchorSource::System,
                    override_pins: None,
                    location: Location::default(),
                }]
            }),
        };
        let mut out: Vec<(AnchorSource, bool)> = base
            .iter()
            .map(|a| (a.source.clone(), a.override_pins.unwrap_or(false)))
            .collect();
        if let Some(d) = &self.debug_overrides {
            for a in d.declared.trust_anchors.iter().flatten() {
                let ov = a.override_pins.unwrap_or(true);
                if let Some(existing) = out.iter_mut().find(|(s, _)| *s == a.source) {
                    existing.1 |= ov;
                } else {
                    out.push((a.source.clone(), ov));
                }
            }
        }
        out
    }
}

impl AuditConfig {
    /// The domain entry that applies to `host` the way Android chooses it:
    /// an exact name first, else the longest name covering it through
    /// `includeSubdomains` (OkHttp-style `*.`/`**.` patterns are honoured too).
    pub fn domain_for(&self, host: &str) -> Option<usize> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(i) = self
            .domains
            .iter()
            .position(|d| d.host == host && d.unusable_name().is_none())
        {
            return Some(i);
        }
        self.domains
            .iter()
            .enumerate()
            .filter(|(_, d)| covers(d, &host))
            .max_by_key(|(_, d)| d.host.len())
            .map(|(i, _)| i)
    }
}

/// The domains of a configuration indexed by host: [`AuditConfig::domain_for`]
/// without scanning every domain, so checks that look up every host of one
/// configuration in another stay linear (issue 9, item 7).
pub(crate) struct DomainIndex<'a> {
    cfg: &'a AuditConfig,
    by_host: std::collections::HashMap<&'a str, Vec<usize>>,
}

impl<'a> DomainIndex<'a> {
    pub(crate) fn new(cfg: &'a AuditConfig) -> Self {
        let mut by_host: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::with_capacity(cfg.domains.len());
        for (i, d) in cfg.domains.iter().enumerate() {
            by_host.entry(d.host.as_str()).or_default().push(i);
        }
        Self { cfg, by_host }
    }

    /// The same answer as [`AuditConfig::domain_for`]: an entry covering
    /// `host` is named after `host` or one of its parent domains (plain,
    /// `*.` or `**.`), so only those names are looked up; the longest
    /// covering name wins, the last in document order among equals.
    pub(crate) fn domain_for(&self, host: &str) -> Option<usize> {
        let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
        if let Some(&i) = self
            .by_host
            .get(host.as_str())
            .into_iter()
            .flatten()
            .find(|&&i| self.cfg.domains[i].unusable_name().is_none())
        {
            return Some(i);
        }
        let mut best: Option<usize> = None;
        let mut suffix = host.as_str();
        loop {
            for name in [
                suffix.to_owned(),
                format!("*.{suffix}"),
                format!("**.{suffix}"),
            ] {
                for &i in self.by_host.get(name.as_str()).into_iter().flatten() {
                    if !covers(&self.cfg.domains[i], &host) {
                        continue;
                    }
                    let len = self.cfg.domains[i].host.len();
                    best = match best {
                        Some(b) if (self.cfg.domains[b].host.len(), b) > (len, i) => Some(b),
                        _ => Some(i),
                    };
                }
            }
            match suffix.find('.') {
                Some(p) => suffix = &suffix[p + 1..],
                None => break,
            }
        }
        best
    }
}

/// Whether a domain entry covers `host` (lower case). `*.`/`**.` are
/// patterns for OkHttp (and a Mamori policy) only; a name no host can select covers nothing
/// ([`DomainEntry::unusable_name`]).
pub(crate) fn covers(d: &DomainEntry, host: &str) -> bool {
    if d.unusable_name().is_some() {
        return false;
    }
    let below = |base: &str| {
        host.len() > base.len() + 1
            && host.ends_with(base)
            && host.as_bytes()[host.len() - base.len() - 1] == b'.'
    };
    if matches!(d.mechanism, SourceFormat::OkHttp | SourceFormat::Mamori) {
        if let Some(base) = d.host.strip_prefix("**.") {
            return host == base || below(base);
        }
        if let Some(base) = d.host.strip_prefix("*.") {
            return below(base) && !host[..host.len() - base.len() - 1].contains('.');
        }
    }
    if d.mechanism == SourceFormat::Ats && d.include_subdomains {
        // Apple: `NSIncludesSubdomains` applies "to all subdomains of the
        // domain that have one additional path component" (not to
        // `advanced.math.example.com` for `example.com`).
        return host == d.host
            || (below(&d.host) && !host[..host.len() - d.host.len() - 1].contains('.'));
    }
    host == d.host || (d.include_subdomains && below(&d.host))
}

impl Declared {
    /// What this block alone says about certificate transparency, per AOSP
    /// `NetworkSecurityConfig.Builder.getCertificateTransparencyVerificationRequired`:
    /// an explicit `<certificateTransparency>` wins; else any user-store or
    /// inline (`@raw`) anchor of the block itself disables CT; else `None`
    /// (the parent decides).
    pub fn own_ct(&self) -> Option<bool> {
        if let Some(v) = self.certificate_transparency {
            return Some(v);
        }
        self.trust_anchors
            .iter()
            .flatten()
            .any(|a| a.source.disables_ct())
            .then_some(false)
    }
}

/// Android's default CT requirement when no block decides: the platform
/// default builder trusts the user store (which disables CT) for apps
/// targeting API 23 or lower; otherwise CT is on by default for apps
/// targeting above API 36 (`DEFAULT_ENABLE_CERTIFICATE_TRANSPARENCY`,
/// `@EnabledAfter(BAKLAVA)`), off for older targets or an unknown target.
pub(crate) fn android_default_ct(target_sdk: Option<u32>) -> bool {
    matches!(target_sdk, Some(t) if t > 36)
}

impl AuditConfig {
    /// Whether certificate transparency is required for a domain (`None`:
    /// the default config) on Android 16+, for an unknown target SDK. See
    /// [`Self::ct_required_for`].
    pub fn ct_required(&self, idx: Option<usize>) -> bool {
        self.ct_required_for(idx, None)
    }

    /// Whether certificate transparency is required for a domain (`None`:
    /// the default config), per AOSP's rule applied at each level from the
    /// domain's block up through enclosing `domain-config`s and
    /// `base-config` to the platform default ([`Declared::own_ct`],
    /// [`android_default_ct`]).
    pub fn ct_required_for(&self, idx: Option<usize>, target_sdk: Option<u32>) -> bool {
        let mut cur = idx;
        while let Some(i) = cur {
            if let Some(v) = self.domains[i].declared.own_ct() {
                return v;
            }
            cur = self.domains[i].parent;
        }
        self.base
            .own_ct()
            .unwrap_or_else(|| android_default_ct(target_sdk))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn host() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("example")], 1..4)
            .prop_map(|l| l.join("."))
    }

    proptest! {
        /// The index answers exactly as the linear scan.
        #[test]
        fn domain_index_matches_domain_for(
            entries in proptest::collection::vec(
                (prop_oneof![Just(""), Just("*."), Just("**.")], host(), any::<bool>()),
                0..12,
            ),
            queries in proptest::collection::vec(host(), 1..8),
        ) {
            let mut cfg = AuditConfig::new("t", SourceFormat::OkHttp);
            for (prefix, h, sub) in entries {
                let mut d = DomainEntry::new(&format!("{prefix}{h}"), SourceFormat::OkHttp, Location::default());
                d.include_subdomains = sub;
                cfg.domains.push(d);
            }
            let index = DomainIndex::new(&cfg);
            for q in queries {
                prop_assert_eq!(index.domain_for(&q), cfg.domain_for(&q), "{}", q);
            }
        }
    }
}
