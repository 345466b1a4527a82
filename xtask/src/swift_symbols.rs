//! A symbol and argument-label check of hand-written Swift against the generated bindings.
//!
//! No Swift compiler runs on the build machines, so a call such as
//! `engine.verifyAt(host:port:chain:unixSeconds:)` in the facade is never compared with what
//! uniffi generated. This module reads the syntax tree (tree-sitter-swift) of the generated
//! `MamoriFFI.swift` into an [`Api`] (its public types, their initializers, methods,
//! properties and enum cases, and its free functions, each with argument labels, defaults,
//! parameter and return types), then walks the hand-written files (facade, tests, example) and
//! reports every use of that API that does not exist with those labels.
//!
//! # What is checked (a documented subset of Swift's name resolution)
//! - **Bare calls** `f(a: x)`: if `f` is a generated free function or type, the labels must fit
//!   one of its overloads / initializers (defaulted parameters may be left out, a trailing
//!   closure fills one parameter). A bare call to a name that is neither generated, nor declared
//!   anywhere in the hand-written Swift, nor in [`PLATFORM_CALLS`] is an error: that is how a
//!   Rust-side rename (`mamori_version` -> `native_version`) fails the check.
//! - **Static members** `T.m(...)` / `T.c` where `T` is a generated type: the static method,
//!   enum case (with its associated-value labels) or property must exist.
//! - **Instance members** `x.m(...)` / `x.p` where the type of `x` is known: a local or
//!   property declared with a type annotation, a parameter, `self.x`, or a value initialised
//!   from a generated call whose return type is known; chains like `decision.report.json`
//!   follow the generated property types. Names are resolved per file without scopes: a name
//!   declared with two different types in one file is not resolved (skipped, not guessed).
//! - **Enum cases** in `x.outcome == .block`, in arguments whose parameter type is a generated
//!   enum (`minSecurityLevel: .software`), and in patterns `case StorageError.NotFound(...)`.
//! - **Protocol conformance**: a hand-written type adopting a generated protocol (e.g.
//!   `KeyEncryptionKey`) declares every requirement with the same name and labels.
//!
//! # What is not checked
//! Types of arguments, overload resolution by type, optional chaining results (`a?.b` on an
//! unknown type), closures' parameter types, generics, platform APIs (Security, Foundation,
//! XCTest: [`PLATFORM_CALLS`] only lists names assumed to exist), and anything whose receiver
//! type cannot be read off the syntax tree. Those are skipped, never guessed; the compiler on a
//! Mac is the real check.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Parser};

/// One parameter of a generated function, initializer or enum case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The argument label (`None` for `_`).
    pub label: Option<String>,
    /// Whether it has a default value (may be left out).
    pub has_default: bool,
    /// The base type name (`PinOutcome` for `PinOutcome?`), if it is a plain named type.
    pub ty: Option<String>,
}

/// A function-like signature.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sig {
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The base return type name, if a plain named type.
    pub returns: Option<String>,
    /// `static` / `class` member.
    pub is_static: bool,
}

/// A generated type.
#[derive(Debug, Clone, Default)]
pub struct TypeInfo {
    /// `class`, `struct`, `enum` or `protocol`.
    pub kind: String,
    /// Public initializers.
    pub inits: Vec<Sig>,
    /// Methods (static and instance) by name.
    pub methods: BTreeMap<String, Vec<Sig>>,
    /// Properties by name, with their base type name.
    pub properties: BTreeMap<String, Option<String>>,
    /// Enum cases by name, with their associated values (`None`: no payload).
    pub cases: BTreeMap<String, Option<Vec<Param>>>,
    /// Declared in the hand-written Swift: its members are checked for labels when found, but a
    /// member not found is not an error (it may come from a superclass or protocol extension
    /// that is not read here, e.g. `rawValue`, `description`).
    pub hand_written: bool,
}

/// The public API of the generated Swift.
#[derive(Debug, Clone, Default)]
pub struct Api {
    /// Types by name.
    pub types: BTreeMap<String, TypeInfo>,
    /// Free functions by name (overloads).
    pub functions: BTreeMap<String, Vec<Sig>>,
}

/// A use of the generated API that does not exist as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolError {
    /// The hand-written file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: Swift symbol error: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Swift, Foundation, Security, LocalAuthentication, CryptoKit, Darwin and XCTest names that
/// hand-written code calls bare (`f(...)` / `T(...)`). They are assumed to exist: nothing here
/// can check Apple's SDKs. A bare call to a name outside this list, the generated API and the
/// hand-written declarations is reported, so a generated function that disappears cannot hide.
pub const PLATFORM_CALLS: &[&str] = &[
    // Swift statements that tree-sitter-swift 0.7.4 parses as a call with a trailing closure
    "defer",
    // Swift standard library
    "Array",
    "Bool",
    "Character",
    "Dictionary",
    "Double",
    "Int",
    "Int32",
    "Int64",
    "Set",
    "String",
    "Substring",
    "UInt",
    "UInt16",
    "UInt32",
    "UInt64",
    "UInt8",
    "abs",
    "assert",
    "assertionFailure",
    "fatalError",
    "max",
    "min",
    "precondition",
    "preconditionFailure",
    "print",
    "stride",
    "type",
    "withExtendedLifetime",
    "withUnsafeMutableBytes",
    "zip",
    "Task",
    "Result",
    "Optional",
    "Error",
    "Never",
    "CheckedContinuation",
    "withCheckedThrowingContinuation",
    "withCheckedContinuation",
    "MemoryLayout",
    // Foundation
    "CocoaError",
    "Data",
    "Date",
    "DateFormatter",
    "DispatchQueue",
    "ISO8601DateFormatter",
    "NSError",
    "NSLock",
    "NSObject",
    "NSRecursiveLock",
    "OperationQueue",
    "TimeZone",
    "URL",
    "URLComponents",
    "URLResourceValues",
    "URLCredential",
    "URLError",
    "URLRequest",
    "URLSession",
    "UUID",
    "JSONDecoder",
    "JSONEncoder",
    "NSLocalizedString",
    "ProcessInfo",
    "Bundle",
    "FileManager",
    "NSString",
    "Locale",
    "Calendar",
    "DateComponents",
    // Security / CoreFoundation
    "SecAccessControlCreateWithFlags",
    "SecCertificateCopyData",
    "SecCertificateCreateWithData",
    "SecItemAdd",
    "SecItemCopyMatching",
    "SecItemDelete",
    "SecItemUpdate",
    "SecKeyCopyExternalRepresentation",
    "SecKeyCopyPublicKey",
    "SecKeyCreateDecryptedData",
    "SecKeyCreateEncryptedData",
    "SecKeyCreateRandomKey",
    "SecKeyIsAlgorithmSupported",
    "SecPolicyCreateSSL",
    "SecTrustCopyCertificateChain",
    "SecTrustCreateWithCertificates",
    "SecTrustEvaluateWithError",
    "SecTrustSetAnchorCertificates",
    "SecTrustSetAnchorCertificatesOnly",
    "SecTrustSetPolicies",
    "CFGetTypeID",
    "SecKeyGetTypeID",
    "URLAuthenticationChallenge",
    "URLProtectionSpace",
    "SecTrustSetVerifyDate",
    "SecCopyErrorMessageString",
    "CFErrorCopyDescription",
    "CFErrorGetCode",
    "CFErrorGetDomain",
    "SecAccessControlCreateFlags",
    // LocalAuthentication, CryptoKit
    "LAContext",
    "LAError",
    "SHA256",
    "SymmetricKey",
    "SecureEnclave",
    // Darwin
    "getpid",
    "kinfo_proc",
    "sysctl",
    "_dyld_get_image_name",
    "_dyld_image_count",
    // XCTest
    "XCTAssert",
    "XCTAssertEqual",
    "XCTAssertFalse",
    "XCTAssertGreaterThan",
    "XCTAssertGreaterThanOrEqual",
    "XCTAssertLessThan",
    "XCTAssertNil",
    "XCTAssertNotEqual",
    "XCTAssertNotNil",
    "XCTAssertThrowsError",
    "XCTAssertTrue",
    "XCTFail",
    "XCTUnwrap",
    "XCTSkip",
    "XCTAssertNoThrow",
    "expectation",
    // SwiftUI
    "Button",
    "Form",
    "HStack",
    "VStack",
    "List",
    "NavigationStack",
    "ProgressView",
    "Section",
    "SecureField",
    "Spacer",
    "Text",
    "TextField",
    "WindowGroup",
    "Label",
    "LabeledContent",
    "Image",
    "ScrollView",
    "Divider",
    "ForEach",
    "Color",
    "Group",
    "State",
    "StateObject",
    "Published",
    "MainActor",
];

