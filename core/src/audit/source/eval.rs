//! The evaluator: parses each file with its tree-sitter grammar, records
//! declarations and call sites in one iterative walk, then evaluates the
//! expressions that matter (pins, hosts, TrustKit dictionaries) from
//! literals, constants and collection builders.
//!
//! What is evaluated: string literals (escapes, Kotlin `${}`/`$x` and Swift
//! `\()` templates of constants), `+` concatenation, constants (`const val`,
//! `val`, `static final`, `let`, `static NSString *const`, `#define`),
//! qualified references (`Pins.HOST`, `Companion`), list builders (`listOf`,
//! `arrayOf`, `setOf`, `Arrays.asList`, `List.of`, `{...}` array
//! initialisers, Swift and Objective-C array and dictionary literals),
//! `toTypedArray()`-style conversions, the spread operator, and the variable
//! of a `for` loop or `forEach` over a constant list. Anything else (a
//! function's result, a resource, a `BuildConfig` field without its
//! `build.gradle`) is kept as [`Why`] so the audit can say what it could not
//! read and where to look.
//!
//! Bounds: evaluation depth is [`MAX_EVAL_DEPTH`]; strings longer than
//! [`MAX_VALUE_BYTES`] and lists longer than [`MAX_LIST_ITEMS`] are not
//! built (constants that double each other cannot blow up memory); the walk
//! over the syntax tree is an explicit loop over a `TreeCursor`, so nesting
//! costs heap, not stack.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use tree_sitter::{Node, Tree};

/// The deepest expression evaluation (nested calls, constants that refer to
/// constants).
pub(crate) const MAX_EVAL_DEPTH: usize = crate::limits::MAX_NESTING_DEPTH;
/// The most definitions of one name compared to find that they agree.
pub(crate) const MAX_CANDIDATES: usize = 64;
/// The longest string value built.
pub(crate) const MAX_VALUE_BYTES: usize = 64 << 10;
/// The longest list value built.
pub(crate) const MAX_LIST_ITEMS: usize = 100_000;

/// A source language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Kotlin,
    Java,
    Swift,
    ObjC,
}

impl Lang {
    fn grammar(self) -> tree_sitter::Language {
        match self {
            Self::Kotlin => tree_sitter_kotlin_ng::LANGUAGE.into(),
            Self::Java => tree_sitter_java::LANGUAGE.into(),
            Self::Swift => tree_sitter_swift::LANGUAGE.into(),
            Self::ObjC => tree_sitter_objc::LANGUAGE.into(),
        }
    }
}

/// Why a value could not be read from source, and where to look instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Why {
    /// The expression as written (shortened).
    pub expr: String,
    /// 1-based line.
    pub line: u32,
    /// Index of the file.
    pub file: usize,
    /// What it is.
    pub kind: WhyKind,
}

/// The classes of unreadable expressions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WhyKind {
    /// `BuildConfig.NAME` without a `buildConfigField` for it.
    BuildConfig(String),
    /// An Android resource (`R.string.x`, `getString(...)`).
    Resource,
    /// The result of a function or method call.
    Call(String),
    /// A name that is no constant of the files given.
    Name(String),
    /// A name with several different definitions.
    Ambiguous(String),
    /// `BuildConfig.NAME` whose `buildConfigField`s give different values
    /// (build types or flavors): each candidate's value (`None` when it is
    /// no string) and where it is defined (file index, line).
    BuildConfigVariants(String, Vec<(Option<String>, usize, u32)>),
    /// A constant defined in terms of itself.
    Cycle(String),
    /// A value over the size or depth bounds.
    TooLarge,
    /// An expression of another kind.
    Other,
}

impl Why {
    /// Where to look, for the finding.
    pub(crate) fn hint(&self) -> String {
        match &self.kind {
            WhyKind::BuildConfig(n) => format!(
                "BuildConfig.{n} is generated from a `buildConfigField` in build.gradle(.kts); \
                 pass that file to `mamori audit` together with this one"
            ),
            WhyKind::Resource => {
                "an Android resource: the value is in res/values/*.xml, not in source".into()
            }
            WhyKind::Call(f) => format!(
                "the result of calling `{f}` is not evaluated; use a constant, or check the function by hand"
            ),
            WhyKind::Name(n) => {
                format!("`{n}` is not a constant of the files given; pass the file that defines it")
            }
            WhyKind::BuildConfigVariants(n, c) => format!(
                "BuildConfig.{n} has {} different values in the build variants given; \
                 the pin in the app depends on the variant built",
                c.len()
            ),
            WhyKind::Ambiguous(n) => format!(
                "`{n}` has several different definitions in the files given (build types or flavors?)"
            ),
            WhyKind::Cycle(n) => format!("`{n}` is defined in terms of itself"),
            WhyKind::TooLarge => "the value is nested or sized beyond Mamori's bounds".into(),
            WhyKind::Other => "an expression Mamori does not evaluate".into(),
        }
    }
}

/// A value of the small language of constants.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Bool(bool),
    Num(i64),
    List(Rc<Vec<Val>>),
    /// Keys, values and the line of each key.
    Dict(Rc<Vec<(Val, Val, u32)>>),
    /// Each element of a list: a loop variable.
    Each(Rc<Vec<Val>>),
    Unknown(Rc<Why>),
}

/// One parsed file.
pub(crate) struct Parsed<'t> {
    pub name: &'t str,
    pub text: &'t str,
    pub lang: Lang,
    pub tree: Tree,
}

/// Why a file has no syntax tree.
pub(crate) enum Unparsed {
    /// The grammar gave none.
    NoTree,
    /// The parse spent its budget ([`crate::limits::parse_budget`]), or
    /// the text leaves too many brackets open to be worth parsing.
    Budget(crate::limits::LimitError),
    /// Stopped because another file of the group spent its budget (the
    /// group's import fails with that file's error).
    Cancelled,
}

