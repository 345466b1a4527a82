//! Reading a 10 MB Kotlin source tree (100 files of about 100 KB, each with
//! constants, lists, spreads, loops and a CertificatePinner of 200 `.add`
//! calls) with `audit::load_all`, against the contender measured in the same
//! run: tree-sitter parsing the same files with no evaluation (the grammar's
//! own cost, which no reader built on it can beat). Target (issue 12): under
//! 1 s for 10 MB. A second case is a realistic tree (2 pinner files among
//! 100), where the lexical pre-pass leaves ordinary files unparsed. The
//! evaluator is linear (issue 9, item 7: the old scanner
//! took 36 s for 3.3 MB).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use mamori::audit::{self, NscOptions};
use mamori::pinning::Pin;

const FILES: usize = 100;
const ADDS: usize = 200;

fn file(n: usize) -> String {
    let mut s = format!(
        "package com.example.net{n}\n\nimport okhttp3.CertificatePinner\n\nobject Pins{n} {{\n    const val PREFIX = \"sha256/\"\n"
    );
    for i in 0..ADDS {
        let p = Pin::from_digest([((n * ADDS + i) % 251) as u8; 32]).base64();
        s.push_str(&format!("    const val P{i} = \"${{PREFIX}}{p}\"\n"));
    }
    s.push_str("    val BACKUPS = listOf(\n");
    for i in 0..20 {
        let p = Pin::from_digest([(i + 3) as u8; 32]).base64();
        s.push_str(&format!("        \"sha256/\" + \"{p}\",\n"));
    }
    s.push_str("    )\n    val HOSTS = listOf(\"cdn1.example.com\", \"cdn2.example.com\")\n}\n\n");
    s.push_str(&format!(
        "class Client{n} {{\n    // A comment that real files have plenty of, to reach about 100 KB per file.\n    fun pinner(): CertificatePinner {{\n        val b = CertificatePinner.Builder()\n"
    ));
    for i in 0..ADDS {
        s.push_str(&format!(
            "        b.add(\n            \"h{i}.api{n}.example.com\",\n            Pins{n}.P{i},\n            *Pins{n}.BACKUPS.toTypedArray(),\n        )\n"
        ));
    }
    s.push_str(&format!(
        "        for (h in Pins{n}.HOSTS) {{\n            b.add(h, Pins{n}.P0, Pins{n}.P1)\n        }}\n        return b.build()\n    }}\n}}\n"
    ));
    while s.len() < 100_000 {
        s.push_str(
            "// The quick brown fox jumps over the lazy dog; padding like real documentation.\n",
        );
    }
    s
}

/// An ordinary file of an app (a view model, a repository): no pinner, no
/// pin constant, but the names real code shares with pinning code (`url`,
/// `host`, `items.add(...)`, `headers.add(name, value)` in one file of ten).
fn ordinary(n: usize) -> String {
    let mut s = format!(
        "package com.example.feature{n}\n\nimport android.content.Context\n\nclass Repository{n}(private val context: Context, val url: String) {{\n    private val items = mutableListOf<String>()\n"
    );
    let mut i = 0;
    while s.len() < 100_000 {
        s.push_str(&format!(
            "    /** Loads page {i} of the feed. */\n    fun load{i}(host: String, page: Int): List<String> {{\n        val query = \"$url/$host/items?page=$page&size={i}\"\n        if (page > {i}) {{\n            items.add(query)\n        }}\n        return items.filter {{ it.startsWith(host) }}.map {{ it.trim() }}\n    }}\n\n"
        ));
        if n % 10 == 0 && i % 50 == 0 {
            s.push_str("    fun headers() = okhttp3.Headers.Builder().add(\"Accept\", \"application/json\").build()\n");
        }
        i += 1;
    }
    s.push_str("}\n");
    s
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut texts = Vec::new();
    for n in 0..FILES {
        let p = dir.path().join(format!("Client{n}.kt"));
        let t = file(n);
        std::fs::write(&p, &t).unwrap();
        paths.push(p);
        texts.push(t);
    }
    let total: usize = texts.iter().map(String::len).sum();
    eprintln!("source tree: {FILES} files, {total} bytes");
    let mut g = c.benchmark_group("audit source");
    g.sample_size(10);
    g.bench_function("load_all 10 MB Kotlin tree (evaluate)", |b| {
        b.iter(|| {
            let cfgs = audit::load_all(&paths, None, NscOptions::default())
                .unwrap()
                .configs;
            assert_eq!(cfgs.len(), FILES);
            assert!(cfgs.iter().all(|c| c.unresolved.is_empty()));
            cfgs
        })
    });
    g.bench_function("tree-sitter parse only, same files (contender)", |b| {
        b.iter(|| {
            let mut p = tree_sitter::Parser::new();
            p.set_language(&tree_sitter_kotlin_ng::LANGUAGE.into())
                .unwrap();
            texts
                .iter()
                .map(|t| p.parse(t, None).unwrap().root_node().child_count())
                .sum::<usize>()
        })
    });
    // The realistic case: the same 10 MB, of which two files build pinners
    // and the other 98 are ordinary code (the lexical pre-pass skips what
    // cannot matter; the worst case above, every file a pinner, is kept).
    let dir2 = tempfile::tempdir().unwrap();
    let mut real: Vec<PathBuf> = Vec::new();
    for n in 0..FILES {
        let (name, t) = if n < 2 {
            (format!("Client{n}.kt"), file(n))
        } else {
            (format!("Repository{n}.kt"), ordinary(n))
        };
        let p = dir2.path().join(name);
        std::fs::write(&p, &t).unwrap();
        real.push(p);
    }
    g.bench_function(
        "load_all 10 MB Kotlin tree, 2 pinner files of 100 (realistic)",
        |b| {
            b.iter(|| {
                let cfgs = audit::load_all(&real, None, NscOptions::default())
                    .unwrap()
                    .configs;
                assert_eq!(cfgs.len(), 2);
                cfgs
            })
        },
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