fn text<'a>(node: Node<'_>, source: &'a str) -> &'a str {
    &source[node.byte_range()]
}

/// An identifier without Swift's backticks (`` `open` `` -> `open`).
fn ident(node: Node<'_>, source: &str) -> String {
    text(node, source).trim_matches('`').to_owned()
}

fn named_children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// Children with the field name each has (if any), named children only.
fn fielded_children<'t>(node: Node<'t>) -> Vec<(Option<&'static str>, Node<'t>)> {
    let mut out = Vec::new();
    let mut cursor = node.walk();
    for (i, child) in node.children(&mut cursor).enumerate() {
        if child.is_named() {
            out.push((node.field_name_for_child(i as u32), child));
        }
    }
    out
}

/// The base name of a type node: `PinOutcome` for `PinOutcome`, `PinOutcome?`, `PinOutcome!`
/// and `MamoriFFI.PinOutcome`; `None` for arrays, functions, tuples, dictionaries.
fn base_type(node: Node<'_>, source: &str) -> Option<String> {
    match node.kind() {
        "user_type" => named_children(node)
            .into_iter()
            .rev()
            .find(|c| c.kind() == "type_identifier")
            .map(|c| ident(c, source)),
        "optional_type" | "implicitly_unwrapped_type" => node
            .child_by_field_name("wrapped")
            .or_else(|| named_children(node).into_iter().next())
            .and_then(|n| base_type(n, source)),
        "type_annotation" => node
            .child_by_field_name("name")
            .and_then(|n| base_type(n, source)),
        "type_identifier" => Some(ident(node, source)),
        _ => None,
    }
}

fn is_type_node(kind: &str) -> bool {
    matches!(
        kind,
        "user_type"
            | "optional_type"
            | "implicitly_unwrapped_type"
            | "array_type"
            | "dictionary_type"
            | "function_type"
            | "tuple_type"
            | "existential_type"
            | "opaque_type"
            | "metatype"
            | "protocol_composition_type"
    )
}

fn has_modifier(node: Node<'_>, source: &str, wanted: &[&str]) -> bool {
    named_children(node)
        .into_iter()
        .filter(|c| c.kind() == "modifiers")
        .flat_map(named_children)
        .any(|m| wanted.contains(&text(m, source)))
}

fn is_public(node: Node<'_>, source: &str) -> bool {
    has_modifier(node, source, &["public", "open"])
}

/// The parameters (labels, defaults, types), the return type and the name of a function,
/// initializer or protocol requirement.
fn signature(node: Node<'_>, source: &str) -> (Option<String>, Sig) {
    let mut name = None;
    let mut sig = Sig {
        is_static: has_modifier(node, source, &["static", "class"]),
        ..Sig::default()
    };
    for (field, child) in fielded_children(node) {
        match (field, child.kind()) {
            (_, "parameter") => sig.params.push(parameter(child, source)),
            (Some("default_value"), _) => {
                if let Some(last) = sig.params.last_mut() {
                    last.has_default = true;
                }
            }
            (Some("name"), "simple_identifier") => name = Some(ident(child, source)),
            (Some("name"), kind) if is_type_node(kind) => sig.returns = base_type(child, source),
            _ => {}
        }
    }
    (name, sig)
}

fn parameter(node: Node<'_>, source: &str) -> Param {
    let mut external = None;
    let mut internal = None;
    let mut ty = None;
    for (field, child) in fielded_children(node) {
        match (field, child.kind()) {
            (Some("external_name"), _) => external = Some(ident(child, source)),
            (Some("name"), "simple_identifier") if internal.is_none() => {
                internal = Some(ident(child, source))
            }
            (Some("name"), kind) if is_type_node(kind) => ty = base_type(child, source),
            _ => {}
        }
    }
    let label = external.or(internal).filter(|l| l != "_");
    Param {
        label,
        has_default: false,
        ty,
    }
}

/// The associated values of an enum case: `(origin: String, problems: [String])`.
fn case_params(node: Node<'_>, source: &str) -> Vec<Param> {
    let mut params = Vec::new();
    let mut pending_label = None;
    for (field, child) in fielded_children(node) {
        match (field, child.kind()) {
            (_, "simple_identifier") => pending_label = Some(ident(child, source)),
            (Some("name"), kind) if is_type_node(kind) => params.push(Param {
                label: pending_label.take().filter(|l| l != "_"),
                has_default: false,
                ty: base_type(child, source),
            }),
            _ => {}
        }
    }
    params
}

/// The names a property declaration binds, and its annotated type.
fn property<'t>(node: Node<'t>, source: &str) -> (Vec<String>, Option<String>, Option<Node<'t>>) {
    let mut names = Vec::new();
    let mut ty = None;
    let mut value = None;
    for (field, child) in fielded_children(node) {
        match (field, child.kind()) {
            (Some("name"), "pattern") => {
                if let Some(bound) = child.child_by_field_name("bound_identifier") {
                    names.push(ident(bound, source));
                }
            }
            (_, "type_annotation") => ty = base_type(child, source),
            (Some("value"), _) => value = Some(child),
            _ => {}
        }
    }
    (names, ty, value)
}