/// Parses `text` within its budget of parse actions and time
/// ([`crate::limits::parse_budget`]): tree-sitter's error recovery can take
/// tens of thousands of actions per byte on garbled text.
/// `stop` is shared by the files of one import: the first to fail sets it,
/// and the others stop at their next progress check instead of spending
/// their own budgets on an import that already failed.
pub(crate) fn parse<'t>(
    name: &'t str,
    text: &'t str,
    lang: Lang,
    stop: &AtomicBool,
) -> Result<Parsed<'t>, Unparsed> {
    let unclosed = super::lex::unclosed(text, lang);
    if unclosed > crate::limits::MAX_UNCLOSED_BRACKETS {
        stop.store(true, Ordering::Relaxed);
        return Err(Unparsed::Budget(crate::limits::LimitError::Unbalanced {
            unclosed,
            limit: crate::limits::MAX_UNCLOSED_BRACKETS,
        }));
    }
    let mut p = tree_sitter::Parser::new();
    p.set_language(&lang.grammar())
        .map_err(|_| Unparsed::NoTree)?;
    let (steps, time) = crate::limits::parse_budget(text.len());
    let start = std::time::Instant::now();
    // tree-sitter calls back every 100 parse actions (`OP_COUNT_PER_PARSER_TIMEOUT_CHECK`).
    let (mut calls, max_calls) = (0u64, steps.div_ceil(100));
    let mut spent = false;
    let mut progress = |_: &tree_sitter::ParseState| {
        calls += 1;
        spent = calls > max_calls || start.elapsed() > time;
        if spent {
            stop.store(true, Ordering::Relaxed);
        }
        spent || stop.load(Ordering::Relaxed)
    };
    let bytes = text.as_bytes();
    let tree = p.parse_with_options(
        &mut |i, _| bytes.get(i..).unwrap_or_default(),
        None,
        Some(tree_sitter::ParseOptions::new().progress_callback(&mut progress)),
    );
    match tree {
        Some(tree) => Ok(Parsed {
            name,
            text,
            lang,
            tree,
        }),
        None if spent => Err(Unparsed::Budget(crate::limits::LimitError::ParseBudget {
            size: text.len(),
            steps,
            seconds: time.as_secs(),
        })),
        None if stop.load(Ordering::Relaxed) => Err(Unparsed::Cancelled),
        None => Err(Unparsed::NoTree),
    }
}

/// Parses files `(name, text, language)` on up to
/// [`std::thread::available_parallelism`] threads (at most 8), in order.
/// Parsing is most of the time of reading a source tree (the grammar's own
/// cost), and files are independent until their declarations are joined.
pub(crate) fn parse_all<'t>(
    files: &[(&'t str, &'t str, Lang)],
) -> Vec<Result<Parsed<'t>, Unparsed>> {
    let stop = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8)
        .min(files.len().max(1));
    if threads == 1 {
        return files
            .iter()
            .map(|(n, t, l)| parse(n, t, *l, &stop))
            .collect();
    }
    // Contiguous chunks of about equal bytes, so a few large files do not
    // all land on one thread.
    let total: usize = files.iter().map(|f| f.1.len()).sum();
    let per = total.div_ceil(threads).max(1);
    let mut chunks: Vec<&[(&'t str, &'t str, Lang)]> = Vec::new();
    let (mut start, mut acc) = (0, 0);
    for (i, f) in files.iter().enumerate() {
        acc += f.1.len();
        if acc >= per {
            chunks.push(&files[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < files.len() {
        chunks.push(&files[start..]);
    }
    let stop = &stop;
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|(n, t, l)| parse(n, t, *l, stop))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// A declaration: a name, the containers it is in, its value expression.
#[derive(Clone)]
struct Binding<'t> {
    file: usize,
    path: Rc<Vec<String>>,
    value: Option<Node<'t>>,
    /// The declaration's text mentions `CertificatePinner` (a builder variable
    /// or parameter).
    pinner_typed: bool,
}

/// A loop variable in scope at a call site.
#[derive(Clone)]
pub(crate) struct LoopVar<'t> {
    pub name: String,
    pub iterable: Node<'t>,
}

/// A call recorded during the walk.
#[derive(Clone)]
pub(crate) struct Site<'t> {
    pub file: usize,
    pub node: Node<'t>,
    pub path: Rc<Vec<String>>,
    pub loops: Rc<Vec<LoopVar<'t>>>,
    /// The receiver of an enclosing `apply`/`run`/`with` lambda, when it is a
    /// `CertificatePinner.Builder` (Kotlin).
    pub implicit_builder: Option<Node<'t>>,
}

/// What a scope frame pushed on entry.
enum Frame<'t> {
    Container,
    Loop,
    Implicit(Option<Node<'t>>),
}

/// The declarations of all files and the call sites of interest.
pub(crate) struct Program<'t> {
    pub files: &'t [Parsed<'t>],
    bindings: HashMap<String, Vec<Binding<'t>>>,
    /// name → container path → the last binding there (index into `bindings[name]`).
    scoped: HashMap<String, HashMap<Vec<String>, usize>>,
    /// name → innermost container name → bindings there.
    in_container: HashMap<String, HashMap<String, Vec<usize>>>,
    pub sites: Vec<Site<'t>>,
    memo: std::cell::RefCell<HashMap<(usize, usize), Val>>,
    active: std::cell::RefCell<Vec<(usize, usize)>>,
    /// [`Program::builder_root`] of every chain node walked.
    builder_roots: std::cell::RefCell<HashMap<(usize, usize), Option<Node<'t>>>>,
    /// [`Program::chain_root_name`] of every chain node walked.
    chain_names: std::cell::RefCell<HashMap<(usize, usize), Option<&'t str>>>,
}

fn text<'t>(p: &Parsed<'t>, n: Node) -> &'t str {
    &p.text[n.byte_range()]
}

fn line(n: Node) -> u32 {
    n.start_position().row as u32 + 1
}

/// Shortens an expression for a message.
fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 80 {
        let cut: String = one.chars().take(77).collect();
        format!("{cut}...")
    } else {
        one
    }
}

/// Whether a call's callee names one of the functions we record.
fn callee_name<'t>(p: &Parsed<'t>, call: Node<'t>) -> Option<&'t str> {
    match p.lang {
        Lang::Kotlin => {
            let f = call.named_child(0)?;
            match f.kind() {
                "identifier" => Some(text(p, f)),
                "navigation_expression" => {
                    f.named_child(f.named_child_count() - 1).map(|n| text(p, n))
                }
                _ => None,
            }
        }
        Lang::Java => call.child_by_field_name("name").map(|n| text(p, n)),
        Lang::Swift => {
            let f = call.named_child(0)?;
            match f.kind() {
                "simple_identifier" => Some(text(p, f)),
                "navigation_expression" => f
                    .child_by_field_name("suffix")
                    .and_then(|s| s.child_by_field_name("suffix"))
                    .map(|n| text(p, n)),
                _ => None,
            }
        }
        Lang::ObjC => call.child_by_field_name("method").map(|n| text(p, n)),
    }
}

/// The node of a call's name (`add` in `b.add(...)`), else the call.
pub(crate) fn callee_node<'t>(p: &Parsed<'t>, call: Node<'t>) -> Node<'t> {
    let name = match p.lang {
        Lang::Kotlin => call
            .named_child(0)
            .filter(|f| f.kind() == "navigation_expression")
            .and_then(|f| f.named_child(f.named_child_count().saturating_sub(1))),
        Lang::Java => call.child_by_field_name("name"),
        Lang::ObjC => call.child_by_field_name("method"),
        Lang::Swift => None,
    };
    name.unwrap_or(call)
}

/// The call kinds of each language.
fn is_call(lang: Lang, kind: &str) -> bool {
    match lang {
        Lang::Kotlin | Lang::Swift => kind == "call_expression",
        Lang::Java => kind == "method_invocation",
        Lang::ObjC => kind == "message_expression",
    }
}