/// The callee of a call expression. tree-sitter-swift 0.7.4 parses `a + f(x)` as the call
/// `(a + f)(x)`: the callee is then the right-most operand of the operator chain.
fn callee_of(call: Node<'_>) -> Option<Node<'_>> {
    let mut callee = named_children(call).into_iter().next()?;
    while matches!(
        callee.kind(),
        "additive_expression"
            | "multiplicative_expression"
            | "comparison_expression"
            | "equality_expression"
            | "conjunction_expression"
            | "disjunction_expression"
            | "nil_coalescing_expression"
            | "range_expression"
            | "infix_expression"
    ) {
        callee = callee.child_by_field_name("rhs")?;
    }
    Some(callee)
}

fn parse(parser: &mut Parser, source: &str) -> Option<tree_sitter::Tree> {
    parser.parse(super::swift_check::blank_grammar_gaps(source), None)
}

/// Reads the public API out of the generated Swift.
pub fn generated_api(parser: &mut Parser, source: &str) -> Result<Api, String> {
    let source = super::swift_check::blank_grammar_gaps(source);
    let tree = parse(parser, &source).ok_or("the parser gave up on the generated Swift")?;
    let mut api = Api::default();
    for decl in named_children(tree.root_node()) {
        match decl.kind() {
            "function_declaration" if is_public(decl, &source) => {
                let (name, sig) = signature(decl, &source);
                if let Some(name) = name {
                    api.functions.entry(name).or_default().push(sig);
                }
            }
            "class_declaration" | "protocol_declaration" => {
                add_type(&mut api, decl, &source, false)
            }
            _ => {}
        }
    }
    if api.types.is_empty() && api.functions.is_empty() {
        return Err("no public declarations found in the generated Swift".into());
    }
    Ok(api)
}

/// Adds the types the hand-written Swift declares (any visibility: the tests use
/// `@testable import`), so that calls into the facade are label-checked too and chains like
/// `delegate.validator.engine.isPinned(host:)` reach the generated types.
fn add_hand_written_types(api: &mut Api, root: Node<'_>, source: &str) {
    for decl in named_children(root) {
        if matches!(decl.kind(), "class_declaration" | "protocol_declaration") {
            add_type(api, decl, source, true);
        }
    }
}

fn add_type(api: &mut Api, decl: Node<'_>, source: &str, hand_written: bool) {
    let is_public = |node: Node<'_>, source: &str| hand_written || is_public(node, source);
    let is_extension = decl
        .child(0)
        .is_some_and(|c| text(c, source) == "extension")
        || named_children(decl)
            .first()
            .is_some_and(|c| c.kind() == "user_type");
    let kind = if decl.kind() == "protocol_declaration" {
        "protocol".to_owned()
    } else {
        let mut cursor = decl.walk();
        decl.children(&mut cursor)
            .find(|c| {
                matches!(
                    c.kind(),
                    "class" | "struct" | "enum" | "extension" | "actor"
                )
            })
            .map(|c| c.kind().to_owned())
            .unwrap_or_default()
    };
    if !is_extension && kind != "protocol" && !is_public(decl, source) {
        return;
    }
    if kind == "protocol" && !is_public(decl, source) {
        return;
    }
    let Some(name) = decl
        .child_by_field_name("name")
        .and_then(|n| base_type(n, source))
    else {
        return;
    };
    if is_extension && !api.types.contains_key(&name) {
        // An extension of a type that is not generated here (e.g. a Swift type): not API.
        return;
    }
    if hand_written && !is_extension && api.types.get(&name).is_some_and(|t| !t.hand_written) {
        // A hand-written type shadowing a generated one: keep the generated API.
        return;
    }
    let Some(body) = decl.child_by_field_name("body") else {
        return;
    };
    if hand_written {
        // Nested types (`SecureEnclaveKek.Options`) are types of their own and static members.
        for nested in named_children(body) {
            if matches!(nested.kind(), "class_declaration" | "protocol_declaration") {
                add_type(api, nested, source, true);
                if let Some(nested_name) = nested
                    .child_by_field_name("name")
                    .and_then(|n| base_type(n, source))
                {
                    let info = api.types.entry(name.clone()).or_default();
                    info.properties.insert(nested_name.clone(), None);
                }
            }
        }
    }
    let info = api.types.entry(name).or_default();
    if kind != "extension" {
        info.kind = kind.clone();
    }
    if hand_written && !is_extension {
        info.hand_written = true;
    }
    let in_protocol = kind == "protocol";
    for member in named_children(body) {
        match member.kind() {
            "function_declaration" | "protocol_function_declaration"
                if in_protocol || is_public(member, source) =>
            {
                let (name, sig) = signature(member, source);
                if let Some(name) = name {
                    info.methods.entry(name).or_default().push(sig);
                }
            }
            "init_declaration" if in_protocol || is_public(member, source) => {
                info.inits.push(signature(member, source).1);
            }
            "property_declaration" | "protocol_property_declaration"
                if in_protocol || is_public(member, source) =>
            {
                let (names, ty, _) = property(member, source);
                for n in names {
                    info.properties.insert(n, ty.clone());
                }
            }
            "enum_entry" => {
                let mut current: Option<String> = None;
                for (field, child) in fielded_children(member) {
                    match (field, child.kind()) {
                        (Some("name"), "simple_identifier") => {
                            let case = ident(child, source);
                            info.cases.insert(case.clone(), None);
                            current = Some(case);
                        }
                        (Some("data_contents"), _) => {
                            if let Some(case) = &current {
                                info.cases
                                    .insert(case.clone(), Some(case_params(child, source)));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// One argument of a call: its label, and whether it is a trailing closure.
#[derive(Debug, Clone)]
struct Arg<'t> {
    label: Option<String>,
    trailing: bool,
    value: Option<Node<'t>>,
}

/// Matches call arguments to parameters as Swift does for labels: in order, defaulted
/// parameters may be skipped, a trailing closure fills the next unlabelled-or-any parameter.
/// Returns, for each argument, the index of its parameter.
fn match_labels(params: &[Param], args: &[Arg<'_>]) -> Option<Vec<usize>> {
    let mut assigned = Vec::with_capacity(args.len());
    let mut p = 0;
    for arg in args {
        loop {
            let param = params.get(p)?;
            let fits = arg.trailing || param.label == arg.label;
            if fits {
                assigned.push(p);
                p += 1;
                break;
            }
            if !param.has_default {
                return None;
            }
            p += 1;
        }
    }
    params[p..]
        .iter()
        .all(|param| param.has_default)
        .then_some(assigned)
}

fn render_labels(args: &[Arg<'_>]) -> String {
    let labels: String = args
        .iter()
        .filter(|a| !a.trailing)
        .map(|a| format!("{}:", a.label.as_deref().unwrap_or("_")))
        .collect();
    let trailing = if args.iter().any(|a| a.trailing) {
        " + trailing closure"
    } else {
        ""
    };
    format!("({labels}){trailing}")
}

fn render_sig(name: &str, sig: &Sig) -> String {
    let labels: String = sig
        .params
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p.label.as_deref().unwrap_or("_"),
                if p.has_default { "=" } else { "" }
            )
        })
        .collect();
    format!("{name}({labels})")
}

/// The type of an expression, as far as the syntax tree tells.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ty {
    /// A value of this (generated) type.
    Value(String),
    /// The type itself (`PinningEngine` in `PinningEngine.fromFile`).
    Meta(String),
}

struct Checker<'a> {
    api: &'a Api,
    /// Names declared anywhere in the hand-written Swift.
    declared: &'a BTreeSet<String>,
    /// Per file: a name's declared type (`None` once two declarations disagree).
    vars: BTreeMap<String, Option<String>>,
    source: &'a str,
    file: &'a Path,
    errors: Vec<SymbolError>,
    /// Uses of the generated API that were resolved and checked.
    checked: usize,
}

impl<'a> Checker<'a> {
    fn error(&mut self, node: Node<'_>, message: String) {
        let p = node.start_position();
        self.errors.push(SymbolError {
            file: self.file.to_path_buf(),
            line: p.row + 1,
            column: p.column + 1,
            message,
        });
    }

    fn generated(&self, name: &str) -> Option<&'a TypeInfo> {
        self.api.types.get(name)
    }

    fn type_of(&self, node: Node<'_>) -> Option<Ty> {
        match node.kind() {
            "simple_identifier" => {
                let name = ident(node, self.source);
                match self.vars.get(&name) {
                    Some(Some(ty)) => Some(Ty::Value(ty.clone())),
                    Some(None) => None,
                    None if self.api.types.contains_key(&name) => Some(Ty::Meta(name)),
                    None => None,
                }
            }
            "try_expression" | "await_expression" | "parenthesized_expression" => node
                .child_by_field_name("expr")
                .or_else(|| named_children(node).into_iter().last())
                .and_then(|n| self.type_of(n)),
            "navigation_expression" => {
                let target = node.child_by_field_name("target")?;
                let member = node
                    .child_by_field_name("suffix")?
                    .child_by_field_name("suffix")?;
                let member = ident(member, self.source);
                if target.kind() == "self_expression" {
                    return match self.vars.get(&member) {
                        Some(Some(ty)) => Some(Ty::Value(ty.clone())),
                        _ => None,
                    };
                }
                match self.type_of(target)? {
                    Ty::Value(t) => self
                        .generated(&t)?
                        .properties
                        .get(&member)
                        .cloned()
                        .flatten()
                        .map(Ty::Value),
                    Ty::Meta(t) => {
                        let info = self.generated(&t)?;
                        info.cases
                            .contains_key(&member)
                            .then(|| Ty::Value(t.clone()))
                    }
                }
            }
            "call_expression" => {
                let callee = callee_of(node)?;
                let args = self.args(node);
                match callee.kind() {
                    "simple_identifier" => {
                        let name = ident(callee, self.source);
                        if let Some(sigs) = self.api.functions.get(&name) {
                            return sigs
                                .iter()
                                .find(|s| match_labels(&s.params, &args).is_some())
                                .and_then(|s| s.returns.clone())
                                .map(Ty::Value);
                        }
                        self.generated(&name).map(|_| Ty::Value(name))
                    }
                    "navigation_expression" => {
                        let target = callee.child_by_field_name("target")?;
                        let member = ident(
                            callee
                                .child_by_field_name("suffix")?
                                .child_by_field_name("suffix")?,
                            self.source,
                        );
                        let (t, _) = match self.type_of(target)? {
                            Ty::Value(t) => (t, false),
                            Ty::Meta(t) => (t, true),
                        };
                        let info = self.generated(&t)?;
                        if info.cases.contains_key(&member) {
                            return Some(Ty::Value(t));
                        }
                        info.methods
                            .get(&member)?
                            .iter()
                            .find(|s| match_labels(&s.params, &args).is_some())
                            .and_then(|s| s.returns.clone())
                            .map(Ty::Value)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn args<'t>(&self, call: Node<'t>) -> Vec<Arg<'t>> {
        let mut args = Vec::new();
        let Some(suffix) = named_children(call)
            .into_iter()
            .find(|c| c.kind() == "call_suffix")
        else {
            return args;
        };
        for part in named_children(suffix) {
            match part.kind() {
                "value_arguments" => {
                    for arg in named_children(part)
                        .into_iter()
                        .filter(|a| a.kind() == "value_argument")
                    {
                        let label = arg
                            .child_by_field_name("name")
                            .map(|l| ident(l, self.source));
                        args.push(Arg {
                            label,
                            trailing: false,
                            value: arg.child_by_field_name("value"),
                        });
                    }
                }
                "lambda_literal" => args.push(Arg {
                    label: None,
                    trailing: true,
                    value: None,
                }),
                _ => {}
            }
        }
        args
    }

    /// Checks `args` against `sigs` (one must fit); `what` names the callee in messages.
    fn check_call(&mut self, node: Node<'_>, what: &str, sigs: &[Sig], args: &[Arg<'_>]) {
        let fitting = sigs
            .iter()
            .find_map(|s| match_labels(&s.params, args).map(|m| (s, m)));
        match fitting {
            Some((sig, assignment)) => {
                self.checked += 1;
                let sig = sig.clone();
                for (arg, index) in args.iter().zip(assignment) {
                    let (Some(value), Some(ty)) = (arg.value, &sig.params[index].ty) else {
                        continue;
                    };
                    self.check_implicit_case(value, ty);
                }
            }
            None => {
                let known: Vec<String> = sigs.iter().map(|s| render_sig(what, s)).collect();
                self.error(
                    node,
                    format!(
                        "no `{what}` takes the labels {}; generated: {}",
                        render_labels(args),
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
        }
    }

    /// `.name` where a value of generated enum `ty` is expected.
    fn check_implicit_case(&mut self, value: Node<'_>, ty: &str) {
        let Some(info) = self.generated(ty) else {
            return;
        };
        // `.rejected(failures: 1, ...)`: a case with associated values, labels included.
        if info.kind == "enum"
            && value.kind() == "call_expression"
            && let Some(callee) = named_children(value).into_iter().next()
            && callee.kind() == "prefix_expression"
            && text(callee, self.source).starts_with('.')
            && let Some(target) = callee.child_by_field_name("target")
        {
            let name = ident(target, self.source);
            match info.cases.get(&name).cloned() {
                Some(Some(params)) => {
                    let args = self.args(value);
                    let sig = Sig {
                        params,
                        ..Sig::default()
                    };
                    self.check_call(value, &format!("{ty}.{name}"), &[sig], &args);
                }
                Some(None) => self.error(
                    value,
                    format!("`{ty}.{name}` has no associated values to pass"),
                ),
                None if info.methods.contains_key(&name) => {}
                None => {
                    let cases: Vec<&String> = info.cases.keys().collect();
                    self.error(
                        value,
                        format!("`{ty}` has no case `.{name}`; generated cases: {cases:?}"),
                    );
                }
            }
            return;
        }
        if info.kind != "enum" || value.kind() != "prefix_expression" {
            return;
        }
        if !text(value, self.source).starts_with('.') {
            return;
        }
        let Some(target) = value.child_by_field_name("target") else {
            return;
        };
        if target.kind() != "simple_identifier" {
            return;
        }
        let name = ident(target, self.source);
        if !info.cases.contains_key(&name) && !info.methods.contains_key(&name) {
            let cases: Vec<&String> = info.cases.keys().collect();
            self.error(
                value,
                format!("`{ty}` has no case `.{name}`; generated cases: {cases:?}"),
            );
        }
    }

    fn visit(&mut self, node: Node<'_>) {
        match node.kind() {
            "call_expression" => self.visit_call(node),
            "navigation_expression" => self.visit_navigation(node, None),
            "equality_expression" => {
                if let (Some(lhs), Some(rhs)) = (
                    node.child_by_field_name("lhs"),
                    node.child_by_field_name("rhs"),
                ) {
                    for (a, b) in [(lhs, rhs), (rhs, lhs)] {
                        if let Some(Ty::Value(t)) = self.type_of(a) {
                            self.check_implicit_case(b, &t);
                        }
                    }
                }
            }
            "class_declaration" => self.check_conformance(node),
            _ => {}
        }
        self.visit_pattern_cases(node);
        for child in named_children(node) {
            // A call's callee was checked with the call (labels included).
            if node.kind() == "call_expression" && child.kind() == "navigation_expression" {
                if let Some(target) = child.child_by_field_name("target") {
                    self.visit(target);
                }
                continue;
            }
            self.visit(child);
        }
    }

    fn visit_call(&mut self, node: Node<'_>) {
        let Some(callee) = callee_of(node) else {
            return;
        };
        let args = self.args(node);
        match callee.kind() {
            "simple_identifier" => {
                let name = ident(callee, self.source);
                if let Some(sigs) = self.api.functions.get(&name) {
                    self.check_call(node, &name, sigs, &args);
                } else if let Some(info) = self.generated(&name) {
                    // A hand-written type without an `init` has an implicit (memberwise or
                    // inherited) one that is not read here.
                    let implicit = info.hand_written && info.inits.is_empty();
                    if (info.kind == "struct" || info.kind == "class") && !implicit {
                        let inits = info.inits.clone();
                        self.check_call(node, &format!("{name}.init"), &inits, &args);
                    }
                } else if !self.declared.contains(&name)
                    && !PLATFORM_CALLS.contains(&name.as_str())
                    && !self.vars.contains_key(&name)
                {
                    self.error(
                        callee,
                        format!(
                            "`{name}(...)` is not in the generated MamoriFFI API, not declared \
                             in the hand-written Swift and not a known platform call \
                             (xtask/src/swift_symbols.rs PLATFORM_CALLS)"
                        ),
                    );
                }
            }
            "navigation_expression" => self.visit_navigation(callee, Some(node)),
            _ => {}
        }
    }

    /// `target.member` (or, as a callee, `target.member(args)`).
    fn visit_navigation(&mut self, node: Node<'_>, call: Option<Node<'_>>) {
        let (Some(target), Some(suffix)) = (
            node.child_by_field_name("target"),
            node.child_by_field_name("suffix")
                .and_then(|s| s.child_by_field_name("suffix")),
        ) else {
            return;
        };
        if suffix.kind() != "simple_identifier" {
            return;
        }
        let member = ident(suffix, self.source);
        let Some(ty) = self.type_of(target) else {
            return;
        };
        let (type_name, is_meta) = match &ty {
            Ty::Value(t) => (t.clone(), false),
            Ty::Meta(t) => (t.clone(), true),
        };
        let Some(info) = self.generated(&type_name) else {
            return;
        };
        let args = call.map(|c| self.args(c)).unwrap_or_default();
        if is_meta {
            if let Some(case) = info.cases.get(&member) {
                if let (Some(call), Some(params)) = (call, case.clone()) {
                    let sig = Sig {
                        params,
                        ..Sig::default()
                    };
                    self.check_call(call, &format!("{type_name}.{member}"), &[sig], &args);
                }
                return;
            }
            if member == "init" {
                let inits = info.inits.clone();
                if let Some(call) = call {
                    self.check_call(call, &format!("{type_name}.init"), &inits, &args);
                }
                return;
            }
            let statics: Vec<Sig> = info
                .methods
                .get(&member)
                .map(|sigs| sigs.iter().filter(|s| s.is_static).cloned().collect())
                .unwrap_or_default();
            if statics.is_empty() {
                if !info.properties.contains_key(&member) && !info.hand_written {
                    self.error(
                        suffix,
                        format!("`{type_name}` has no static member or case `{member}`"),
                    );
                }
                return;
            }
            if let Some(call) = call {
                self.check_call(call, &format!("{type_name}.{member}"), &statics, &args);
            }
            return;
        }
        let methods: Vec<Sig> = info
            .methods
            .get(&member)
            .map(|sigs| sigs.iter().filter(|s| !s.is_static).cloned().collect())
            .unwrap_or_default();
        if !methods.is_empty() {
            // Without a call it is a method reference, e.g. `engine.verify` passed on.
            if let Some(call) = call {
                self.check_call(call, &format!("{type_name}.{member}"), &methods, &args);
            }
            return;
        }
        if info.properties.contains_key(&member) {
            self.checked += 1;
            return;
        }
        if info.hand_written {
            return;
        }
        self.error(
            suffix,
            format!(
                "`{type_name}` has no member `{member}`; generated: {:?}",
                info.properties
                    .keys()
                    .chain(info.methods.keys())
                    .collect::<Vec<_>>()
            ),
        );
    }

    /// `case StorageError.NotFound(let name)`: a generated type followed by a case name.
    fn visit_pattern_cases(&mut self, node: Node<'_>) {
        if !matches!(
            node.kind(),
            "pattern" | "guard_statement" | "if_statement" | "switch_pattern" | "catch_block"
        ) {
            return;
        }
        let children = named_children(node);
        for pair in children.windows(2) {
            let (ty, case) = (pair[0], pair[1]);
            if ty.kind() != "user_type" || case.kind() != "simple_identifier" {
                continue;
            }
            let Some(type_name) = base_type(ty, self.source) else {
                continue;
            };
            let Some(info) = self.generated(&type_name) else {
                continue;
            };
            let name = ident(case, self.source);
            if info.kind == "enum" && !info.cases.contains_key(&name) {
                let cases: Vec<&String> = info.cases.keys().collect();
                self.error(
                    case,
                    format!("`{type_name}` has no case `{name}`; generated cases: {cases:?}"),
                );
            }
        }
    }

    /// A hand-written type adopting a generated protocol implements each requirement with the
    /// generated labels.
    fn check_conformance(&mut self, decl: Node<'_>) {
        let protocols: Vec<String> = named_children(decl)
            .into_iter()
            .filter(|c| c.kind() == "inheritance_specifier")
            .filter_map(|c| {
                c.child_by_field_name("inherits_from")
                    .and_then(|t| base_type(t, self.source))
            })
            .filter(|name| self.generated(name).is_some_and(|t| t.kind == "protocol"))
            .collect();
        if protocols.is_empty() {
            return;
        }
        let Some(body) = decl.child_by_field_name("body") else {
            return;
        };
        let mut implemented: Vec<(String, Sig)> = Vec::new();
        for member in named_children(body) {
            if member.kind() == "function_declaration" {
                let (name, sig) = signature(member, self.source);
                if let Some(name) = name {
                    implemented.push((name, sig));
                }
            }
        }
        for protocol in protocols {
            let info = self.generated(&protocol).expect("filtered above").clone();
            for (name, sigs) in &info.methods {
                for required in sigs {
                    let found = implemented.iter().any(|(n, s)| {
                        n == name
                            && s.params.len() == required.params.len()
                            && s.params
                                .iter()
                                .zip(&required.params)
                                .all(|(a, b)| a.label == b.label)
                    });
                    if !found {
                        self.error(
                            decl,
                            format!(
                                "adopts `{protocol}` but does not implement `{}`",
                                render_sig(name, required)
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// Every name the hand-written Swift declares (types, functions, properties, parameters,
/// cases, closure parameters, pattern bindings): bare calls to these are not API calls.
fn collect_declared(node: Node<'_>, source: &str, out: &mut BTreeSet<String>) {
    match node.kind() {
        "class_declaration" | "protocol_declaration" | "typealias_declaration" => {
            if let Some(name) = node
                .child_by_field_name("name")
                .and_then(|n| base_type(n, source))
            {
                out.insert(name);
            }
        }
        "function_declaration" | "protocol_function_declaration" => {
            if let (Some(name), _) = signature(node, source) {
                out.insert(name);
            }
        }
        "parameter" | "lambda_parameter" => {
            for (field, child) in fielded_children(node) {
                if field == Some("name") && child.kind() == "simple_identifier" {
                    out.insert(ident(child, source));
                }
            }
        }
        "pattern" => {
            if let Some(b) = node.child_by_field_name("bound_identifier") {
                out.insert(ident(b, source));
            }
            for child in named_children(node) {
                if child.kind() == "simple_identifier" {
                    out.insert(ident(child, source));
                }
            }
        }
        "enum_entry" => {
            for (field, child) in fielded_children(node) {
                if field == Some("name") {
                    out.insert(ident(child, source));
                }
            }
        }
        _ => {}
    }
    for child in named_children(node) {
        collect_declared(child, source, out);
    }
}

/// Declared types of names in one file: annotations, parameters, and values initialised from
/// generated calls (a second pass resolves `let e = try PinningEngine.fromFile(...)`).
fn collect_vars(checker: &mut Checker<'_>, root: Node<'_>) {
    fn walk<'t>(
        node: Node<'t>,
        source: &str,
        out: &mut Vec<(String, Option<String>, Option<Node<'t>>)>,
    ) {
        match node.kind() {
            "property_declaration" => {
                let (names, ty, value) = property(node, source);
                for n in names {
                    out.push((n, ty.clone(), value));
                }
            }
            "parameter" => {
                let mut name = None;
                let mut ty = None;
                for (field, child) in fielded_children(node) {
                    match (field, child.kind()) {
                        (Some("name"), "simple_identifier") if name.is_none() => {
                            name = Some(ident(child, source))
                        }
                        (Some("name"), kind) if is_type_node(kind) => ty = base_type(child, source),
                        _ => {}
                    }
                }
                if let Some(name) = name {
                    // `ty` None (array, closure...): recorded as typeless, so it never
                    // resolves to a generated type by mistake.
                    out.push((name, ty.or(Some(String::new())), None));
                }
            }
            _ => {}
        }
        for child in named_children(node) {
            walk(child, source, out);
        }
    }
    let mut found = Vec::new();
    walk(root, checker.source, &mut found);
    // Two passes: annotated names first, then values whose type comes from a generated call
    // (which may use the annotated names).
    let mut annotated: BTreeMap<String, Option<String>> = BTreeMap::new();
    let merge =
        |map: &mut BTreeMap<String, Option<String>>, name: String, ty: Option<String>| match map
            .get(&name)
        {
            None => {
                map.insert(name, ty);
            }
            Some(existing) if *existing == ty => {}
            Some(_) => {
                map.insert(name, None);
            }
        };
    for (name, ty, _) in &found {
        if let Some(ty) = ty {
            merge(&mut annotated, name.clone(), Some(ty.clone()));
        }
    }
    checker.vars = annotated.clone();
    let mut inferred = annotated;
    for (name, ty, value) in &found {
        if ty.is_none() {
            let t = value.and_then(|v| checker.type_of(v)).map(|t| match t {
                Ty::Value(t) | Ty::Meta(t) => t,
            });
            merge(&mut inferred, name.clone(), Some(t.unwrap_or_default()));
        }
    }
    // Typeless entries (empty names) stay as "known, not generated".
    checker.vars = inferred
        .into_iter()
        .map(|(k, v)| (k, v.filter(|t| !t.is_empty()).or(None)))
        .collect();
}

/// The outcome of [`check_uses`].
#[derive(Debug, Default)]
pub struct UseReport {
    /// Uses of the generated API that were resolved and found right.
    pub checked: usize,
    /// Uses that do not exist as written.
    pub errors: Vec<SymbolError>,
}

/// Checks every hand-written file (`(path, source)`) against `api`.
pub fn check_uses(
    parser: &mut Parser,
    api: &Api,
    files: &[(PathBuf, String)],
) -> Result<UseReport, String> {
    let mut trees = Vec::new();
    for (path, source) in files {
        let source = super::swift_check::blank_grammar_gaps(source);
        let tree = parse(parser, &source)
            .ok_or_else(|| format!("the parser gave up on {}", path.display()))?;
        trees.push((path, source, tree));
    }
    let mut declared = BTreeSet::new();
    let mut combined = api.clone();
    for (_, source, tree) in &trees {
        collect_declared(tree.root_node(), source, &mut declared);
        add_hand_written_types(&mut combined, tree.root_node(), source);
    }
    let api = &combined;
    // Hand-written declarations that shadow generated names are not treated as declared.
    let mut report = UseReport::default();
    for (path, source, tree) in &trees {
        let mut checker = Checker {
            api,
            declared: &declared,
            vars: BTreeMap::new(),
            source,
            file: path,
            errors: Vec::new(),
            checked: 0,
        };
        collect_vars(&mut checker, tree.root_node());
        checker.visit(tree.root_node());
        report.errors.extend(checker.errors);
        report.checked += checker.checked;
    }
    Ok(report)
}

/// The names that tie the Swift package together: the generated Swift's `import` of the C
/// module, the modulemap's module and header, the header file, the package's targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleNames {
    /// `MamoriFFI`: the generated Swift module (its file is `<name>.swift`).
    pub swift_module: String,
    /// `MamoriFFIFFI`: the C module of the header.
    pub c_module: String,
    /// `MamoriFFIFFI.h`.
    pub header: String,
}

/// Checks that the generated Swift, the modulemap, the header file name and `Package.swift`
/// agree on the module names; returns one message per disagreement.
pub fn check_module_names(
    names: &ModuleNames,
    generated_swift: &str,
    modulemap: &str,
    header_exists: bool,
    package_swift: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let c = &names.c_module;
    if !generated_swift.contains(&format!("#if canImport({c})"))
        || !generated_swift
            .lines()
            .any(|l| l.trim() == format!("import {c}"))
    {
        problems.push(format!(
            "the generated {}.swift does not import the C module `{c}`",
            names.swift_module
        ));
    }
    let declared = modulemap
        .lines()
        .find_map(|l| l.trim().strip_prefix("module "))
        .map(|rest| rest.trim_end_matches('{').trim().to_owned());
    if declared.as_deref() != Some(c.as_str()) {
        problems.push(format!(
            "the modulemap declares module {declared:?}, the generated Swift imports `{c}`"
        ));
    }
    if !modulemap.contains(&format!("header \"{}\"", names.header)) {
        problems.push(format!(
            "the modulemap does not name the header `{}`",
            names.header
        ));
    }
    if !header_exists {
        problems.push(format!("the header `{}` was not generated", names.header));
    }
    for (what, needle) in [
        ("the C module's binary target", format!("name: \"{c}\"")),
        (
            "the generated Swift target",
            format!("name: \"{}\"", names.swift_module),
        ),
    ] {
        if !package_swift.contains(&needle) {
            problems.push(format!("Package.swift has no {what} `{needle}`"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENERATED: &str = r#"
import Foundation
#if canImport(MamoriFFIFFI)
import MamoriFFIFFI
#endif

public protocol KeyEncryptionKey: AnyObject, Sendable {
    func keyId() -> String
    func wrap(dek: Data, aad: Data) throws -> Data
}

public protocol PinningEngineProtocol: AnyObject, Sendable {
    func verify(host: String, port: UInt16, chain: [Data]) -> PinDecision
}

open class PinningEngine: PinningEngineProtocol, @unchecked Sendable {
    fileprivate let handle: UInt64
    public struct NoHandle {
        public init() {}
    }
#if swift(>=5.8)
    @_documentation(visibility: private)
#endif
    public init(noHandle: NoHandle) { self.handle = 0 }
public static func fromToml(text: String)throws  -> PinningEngine  {
    fatalError()
}
open func verify(host: String, port: UInt16, chain: [Data]) -> PinDecision  {
    fatalError()
}
open func verifyAt(host: String, port: UInt16, chain: [Data], unixSeconds: UInt64) -> PinDecision  {
    fatalError()
}
}

public struct PinReport: Equatable, Hashable {
    public var hostname: String
    public var json: String
    public init(hostname: String, json: String) {
        self.hostname = hostname
        self.json = json
    }
}

public struct PinDecision: Equatable, Hashable {
    public var outcome: PinOutcome
    public var host: String
    public var report: PinReport?
    public init(
        /**
         * Allow, block or report.
         */outcome: PinOutcome, host: String, report: PinReport? = nil) {
        self.outcome = outcome
        self.host = host
        self.report = report
    }
}

public struct AppInfo: Equatable, Hashable {
    public var bundleId: String?
    public init(bundleId: String? = nil, platform: String? = nil) {}
}

public enum PinOutcome: Equatable, Hashable {
    case allow
    case block
    case report
}

public
enum KekError: Swift.Error, Equatable, Hashable {
    case Unavailable(
        /**
         * Why.
         */reason: String
    )
    case Backend(reason: String)
}

fileprivate struct FfiConverterString {}

public func mamoriVersion() -> String  {
    fatalError()
}

public func evaluateDevice(inputs: String, policy: String, at: String)async throws  -> String  {
    fatalError()
}
"#;

    fn api() -> Api {
        let mut parser = crate::swift_check::swift_parser().unwrap();
        generated_api(&mut parser, GENERATED).unwrap()
    }

    fn check(source: &str) -> Vec<SymbolError> {
        let mut parser = crate::swift_check::swift_parser().unwrap();
        check_uses(
            &mut parser,
            &api(),
            &[(PathBuf::from("Facade.swift"), source.to_owned())],
        )
        .unwrap()
        .errors
    }

    fn messages(source: &str) -> Vec<String> {
        check(source).into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn reads_the_generated_api() {
        let api = api();
        let engine = &api.types["PinningEngine"];
        assert_eq!(engine.kind, "class");
        let from_toml = &engine.methods["fromToml"][0];
        assert!(from_toml.is_static);
        assert_eq!(from_toml.params[0].label.as_deref(), Some("text"));
        assert_eq!(from_toml.returns.as_deref(), Some("PinningEngine"));
        assert!(!engine.methods["verifyAt"][0].is_static);
        let decision = &api.types["PinDecision"];
        assert_eq!(
            decision.properties["outcome"].as_deref(),
            Some("PinOutcome")
        );
        assert_eq!(decision.properties["report"].as_deref(), Some("PinReport"));
        let init = &decision.inits[0];
        let labels: Vec<_> = init
            .params
            .iter()
            .map(|p| p.label.clone().unwrap())
            .collect();
        assert_eq!(labels, ["outcome", "host", "report"]);
        assert_eq!(
            init.params
                .iter()
                .map(|p| p.has_default)
                .collect::<Vec<_>>(),
            [false, false, true]
        );
        assert!(api.types["PinOutcome"].cases.contains_key("block"));
        let unavailable = api.types["KekError"].cases["Unavailable"].clone().unwrap();
        assert_eq!(unavailable[0].label.as_deref(), Some("reason"));
        assert!(api.functions.contains_key("mamoriVersion"));
        assert!(api.types["KeyEncryptionKey"].methods.contains_key("wrap"));
        // Private helpers are not API.
        assert!(!api.types.contains_key("FfiConverterString"));
    }

    #[test]
    fn correct_uses_pass() {
        let source = r#"
import MamoriFFI

final class Kek: KeyEncryptionKey, @unchecked Sendable {
    func keyId() -> String { "k" }
    func wrap(dek: Data, aad: Data) throws -> Data {
        throw KekError.Backend(reason: "no")
    }
}

func use(engine: PinningEngine, chain: [Data]) throws -> String {
    let other = try PinningEngine.fromToml(text: "")
    let decision = engine.verifyAt(host: "h", port: 443, chain: chain, unixSeconds: 1)
    if decision.outcome == .block { return decision.host }
    let again = other.verify(host: "h", port: 443, chain: chain)
    _ = again.report?.json
    _ = AppInfo()
    _ = AppInfo(platform: "IOS")
    _ = PinDecision(outcome: .allow, host: "h")
    _ = PinOutcome.report
    do { try f() } catch KekError.Unavailable(let reason) { print(reason) }
    return mamoriVersion() + String(decision.host.count)
}
func f() throws {}
"#;
        assert_eq!(messages(source), Vec::<String>::new());
    }

    #[test]
    fn resolved_uses_are_counted() {
        let mut parser = crate::swift_check::swift_parser().unwrap();
        let source = "func g(e: PinningEngine) -> String {\n    let d = e.verify(host: \"h\", port: 1, chain: [])\n    return d.host + mamoriVersion()\n}\n";
        let report = check_uses(
            &mut parser,
            &api(),
            &[(PathBuf::from("a.swift"), source.into())],
        )
        .unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        // e.verify(...), d.host, mamoriVersion()
        assert_eq!(report.checked, 3);
    }

    #[test]
    fn a_wrong_label_is_caught() {
        let errors = messages(
            "func g(e: PinningEngine) { _ = e.verifyAt(host: \"h\", port: 1, chain: [], seconds: 1) }\n",
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains(
                "no `PinningEngine.verifyAt` takes the labels (host:port:chain:seconds:)"
            ),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("verifyAt(host:port:chain:unixSeconds:)"),
            "{errors:?}"
        );
        assert!(errors[0].starts_with("Facade.swift:1:"), "{errors:?}");
    }

    #[test]
    fn wrong_labels_on_free_functions_initializers_statics_and_cases_are_caught() {
        let cases = [
            (
                "_ = evaluateDevice(input: \"\", policy: \"\", at: \"\")\n",
                "evaluateDevice",
            ),
            ("_ = PinDecision(outcome: .allow)\n", "PinDecision.init"),
            (
                "_ = PinDecision(host: \"h\", outcome: .allow)\n",
                "PinDecision.init",
            ),
            ("_ = AppInfo(bundle: \"x\")\n", "AppInfo.init"),
            (
                "_ = try PinningEngine.fromToml(toml: \"\")\n",
                "PinningEngine.fromToml",
            ),
            (
                "throw KekError.Backend(message: \"x\")\n",
                "KekError.Backend",
            ),
        ];
        for (source, callee) in cases {
            let errors = messages(source);
            assert_eq!(errors.len(), 1, "{source}: {errors:?}");
            assert!(
                errors[0].contains(&format!("no `{callee}`")),
                "{source}: {errors:?}"
            );
        }
    }

    #[test]
    fn missing_symbols_are_caught() {
        let cases = [
            // A Rust-side rename: the generated function is gone.
            (
                "_ = nativeVersion()\n",
                "`nativeVersion(...)` is not in the generated",
            ),
            (
                "_ = try PinningEngine.fromYaml(text: \"\")\n",
                "no static member or case `fromYaml`",
            ),
            (
                "func g(d: PinDecision) -> String { d.reason }\n",
                "`PinDecision` has no member `reason`",
            ),
            (
                "func g(d: PinDecision) -> String? { d.report?.mamoriReason }\n",
                "`PinReport` has no member `mamoriReason`",
            ),
            (
                "func g(d: PinDecision) -> Bool { d.outcome == .blocked }\n",
                "`PinOutcome` has no case `.blocked`",
            ),
            ("_ = PinOutcome.deny\n", "no static member or case `deny`"),
            (
                "func g() { do {} catch KekError.Locked(let r) {} }\n",
                "`KekError` has no case `Locked`",
            ),
            (
                "_ = PinDecision(outcome: .deny, host: \"h\")\n",
                "`PinOutcome` has no case `.deny`",
            ),
            (
                "_ = PinDecision(outcome: .allow(x: 1), host: \"h\")\n",
                "`PinOutcome.allow` has no associated values",
            ),
            (
                "_ = PinDecision(outcome: .allowed(x: 1), host: \"h\")\n",
                "`PinOutcome` has no case `.allowed`",
            ),
            (
                "final class K: KeyEncryptionKey {\n    func keyId() -> String { \"\" }\n    func wrap(key: Data, aad: Data) throws -> Data { key }\n}\n",
                "adopts `KeyEncryptionKey` but does not implement `wrap(dek:aad:)`",
            ),
        ];
        for (source, expected) in cases {
            let errors = messages(source);
            assert!(
                errors.iter().any(|e| e.contains(expected)),
                "{source}: expected `{expected}`, got {errors:?}"
            );
        }
    }

    #[test]
    fn unknown_receivers_and_platform_calls_are_not_guessed() {
        let source = r#"
import Foundation
let items = [1, 2]
let ok = items.contains { $0 > 1 }
let url = URL(fileURLWithPath: "/")
XCTAssertEqual(url.path, "/")
func local(_ x: Int) -> Int { x }
_ = local(1)
"#;
        assert_eq!(messages(source), Vec::<String>::new());
    }

    #[test]
    fn calls_into_the_hand_written_facade_are_label_checked_and_reach_generated_types() {
        let source = r#"
public final class Validator {
    public let engine: PinningEngine
    public struct Options { var strict: Bool }
    public init(engine: PinningEngine, strict: Bool = true) { self.engine = engine }
    public func evaluate(host: String, port: Int = 0) -> Bool { true }
}
func use(v: Validator, e: PinningEngine) {
    _ = v.evaluate(host: "h")
    _ = v.evaluate(host: "h", port: 1)
    _ = v.description
    _ = Validator.Options(strict: true)
    _ = Validator(engine: e)
    _ = v.engine.verify(host: "h", port: 1, chain: [])
}
"#;
        assert_eq!(messages(source), Vec::<String>::new());
        let wrong = format!(
            "{source}func bad(v: Validator) {{\n    _ = v.evaluate(hostname: \"h\")\n    _ = v.engine.verify(host: \"h\", chain: [])\n}}\n"
        );
        let errors = messages(&wrong);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("no `Validator.evaluate`"), "{errors:?}");
        assert!(
            errors[1].contains("no `PinningEngine.verify`"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_name_with_two_types_in_one_file_is_not_resolved() {
        let source = "func a(d: PinDecision) {}\nfunc b(d: PinReport) { _ = d.json }\n";
        assert_eq!(messages(source), Vec::<String>::new());
    }

    #[test]
    fn module_names_must_agree() {
        let names = ModuleNames {
            swift_module: "MamoriFFI".into(),
            c_module: "MamoriFFIFFI".into(),
            header: "MamoriFFIFFI.h".into(),
        };
        let modulemap = "module MamoriFFIFFI {\n    header \"MamoriFFIFFI.h\"\n    export *\n}\n";
        let package =
            r#".binaryTarget(name: "MamoriFFIFFI", path: "x"), .target(name: "MamoriFFI")"#;
        assert_eq!(
            check_module_names(&names, GENERATED, modulemap, true, package),
            Vec::<String>::new()
        );
        let renamed = modulemap.replace("module MamoriFFIFFI", "module MamoriCore");
        let problems = check_module_names(&names, GENERATED, &renamed, false, package);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let package = package.replace("\"MamoriFFIFFI\"", "\"MamoriFFIFFIX\"");
        let problems = check_module_names(&names, GENERATED, modulemap, true, &package);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("binary target"), "{problems:?}");
    }
}