impl<'t> Program<'t> {
    /// Walks every file once, recording declarations and the calls whose
    /// name `want` accepts.
    pub(crate) fn build(files: &'t [Parsed<'t>], want: &dyn Fn(&str) -> bool) -> Self {
        let mut prog = Program {
            files,
            bindings: HashMap::new(),
            scoped: HashMap::new(),
            in_container: HashMap::new(),
            sites: Vec::new(),
            memo: Default::default(),
            active: Default::default(),
            builder_roots: Default::default(),
            chain_names: Default::default(),
        };
        for (fi, p) in files.iter().enumerate() {
            prog.walk(fi, p, want);
        }
        // Source order of the called name: the walk meets `a.add(x).add(y)`
        // at its outer call (`add(y)`) first.
        prog.sites
            .sort_by_key(|s| (s.file, callee_node(&files[s.file], s.node).start_byte()));
        prog
    }

    fn walk(&mut self, fi: usize, p: &'t Parsed<'t>, want: &dyn Fn(&str) -> bool) {
        let mut cursor = p.tree.walk();
        let mut path: Rc<Vec<String>> = Rc::new(Vec::new());
        let mut loops: Rc<Vec<LoopVar<'t>>> = Rc::new(Vec::new());
        let mut implicit: Option<Node<'t>> = None;
        // Frames of the nodes on the current path, with the depth of each.
        let mut frames: Vec<(usize, Frame<'t>)> = Vec::new();
        let mut depth = 0usize;
        loop {
            let node = cursor.node();
            // Enter.
            if let Some(name) = container_name(p, node) {
                let mut v = (*path).clone();
                v.push(name);
                path = Rc::new(v);
                frames.push((depth, Frame::Container));
            }
            if let Some(lv) = loop_var(p, node) {
                let mut v = (*loops).clone();
                v.push(lv);
                loops = Rc::new(v);
                frames.push((depth, Frame::Loop));
            }
            if let Some(b) = implicit_receiver(p, node) {
                frames.push((depth, Frame::Implicit(implicit)));
                implicit = Some(b);
            }
            self.declare(fi, p, node, &path);
            if is_call(p.lang, node.kind()) && callee_name(p, node).is_some_and(want) {
                self.sites.push(Site {
                    file: fi,
                    node,
                    path: path.clone(),
                    loops: loops.clone(),
                    implicit_builder: implicit,
                });
            }
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            // Leave this node and every ancestor that has no next sibling.
            loop {
                while frames.last().is_some_and(|(d, _)| *d == depth) {
                    match frames.pop().expect("checked").1 {
                        Frame::Container => {
                            let mut v = (*path).clone();
                            v.pop();
                            path = Rc::new(v);
                        }
                        Frame::Loop => {
                            let mut v = (*loops).clone();
                            v.pop();
                            loops = Rc::new(v);
                        }
                        Frame::Implicit(prev) => implicit = prev,
                    }
                }
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
                depth -= 1;
            }
        }
    }

    fn declare(&mut self, fi: usize, p: &'t Parsed<'t>, node: Node<'t>, path: &Rc<Vec<String>>) {
        // Whether the declaration mentions the type, once per declaration: a
        // Java declaration of N declarators (`int a, b, ...;`) searched its
        // whole text N times.
        let mut typed: Option<(usize, bool)> = None;
        let mut add = |name: &str, value: Option<Node<'t>>, decl: Node<'t>| {
            let pinner_typed = match typed {
                Some((id, t)) if id == decl.id() => t,
                _ => {
                    let t = text(p, decl).contains("CertificatePinner");
                    typed = Some((decl.id(), t));
                    t
                }
            };
            let list = self.bindings.entry(name.to_owned()).or_default();
            let i = list.len();
            list.push(Binding {
                file: fi,
                path: path.clone(),
                value,
                pinner_typed,
            });
            self.scoped
                .entry(name.to_owned())
                .or_default()
                .insert((**path).clone(), i);
            if let Some(last) = path.last() {
                self.in_container
                    .entry(name.to_owned())
                    .or_default()
                    .entry(last.clone())
                    .or_default()
                    .push(i);
            }
        };
        match (p.lang, node.kind()) {
            (Lang::Kotlin, "property_declaration") => {
                let mut c = node.walk();
                let kids: Vec<Node> = node.children(&mut c).collect();
                let Some(var) = kids.iter().find(|k| k.kind() == "variable_declaration") else {
                    return;
                };
                let Some(id) = var.named_child(0).filter(|n| n.kind() == "identifier") else {
                    return;
                };
                let value = kids
                    .iter()
                    .position(|k| k.kind() == "=")
                    .and_then(|i| kids[i + 1..].iter().find(|k| k.is_named()).copied());
                add(text(p, id), value, node);
            }
            (Lang::Kotlin, "parameter") | (Lang::Kotlin, "class_parameter") => {
                if let Some(id) = first_named(node, "identifier") {
                    add(text(p, id), None, node);
                }
            }
            (
                Lang::Java,
                "field_declaration" | "local_variable_declaration" | "constant_declaration",
            ) => {
                let mut c = node.walk();
                for v in node.children_by_field_name("declarator", &mut c) {
                    if let Some(id) = v.child_by_field_name("name") {
                        add(text(p, id), v.child_by_field_name("value"), node);
                    }
                }
            }
            (Lang::Java, "formal_parameter") => {
                if let Some(id) = node.child_by_field_name("name") {
                    add(text(p, id), None, node);
                }
            }
            (Lang::Swift, "property_declaration") => {
                if let Some(id) = node
                    .child_by_field_name("name")
                    .and_then(|n| n.child_by_field_name("bound_identifier"))
                {
                    add(text(p, id), node.child_by_field_name("value"), node);
                }
            }
            (Lang::ObjC, "init_declarator") => {
                let mut d = node.child_by_field_name("declarator");
                while let Some(n) = d {
                    if n.kind() == "identifier" {
                        break;
                    }
                    d = n.child_by_field_name("declarator");
                }
                if let Some(id) = d {
                    add(text(p, id), node.child_by_field_name("value"), node);
                }
            }
            (Lang::ObjC, "preproc_def") => {
                if let Some(id) = node.child_by_field_name("name") {
                    add(text(p, id), node.child_by_field_name("value"), node);
                }
            }
            _ => {}
        }
    }

    /// Whether `name` (at `site`) is a variable or parameter that holds a
    /// `CertificatePinner.Builder`.
    /// Returns a key that identifies the declaration (one pinner per
    /// declaration: two functions' local `b`s are two pinners).
    pub(crate) fn pinner_variable(&self, site: &Site<'t>, name: &str) -> Option<String> {
        self.pick(name, &site.path)
            .ok()
            .filter(|b| b.pinner_typed)
            .map(|b| {
                // `val b = CertificatePinner.Builder().add(...)`: the same
                // pinner as the chain it starts with.
                match b.value.and_then(|v| self.builder_root(b.file, v)) {
                    Some(root) => builder_key(b.file, root),
                    None => format!("var:{}:{}:{name}", b.file, b.path.join(".")),
                }
            })
    }

    /// The `CertificatePinner.Builder()` construction (Kotlin call or Java
    /// `new`) at the root of the call chain `n` of file `file`, if any.
    pub(crate) fn builder_root(&self, file: usize, n: Node<'t>) -> Option<Node<'t>> {
        let p = &self.files[file];
        memo_walk(&self.builder_roots, file, n, |cur| builder_step(p, cur))
    }

    /// The innermost name at the root of a receiver chain (`b` in
    /// `b.add(..).add(..)`) in file `file`.
    pub(crate) fn chain_root_name(&self, file: usize, n: Node<'t>) -> Option<&'t str> {
        let p = &self.files[file];
        memo_walk(&self.chain_names, file, n, |cur| chain_step(p, cur))
    }

    /// The binding of `name` seen from `path`: the innermost whose container
    /// path is a prefix of `path`, else the only one, else an error.
    fn pick(&self, name: &str, path: &[String]) -> Result<&Binding<'t>, WhyKind> {
        let Some(cands) = self.bindings.get(name) else {
            return Err(WhyKind::Name(name.to_owned()));
        };
        // Innermost first: one map lookup per enclosing container.
        if let Some(by_path) = self.scoped.get(name) {
            for k in (0..=path.len()).rev() {
                if let Some(&i) = by_path.get(&path[..k]) {
                    return Ok(&cands[i]);
                }
            }
        }
        if cands.len() == 1 {
            return Ok(&cands[0]);
        }
        Err(WhyKind::Ambiguous(name.to_owned()))
    }

    fn unknown(&self, fi: usize, n: Node, kind: WhyKind) -> Val {
        let p = &self.files[fi];
        Val::Unknown(Rc::new(Why {
            expr: short(text(p, n)),
            line: line(n),
            file: fi,
            kind,
        }))
    }

    /// Evaluates a binding's value, once (memoised), detecting cycles.
    fn eval_binding(
        &self,
        b: &Binding<'t>,
        name: &str,
        at: (usize, Node<'t>),
        depth: usize,
    ) -> Val {
        let Some(v) = b.value else {
            return self.unknown(at.0, at.1, WhyKind::Name(name.to_owned()));
        };
        let key = (b.file, v.start_byte());
        if let Some(x) = self.memo.borrow().get(&key) {
            return x.clone();
        }
        if self.active.borrow().contains(&key) {
            return self.unknown(at.0, at.1, WhyKind::Cycle(name.to_owned()));
        }
        self.active.borrow_mut().push(key);
        let ctx = Ctx {
            file: b.file,
            path: b.path.clone(),
            loops: Rc::new(Vec::new()),
        };
        let x = self.eval(&ctx, v, depth + 1);
        self.active.borrow_mut().pop();
        self.memo.borrow_mut().insert(key, x.clone());
        x
    }

    /// Resolves a (possibly qualified) name at `ctx`.
    fn resolve(&self, ctx: &Ctx<'t>, segs: &[&str], n: Node<'t>, depth: usize) -> Val {
        let name = *segs.last().expect("a name");
        let quals: Vec<&str> = segs[..segs.len() - 1]
            .iter()
            .copied()
            .filter(|s| *s != "Companion")
            .collect();
        if quals.contains(&"BuildConfig") {
            // Generated from build.gradle: see `gradle`.
            return match self.qualified(ctx, &["BuildConfig"], name, n, depth) {
                Val::Unknown(w) if matches!(w.kind, WhyKind::Name(_)) => {
                    self.unknown(ctx.file, n, WhyKind::BuildConfig(name.to_owned()))
                }
                Val::Unknown(w) if matches!(w.kind, WhyKind::Ambiguous(_)) => {
                    let c = self.candidates(name, "BuildConfig", (ctx.file, n), depth);
                    self.unknown(
                        ctx.file,
                        n,
                        WhyKind::BuildConfigVariants(name.to_owned(), c),
                    )
                }
                v => v,
            };
        }
        if quals.first() == Some(&"R") {
            return self.unknown(ctx.file, n, WhyKind::Resource);
        }
        if quals.is_empty() {
            if let Some(lv) = ctx.loops.iter().rev().find(|l| l.name == name) {
                return match self.eval(ctx, lv.iterable, depth + 1) {
                    Val::List(items) => Val::Each(items),
                    Val::Unknown(w) => Val::Unknown(w),
                    _ => self.unknown(ctx.file, n, WhyKind::Other),
                };
            }
            return match self.pick(name, &ctx.path) {
                Ok(b) => {
                    let b = b.clone();
                    self.eval_binding(&b, name, (ctx.file, n), depth)
                }
                Err(WhyKind::Ambiguous(_)) => self.agree(ctx, name, n, depth, None),
                Err(k) => self.unknown(ctx.file, n, k),
            };
        }
        self.qualified(ctx, &quals, name, n, depth)
    }

    /// `Q.name`: bindings named `name` in a container named like the last
    /// qualifier.
    fn qualified(
        &self,
        ctx: &Ctx<'t>,
        quals: &[&str],
        name: &str,
        n: Node<'t>,
        depth: usize,
    ) -> Val {
        let last = *quals.last().expect("qualified");
        self.agree(ctx, name, n, depth, Some(last))
    }

    /// Each definition of `name` in container `within` (at most
    /// [`MAX_CANDIDATES`]): its string value, if it has one, and where it is.
    fn candidates(
        &self,
        name: &str,
        within: &str,
        at: (usize, Node<'t>),
        depth: usize,
    ) -> Vec<(Option<String>, usize, u32)> {
        let Some(cands) = self.bindings.get(name) else {
            return Vec::new();
        };
        let ix = self
            .in_container
            .get(name)
            .and_then(|m| m.get(within))
            .cloned()
            .unwrap_or_default();
        ix.into_iter()
            .take(MAX_CANDIDATES)
            .map(|i| {
                let b = cands[i].clone();
                let line = b.value.map_or(0, line);
                let v = match self.eval_binding(&b, name, at, depth) {
                    Val::Str(s) => Some(s),
                    _ => None,
                };
                (v, b.file, line)
            })
            .collect()
    }

    /// The value of `name` when every candidate (in container `within`, if
    /// given) has the same value.
    fn agree(
        &self,
        ctx: &Ctx<'t>,
        name: &str,
        n: Node<'t>,
        depth: usize,
        within: Option<&str>,
    ) -> Val {
        let full = match within {
            Some(q) => format!("{q}.{name}"),
            None => name.to_owned(),
        };
        let Some(cands) = self.bindings.get(name) else {
            return self.unknown(ctx.file, n, WhyKind::Name(full));
        };
        let chosen: Vec<&Binding<'t>> = match within {
            Some(q) => self
                .in_container
                .get(name)
                .and_then(|m| m.get(q))
                .map(|ix| ix.iter().map(|&i| &cands[i]).collect())
                .unwrap_or_default(),
            None => cands.iter().collect(),
        };
        // Many different definitions of one name are not compared one by
        // one at every use (that would be quadratic): ambiguous.
        if chosen.len() > MAX_CANDIDATES {
            return self.unknown(ctx.file, n, WhyKind::Ambiguous(full));
        }
        let mut out: Option<Val> = None;
        for b in chosen {
            let v = self.eval_binding(&b.clone(), name, (ctx.file, n), depth);
            match &out {
                None => out = Some(v),
                Some(o) if *o == v => {}
                Some(_) => return self.unknown(ctx.file, n, WhyKind::Ambiguous(full)),
            }
        }
        out.unwrap_or_else(|| self.unknown(ctx.file, n, WhyKind::Name(full)))
    }

    /// Evaluates an expression.
    pub(crate) fn eval(&self, ctx: &Ctx<'t>, n: Node<'t>, depth: usize) -> Val {
        if depth > MAX_EVAL_DEPTH {
            return self.unknown(ctx.file, n, WhyKind::TooLarge);
        }
        let p = &self.files[ctx.file];
        let d = depth + 1;
        match (p.lang, n.kind()) {
            (_, "parenthesized_expression") | (Lang::Kotlin, "value_argument") => {
                match n.named_child(n.named_child_count().saturating_sub(1)) {
                    Some(c) => self.eval(ctx, c, d),
                    None => self.unknown(ctx.file, n, WhyKind::Other),
                }
            }
            (Lang::Kotlin, "string_literal")
            | (Lang::Kotlin, "multiline_string_literal")
            | (Lang::Java, "string_literal")
            | (Lang::Swift, "line_string_literal")
            | (Lang::Swift, "multi_line_string_literal")
            | (Lang::ObjC, "string_literal") => self.string(ctx, n, d),
            (Lang::ObjC, "concatenated_string") => {
                let mut s = String::new();
                let mut c = n.walk();
                for part in n.named_children(&mut c) {
                    match self.eval(ctx, part, d) {
                        Val::Str(x) => s.push_str(&x),
                        other => return other,
                    }
                }
                Val::Str(s)
            }
            (_, "boolean_literal") | (Lang::Java, "true") | (Lang::Java, "false") => {
                Val::Bool(text(p, n).trim() == "true")
            }
            (Lang::ObjC, "true") | (Lang::ObjC, "false") => Val::Bool(text(p, n) == "true"),
            (_, "integer_literal")
            | (Lang::Java, "decimal_integer_literal")
            | (Lang::ObjC, "number_literal") => match text(p, n).trim().parse() {
                Ok(v) => Val::Num(v),
                Err(_) => self.unknown(ctx.file, n, WhyKind::Other),
            },
            (_, "binary_expression") | (Lang::Swift, "additive_expression") => {
                self.concat(ctx, n, d)
            }
            (Lang::Kotlin, "identifier")
            | (Lang::Java, "identifier")
            | (Lang::Swift, "simple_identifier") => self.resolve(ctx, &[text(p, n)], n, d),
            (Lang::ObjC, "identifier") => match text(p, n) {
                "YES" | "true" => Val::Bool(true),
                "NO" | "false" => Val::Bool(false),
                name => self.resolve(ctx, &[name], n, d),
            },
            (Lang::Kotlin, "navigation_expression")
            | (Lang::Java, "field_access")
            | (Lang::Swift, "navigation_expression") => match dotted(p, n) {
                Some(segs) => self.resolve(ctx, &segs, n, d),
                None => self.unknown(ctx.file, n, WhyKind::Other),
            },
            (Lang::Java, "array_initializer")
            | (Lang::Swift, "array_literal")
            | (Lang::ObjC, "array_literal") => {
                let mut c = n.walk();
                let items: Vec<Node> = n
                    .named_children(&mut c)
                    .filter(|k| k.kind() != "comment")
                    .collect();
                self.list(ctx, &items, d)
            }
            (Lang::Java, "array_creation_expression") => match n.child_by_field_name("value") {
                Some(v) => self.eval(ctx, v, d),
                None => self.unknown(ctx.file, n, WhyKind::Other),
            },
            (Lang::Swift, "dictionary_literal") => {
                let keys = children_by_field(n, "key");
                let vals = children_by_field(n, "value");
                self.dict(ctx, keys.into_iter().zip(vals), d)
            }
            (Lang::ObjC, "dictionary_literal") => {
                let mut c = n.walk();
                let pairs: Vec<(Node, Node)> = n
                    .named_children(&mut c)
                    .filter(|k| k.kind() == "dictionary_pair")
                    .filter_map(|k| Some((k.named_child(0)?, k.named_child(1)?)))
                    .collect();
                self.dict(ctx, pairs.into_iter(), d)
            }
            (Lang::ObjC, "at_expression") | (Lang::Swift, "as_expression") => {
                match n.named_child(0) {
                    Some(c) => self.eval(ctx, c, d),
                    None => self.unknown(ctx.file, n, WhyKind::Other),
                }
            }
            (Lang::ObjC, "preproc_arg") => self.preproc_arg(ctx, n),
            (Lang::Kotlin, "call_expression") | (Lang::Java, "method_invocation") => {
                self.call(ctx, n, d)
            }
            (Lang::Swift, "call_expression")
            | (Lang::ObjC, "message_expression")
            | (Lang::ObjC, "call_expression") => {
                let f = callee_name(p, n).unwrap_or("?").to_owned();
                self.unknown(ctx.file, n, WhyKind::Call(f))
            }
            _ => self.unknown(ctx.file, n, WhyKind::Other),
        }
    }

    /// `#define NAME @"..."`: the argument is raw text; a string literal (with
    /// optional `@`) is read, anything else is not evaluated.
    fn preproc_arg(&self, ctx: &Ctx<'t>, n: Node<'t>) -> Val {
        let t = text(&self.files[ctx.file], n).trim();
        let body = t.strip_prefix('@').unwrap_or(t);
        if let Some(inner) = body.strip_prefix('"').and_then(|b| b.strip_suffix('"')) {
            if !inner.contains(['"', '\\']) {
                return Val::Str(inner.to_owned());
            }
        }
        match t {
            "YES" | "@YES" | "true" => Val::Bool(true),
            "NO" | "@NO" | "false" => Val::Bool(false),
            _ => self.unknown(ctx.file, n, WhyKind::Other),
        }
    }

    fn list(&self, ctx: &Ctx<'t>, items: &[Node<'t>], d: usize) -> Val {
        let mut out = Vec::new();
        for it in items {
            match self.arg(ctx, *it, d) {
                Ok(vs) => out.extend(vs),
                Err(w) => return w,
            }
            if out.len() > MAX_LIST_ITEMS {
                return self.unknown(ctx.file, items[0], WhyKind::TooLarge);
            }
        }
        Val::List(Rc::new(out))
    }

    fn dict(
        &self,
        ctx: &Ctx<'t>,
        pairs: impl Iterator<Item = (Node<'t>, Node<'t>)>,
        d: usize,
    ) -> Val {
        let mut out = Vec::new();
        for (k, v) in pairs {
            out.push((self.eval(ctx, k, d), self.eval(ctx, v, d), line(k)));
            if out.len() > MAX_LIST_ITEMS {
                return self.unknown(ctx.file, k, WhyKind::TooLarge);
            }
        }
        Val::Dict(Rc::new(out))
    }

    /// One argument of a call or element of a list: a spread (`*x`) or a
    /// list passed to Java varargs contributes its elements.
    pub(crate) fn arg(&self, ctx: &Ctx<'t>, n: Node<'t>, d: usize) -> Result<Vec<Val>, Val> {
        let p = &self.files[ctx.file];
        let inner = if p.lang == Lang::Kotlin && n.kind() == "value_argument" {
            n.named_child(n.named_child_count().saturating_sub(1))
                .unwrap_or(n)
        } else {
            n
        };
        if p.lang == Lang::Kotlin && inner.kind() == "spread_expression" {
            let Some(e) = inner.named_child(0) else {
                return Err(self.unknown(ctx.file, n, WhyKind::Other));
            };
            return match self.eval(ctx, e, d) {
                Val::List(items) => Ok((*items).clone()),
                Val::Unknown(w) => Err(Val::Unknown(w)),
                _ => Err(self.unknown(ctx.file, n, WhyKind::Other)),
            };
        }
        Ok(vec![self.eval(ctx, inner, d)])
    }

    /// The arguments of a call, with spreads expanded; unknown ones are kept
    /// as `Val::Unknown` in place.
    pub(crate) fn args(&self, ctx: &Ctx<'t>, call: Node<'t>) -> Vec<(Val, Node<'t>)> {
        let p = &self.files[ctx.file];
        let list = match p.lang {
            Lang::Kotlin => call
                .named_child(1)
                .filter(|n| n.kind() == "value_arguments"),
            Lang::Java => call.child_by_field_name("arguments"),
            _ => None,
        };
        let Some(list) = list else { return Vec::new() };
        let mut c = list.walk();
        let mut out = Vec::new();
        for a in list
            .named_children(&mut c)
            .filter(|k| k.kind() != "comment")
        {
            match self.arg(ctx, a, 1) {
                Ok(vs) => out.extend(vs.into_iter().map(|v| (v, a))),
                Err(w) => out.push((w, a)),
            }
        }
        out
    }

    /// `a + b + ...`, flattened without recursion on the left spine.
    fn concat(&self, ctx: &Ctx<'t>, n: Node<'t>, d: usize) -> Val {
        let p = &self.files[ctx.file];
        let mut rights = Vec::new();
        let mut cur = n;
        loop {
            let is_plus = matches!(cur.kind(), "binary_expression" | "additive_expression")
                && cur
                    .child_by_field_name("operator")
                    .or_else(|| cur.child_by_field_name("op"))
                    .is_some_and(|o| text(p, o) == "+");
            if !is_plus {
                break;
            }
            let (Some(l), Some(r)) = (
                cur.child_by_field_name("left")
                    .or_else(|| cur.child_by_field_name("lhs")),
                cur.child_by_field_name("right")
                    .or_else(|| cur.child_by_field_name("rhs")),
            ) else {
                return self.unknown(ctx.file, n, WhyKind::Other);
            };
            rights.push(r);
            cur = l;
        }
        if rights.is_empty() {
            return self.unknown(ctx.file, n, WhyKind::Other);
        }
        let mut acc = self.eval(ctx, cur, d);
        for r in rights.into_iter().rev() {
            let rv = self.eval(ctx, r, d);
            acc = match (acc, rv) {
                (Val::Str(mut a), Val::Str(b)) => {
                    if a.len() + b.len() > MAX_VALUE_BYTES {
                        return self.unknown(ctx.file, n, WhyKind::TooLarge);
                    }
                    a.push_str(&b);
                    Val::Str(a)
                }
                // Kotlin `list + element` / `list + list`.
                (Val::List(a), b) if p.lang == Lang::Kotlin => {
                    let mut v = (*a).clone();
                    match b {
                        Val::List(b) => v.extend(b.iter().cloned()),
                        Val::Unknown(w) => return Val::Unknown(w),
                        other => v.push(other),
                    }
                    if v.len() > MAX_LIST_ITEMS {
                        return self.unknown(ctx.file, n, WhyKind::TooLarge);
                    }
                    Val::List(Rc::new(v))
                }
                (Val::Unknown(w), _) | (_, Val::Unknown(w)) => Val::Unknown(w),
                _ => return self.unknown(ctx.file, n, WhyKind::Other),
            };
        }
        acc
    }

    /// Kotlin and Java calls that build lists or convert them.
    fn call(&self, ctx: &Ctx<'t>, n: Node<'t>, d: usize) -> Val {
        let p = &self.files[ctx.file];
        let name = callee_name(p, n).unwrap_or("?");
        let receiver = match p.lang {
            Lang::Kotlin => n
                .named_child(0)
                .filter(|f| f.kind() == "navigation_expression")
                .and_then(|f| f.named_child(0)),
            _ => n.child_by_field_name("object"),
        };
        let receiver_text = receiver.map(|r| text(p, r));
        const BUILDERS: &[&str] = &[
            "listOf",
            "arrayOf",
            "setOf",
            "mutableListOf",
            "mutableSetOf",
            "arrayListOf",
            "hashSetOf",
            "linkedSetOf",
            "listOfNotNull",
        ];
        const CONVERSIONS: &[&str] = &[
            "toTypedArray",
            "toList",
            "toSet",
            "toMutableList",
            "toMutableSet",
            "asList",
            "distinct",
            "trim",
        ];
        let java_builder = matches!(
            (receiver_text, name),
            (Some("Arrays"), "asList")
                | (
                    Some("List" | "Set" | "ImmutableList" | "ImmutableSet"),
                    "of"
                )
                | (Some("Collections"), "unmodifiableList" | "unmodifiableSet")
        );
        if (p.lang == Lang::Kotlin && receiver.is_none() && BUILDERS.contains(&name))
            || java_builder
        {
            let args: Vec<Node> = match p.lang {
                Lang::Kotlin => n
                    .named_child(1)
                    .map(|a| {
                        let mut c = a.walk();
                        a.named_children(&mut c)
                            .filter(|k| k.kind() == "value_argument")
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => n
                    .child_by_field_name("arguments")
                    .map(|a| {
                        let mut c = a.walk();
                        a.named_children(&mut c)
                            .filter(|k| k.kind() != "comment")
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            // `Collections.unmodifiableList(x)` and Java varargs given one array.
            if java_builder && args.len() == 1 {
                if let Val::List(l) = self.eval(ctx, args[0], d) {
                    return Val::List(l);
                }
            }
            return self.list(ctx, &args, d);
        }
        if p.lang == Lang::Kotlin && CONVERSIONS.contains(&name) {
            if let Some(r) = receiver {
                return match self.eval(ctx, r, d) {
                    Val::Str(s) if name == "trim" => Val::Str(s.trim().to_owned()),
                    v @ Val::List(_) if name != "trim" => v,
                    Val::Unknown(w) => Val::Unknown(w),
                    _ => self.unknown(ctx.file, n, WhyKind::Other),
                };
            }
        }
        if matches!(name, "getString" | "getStringArray" | "getText") {
            return self.unknown(ctx.file, n, WhyKind::Resource);
        }
        self.unknown(ctx.file, n, WhyKind::Call(name.to_owned()))
    }

    /// A string literal with escapes and templates.
    fn string(&self, ctx: &Ctx<'t>, n: Node<'t>, d: usize) -> Val {
        let p = &self.files[ctx.file];
        let raw = n.kind().starts_with("multi") || text(p, n).starts_with("\"\"\"");
        let mut s = String::new();
        let mut c = n.walk();
        for part in n.named_children(&mut c) {
            let t = text(p, part);
            match part.kind() {
                "string_content" | "string_fragment" | "line_str_text" | "multi_line_str_text" => {
                    s.push_str(t)
                }
                "escape_sequence" | "str_escaped_char" if !raw || p.lang == Lang::Swift => {
                    match unescape(t) {
                        Some(ch) => s.push(ch),
                        None => return self.unknown(ctx.file, n, WhyKind::Other),
                    }
                }
                "escape_sequence" => s.push_str(t),
                "interpolation" | "interpolated_expression" => {
                    let e = part.named_child(part.named_child_count().saturating_sub(1));
                    let v = match e {
                        Some(e) => self.eval(ctx, e, d),
                        None => self.unknown(ctx.file, part, WhyKind::Other),
                    };
                    match v {
                        Val::Str(x) => s.push_str(&x),
                        Val::Unknown(w) => return Val::Unknown(w),
                        _ => return self.unknown(ctx.file, part, WhyKind::Other),
                    }
                }
                "comment" => {}
                _ => return self.unknown(ctx.file, part, WhyKind::Other),
            }
            if s.len() > MAX_VALUE_BYTES {
                return self.unknown(ctx.file, n, WhyKind::TooLarge);
            }
        }
        Val::Str(s)
    }
}

/// The evaluation context: file, containers, loop variables.
#[derive(Clone)]
pub(crate) struct Ctx<'t> {
    pub file: usize,
    pub path: Rc<Vec<String>>,
    pub loops: Rc<Vec<LoopVar<'t>>>,
}

impl<'t> Ctx<'t> {
    pub(crate) fn at(site: &Site<'t>) -> Self {
        Self {
            file: site.file,
            path: site.path.clone(),
            loops: site.loops.clone(),
        }
    }
}

/// `\n`, `\"`, `\u0041`, `\u{41}` ...
fn unescape(t: &str) -> Option<char> {
    let body = t.strip_prefix('\\')?;
    Some(match body {
        "n" => '\n',
        "t" => '\t',
        "r" => '\r',
        "b" => '\u{8}',
        "0" => '\0',
        "\"" | "'" | "\\" | "$" | "/" => body.chars().next()?,
        _ => {
            let hex = body
                .strip_prefix("u{")
                .and_then(|h| h.strip_suffix('}'))
                .or_else(|| body.strip_prefix('u'))?;
            char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
        }
    })
}

pub(crate) fn first_named<'t>(n: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c).find(|k| k.kind() == kind)
}

fn children_by_field<'t>(n: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.children_by_field_name(field, &mut c).collect()
}

/// `a.b.c` as segments when every part is a plain name (iteratively).
fn dotted<'t>(p: &Parsed<'t>, n: Node<'t>) -> Option<Vec<&'t str>> {
    let mut segs = Vec::new();
    let mut cur = n;
    loop {
        match (p.lang, cur.kind()) {
            (Lang::Kotlin, "navigation_expression") => {
                let last = cur.named_child(cur.named_child_count().checked_sub(1)?)?;
                if last.kind() != "identifier" {
                    return None;
                }
                segs.push(text(p, last));
                cur = cur.named_child(0)?;
            }
            (Lang::Java, "field_access") => {
                segs.push(text(p, cur.child_by_field_name("field")?));
                cur = cur.child_by_field_name("object")?;
            }
            (Lang::Swift, "navigation_expression") => {
                let s = cur
                    .child_by_field_name("suffix")?
                    .child_by_field_name("suffix")?;
                segs.push(text(p, s));
                cur = cur.child_by_field_name("target")?;
            }
            (_, "identifier" | "simple_identifier" | "type_identifier") => {
                segs.push(text(p, cur));
                break;
            }
            _ => return None,
        }
    }
    segs.reverse();
    Some(segs)
}

/// The name a node contributes to the container path (classes, objects,
/// functions), if any.
fn container_name(p: &Parsed, n: Node) -> Option<String> {
    let k = n.kind();
    let named = |field: &str| n.child_by_field_name(field).map(|x| text(p, x).to_owned());
    match (p.lang, k) {
        (Lang::Kotlin, "class_declaration" | "object_declaration") => named("name"),
        // A companion object is transparent: `Outer.NAME` and `NAME` both reach it.
        (Lang::Kotlin, "function_declaration") => named("name").map(|f| format!("{f}()")),
        (
            Lang::Java,
            "class_declaration"
            | "interface_declaration"
            | "enum_declaration"
            | "record_declaration",
        ) => named("name"),
        (Lang::Java, "method_declaration" | "constructor_declaration") => {
            named("name").map(|f| format!("{f}()"))
        }
        (Lang::Java, "lambda_expression") | (Lang::Kotlin, "lambda_literal") => Some("{}".into()),
        (Lang::Swift, "class_declaration" | "protocol_declaration") => named("name"),
        (Lang::Swift, "function_declaration") => named("name").map(|f| format!("{f}()")),
        (Lang::ObjC, "class_implementation" | "class_interface") => {
            first_named(n, "identifier").map(|x| text(p, x).to_owned())
        }
        (Lang::ObjC, "method_definition" | "function_definition") => Some(format!("{}()", line(n))),
        _ => None,
    }
}

/// The loop variable a node introduces for its body: `for (x in L)`,
/// `L.forEach { x -> }` / `{ it }`, Java `for (T x : L)` and
/// `L.forEach(x -> ...)`.
fn loop_var<'t>(p: &Parsed<'t>, n: Node<'t>) -> Option<LoopVar<'t>> {
    match (p.lang, n.kind()) {
        (Lang::Kotlin, "for_statement") => {
            let var = first_named(n, "variable_declaration")?.named_child(0)?;
            let mut c = n.walk();
            let kids: Vec<Node> = n.children(&mut c).collect();
            let i = kids.iter().position(|k| k.kind() == "in")?;
            let iterable = kids[i + 1..].iter().find(|k| k.is_named()).copied()?;
            Some(LoopVar {
                name: text(p, var).to_owned(),
                iterable,
            })
        }
        (Lang::Kotlin, "call_expression") => {
            let f = n.named_child(0)?;
            if f.kind() != "navigation_expression" {
                return None;
            }
            let name = f.named_child(f.named_child_count() - 1)?;
            if !matches!(text(p, name), "forEach" | "onEach" | "map") {
                return None;
            }
            let lambda = first_named(n, "annotated_lambda")
                .and_then(|a| first_named(a, "lambda_literal"))?;
            let param = first_named(lambda, "lambda_parameters")
                .and_then(|l| l.named_child(0))
                .map(|v| {
                    first_named(v, "identifier")
                        .map(|i| text(p, i))
                        .unwrap_or_else(|| text(p, v))
                })
                .unwrap_or("it");
            Some(LoopVar {
                name: param.to_owned(),
                iterable: f.named_child(0)?,
            })
        }
        (Lang::Java, "enhanced_for_statement") => Some(LoopVar {
            name: text(p, n.child_by_field_name("name")?).to_owned(),
            iterable: n.child_by_field_name("value")?,
        }),
        (Lang::Java, "method_invocation") => {
            if text(p, n.child_by_field_name("name")?) != "forEach" {
                return None;
            }
            let lambda = n.child_by_field_name("arguments")?.named_child(0)?;
            if lambda.kind() != "lambda_expression" {
                return None;
            }
            let params = lambda.child_by_field_name("parameters")?;
            let id = if params.kind() == "identifier" {
                params
            } else {
                first_named(params, "identifier").or_else(|| {
                    first_named(params, "formal_parameter")
                        .and_then(|f| f.child_by_field_name("name"))
                })?
            };
            Some(LoopVar {
                name: text(p, id).to_owned(),
                iterable: n.child_by_field_name("object")?,
            })
        }
        _ => None,
    }
}

/// Kotlin `X.apply { add(...) }` / `run` / `with(X) { }`: the receiver `X`
/// when its text names a `CertificatePinner.Builder()`.
fn implicit_receiver<'t>(p: &Parsed<'t>, n: Node<'t>) -> Option<Node<'t>> {
    if p.lang != Lang::Kotlin || n.kind() != "call_expression" {
        return None;
    }
    let f = n.named_child(0)?;
    first_named(n, "annotated_lambda")?;
    let receiver = match f.kind() {
        "navigation_expression" => {
            let name = f.named_child(f.named_child_count() - 1)?;
            if !matches!(text(p, name), "apply" | "run") {
                return None;
            }
            f.named_child(0)?
        }
        "identifier" if text(p, f) == "with" => n.named_child(1)?.named_child(0)?.named_child(0)?,
        _ => return None,
    };
    Some(receiver)
}

/// Whether an expression is (a chain on) a `CertificatePinner.Builder()`
/// construction; returns the construction node. Iterative over the chain.
fn builder_step<'t>(p: &Parsed<'t>, cur: Node<'t>) -> Step<'t, Node<'t>> {
    match (p.lang, cur.kind()) {
        (Lang::Kotlin, "call_expression") => {
            let Some(f) = cur.named_child(0) else {
                return Step::Done(None);
            };
            let t = text(p, f);
            if f.kind() != "navigation_expression" || t.ends_with("CertificatePinner.Builder") {
                return Step::Done(
                    (t == "CertificatePinner.Builder"
                        || t.ends_with(".CertificatePinner.Builder")
                        || t == "Builder")
                        .then_some(cur),
                );
            }
            next(f.named_child(0))
        }
        (Lang::Kotlin, "navigation_expression") => next(cur.named_child(0)),
        (Lang::Java, "method_invocation") => next(cur.child_by_field_name("object")),
        (Lang::Java, "object_creation_expression") => {
            let Some(t) = cur.child_by_field_name("type").map(|t| text(p, t)) else {
                return Step::Done(None);
            };
            Step::Done((t.ends_with("CertificatePinner.Builder") || t == "Builder").then_some(cur))
        }
        (_, "parenthesized_expression") => next(cur.named_child(0)),
        _ => Step::Done(None),
    }
}

/// One step of a walk down a receiver chain: go on at a node, or the answer.
enum Step<'t, T> {
    Next(Node<'t>),
    Done(Option<T>),
}

/// Go on at `n`; no node, no answer.
fn next<'t, T>(n: Option<Node<'t>>) -> Step<'t, T> {
    n.map_or(Step::Done(None), Step::Next)
}

/// Walks from `n` with `step` until an answer, remembering it in `memo` for
/// every node on the way (keyed by file and node id): every `.add` of a
/// chain of N asks about the same tail, which is then walked once, not N
/// times (issue 9: `Builder().add(..)` repeated 10,000 times took 20 s).
fn memo_walk<'t, T: Copy>(
    memo: &std::cell::RefCell<HashMap<(usize, usize), Option<T>>>,
    file: usize,
    n: Node<'t>,
    step: impl Fn(Node<'t>) -> Step<'t, T>,
) -> Option<T> {
    let mut memo = memo.borrow_mut();
    let mut path = Vec::new();
    let mut cur = n;
    let answer = loop {
        if let Some(known) = memo.get(&(file, cur.id())) {
            break *known;
        }
        path.push(cur.id());
        match step(cur) {
            Step::Next(next) => cur = next,
            Step::Done(answer) => break answer,
        }
    };
    for id in path {
        memo.insert((file, id), answer);
    }
    answer
}

/// The key of the pinner a `CertificatePinner.Builder()` construction starts.
pub(crate) fn builder_key(file: usize, root: Node) -> String {
    format!("new@{file}:{}", root.start_byte())
}

/// The receiver of a method call (`x` in `x.add(...)`), if any.
pub(crate) fn receiver<'t>(p: &Parsed<'t>, call: Node<'t>) -> Option<Node<'t>> {
    match p.lang {
        Lang::Kotlin => call
            .named_child(0)
            .filter(|f| f.kind() == "navigation_expression")
            .and_then(|f| f.named_child(0)),
        Lang::Java => call.child_by_field_name("object"),
        _ => None,
    }
}

/// The innermost name at the root of a receiver chain (`b` in
/// `b.add(..).add(..)`), iteratively.
fn chain_step<'t>(p: &Parsed<'t>, cur: Node<'t>) -> Step<'t, &'t str> {
    match cur.kind() {
        "identifier" | "simple_identifier" => Step::Done(Some(text(p, cur))),
        "this_expression" | "this" => Step::Done(Some("this")),
        "call_expression" | "method_invocation" | "navigation_expression" => {
            next(receiver(p, cur).or_else(|| {
                (cur.kind() == "navigation_expression")
                    .then(|| cur.named_child(0))
                    .flatten()
            }))
        }
        "parenthesized_expression" => next(cur.named_child(0)),
        _ => Step::Done(None),
    }
}

pub(crate) fn node_text<'t>(p: &Parsed<'t>, n: Node<'t>) -> &'t str {
    text(p, n)
}

pub(crate) fn node_line(n: Node) -> u32 {
    line(n)
}
