//! docs/ARCHITECTURE.md is the map of the code, and this module keeps it true: the
//! layering table in its `layers` block is read here and every `crate::` path in src/
//! is checked against it, so the doc cannot drift from the code again.
//!
//! What is enforced:
//! - every room (a folder or file directly under src/, but lib.rs and main.rs) is in the
//!   table, and every room in the table exists;
//! - a room names only the rooms its row allows, and those stand above it in the table,
//!   so the rooms form layers (no import cycles between rooms);
//! - no import cycle between files either (a `mod` declaration is not an import);
//! - at most 8 files directly in src/; no source file over 700 lines but the generated
//!   tables the doc lists;
//! - every `src/…` path the doc names exists.
//!
//! Paths are read from the code with comments, strings and `#[cfg(test)]` modules left
//! out (tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_TOP_LEVEL_FILES: usize = 8;
const MAX_LINES: usize = 700;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn architecture_doc() -> String {
    std::fs::read_to_string(repo().join("docs/ARCHITECTURE.md")).expect("docs/ARCHITECTURE.md")
}

/// The body of the doc's first fenced block opened with "```" + `info`.
fn fenced_block(doc: &str, info: &str) -> String {
    let open = format!("\n```{info}\n");
    let start = doc
        .find(&open)
        .unwrap_or_else(|| panic!("ARCHITECTURE.md has no ```{info} block"))
        + open.len();
    let body = &doc[start..];
    body[..body.find("\n```").expect("the block is closed")].to_string()
}

/// The layering table: rooms from the bottom up, each with the rooms it may name.
/// Lines read `room: other other …` (`room:` alone for a room that names none).
fn layers(doc: &str) -> Vec<(String, BTreeSet<String>)> {
    fenced_block(doc, "layers")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let (room, uses) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("layers line without ':': {l}"));
            let uses = uses.split_whitespace().map(str::to_string).collect();
            (room.trim().to_string(), uses)
        })
        .collect()
}

/// Every .rs file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under src/ (`["compat", "jax", "stream"]`; `[]` for lib.rs).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod")) {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts
}

/// The code with comments, string and char literals blanked out.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            i += rest.find('\n').unwrap_or(rest.len());
        } else if rest.starts_with("/*") {
            let mut depth = 0;
            while i < b.len() {
                if text[i..].starts_with("/*") {
                    depth += 1;
                    i += 2;
                } else if text[i..].starts_with("*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_len(rest, i == 0 || !is_ident(b[i - 1])) {
            out.push_str("\"\"");
            i += len;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && char_literal_len(rest).is_some() {
            i += char_literal_len(rest).unwrap();
        } else {
            let ch = rest.chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The length of a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) starting `rest`.
fn raw_string_len(rest: &str, at_token_start: bool) -> Option<usize> {
    if !at_token_start {
        return None;
    }
    let body = rest.strip_prefix("br").or_else(|| rest.strip_prefix('r'))?;
    let hashes = body.len() - body.trim_start_matches('#').len();
    let after = body[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = after.find(&close)?;
    Some(rest.len() - after.len() + end + close.len())
}

/// The length of a char literal starting `rest` ('a', '\n', '\'', '\u{..}'), or None for
/// a lifetime.
fn char_literal_len(rest: &str) -> Option<usize> {
    let mut chars = rest.char_indices().skip(1);
    let (_, first) = chars.next()?;
    if first == '\\' {
        let close = rest[2..].find('\'')?;
        return Some(2 + close + 1);
    }
    let (at, next) = chars.next()?;
    (next == '\'').then_some(at + 1)
}

/// `code` without its `#[cfg(test)]` items (test modules may reach anywhere).
fn without_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item runs to the end of its braces (or its `;`).
        let open = after.find('{');
        let semi = after.find(';');
        let end = match (open, semi) {
            (Some(o), Some(s)) if s < o => s + 1,
            (Some(o), _) => {
                let mut depth = 0;
                let mut end = after.len();
                for (i, c) in after[o..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = o + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(s)) => s + 1,
            (None, None) => after.len(),
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Expands a `use` tree (`crate::a::{b, c::{d, self}}`) into its paths.
fn expand_use(tree: &str) -> Vec<String> {
    // Renames (`x as y`) name x: drop each ` as y`, then the white space.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" {
            i += 2;
            // A rename's `y,` or `y}` keeps its punctuation.
            if let Some(rest) = words
                .get(i - 1)
                .map(|w| w.trim_start_matches(is_ident_char))
            {
                kept.push_str(rest);
            }
            continue;
        }
        kept.push_str(words[i]);
        i += 1;
    }
    expand_tree(&kept)
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn expand_tree(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let prefix = &tree[..open];
    let body = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&body[start..]);
    items
        .into_iter()
        .filter(|item| !item.is_empty())
        .flat_map(|item| {
            if item == "self" {
                vec![prefix.trim_end_matches("::").to_string()]
            } else {
                expand_tree(&format!("{prefix}{item}"))
            }
        })
        .collect()
}

/// The `crate::`, `super::` and `self::` paths `code` names, made absolute for a file at
/// `module` (a mod.rs file's module is its folder's).
fn named_paths(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let preceded_ok = at == 0 || !is_ident(rest.as_bytes()[at - 1]);
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if preceded_ok {
            paths.extend(expand_use(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let at = from + at;
            from = at + start.len();
            if at > 0 && (is_ident(bytes[at - 1]) || bytes[at - 1] == b':') {
                continue;
            }
            let len = code[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - at);
            paths.push(code[at..at + len].trim_end_matches(':').to_string());
        }
    }
    // `self` inside a file module is the module itself; `super` its parent.
    let own: Vec<String> = module.to_vec();
    let parent = |m: &[String]| m[..m.len().saturating_sub(1)].to_vec();
    paths
        .into_iter()
        .filter_map(|p| {
            let mut parts: Vec<String> = p.split("::").map(str::to_string).collect();
            let mut base = match parts.first().map(String::as_str) {
                Some("crate") => Vec::new(),
                Some("super") | Some("self") => own.clone(),
                _ => return None,
            };
            if parts[0] == "crate" {
                parts.remove(0);
            }
            while let Some(first) = parts.first().map(String::as_str) {
                match first {
                    "super" => base = parent(&base),
                    "self" => {}
                    _ => break,
                }
                parts.remove(0);
            }
            base.extend(parts);
            Some(base)
        })
        .collect()
}

struct Source {
    path: PathBuf,
    module: Vec<String>,
    lines: usize,
    named: Vec<Vec<String>>,
}

fn sources() -> Vec<Source> {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let module = module_path(&src, &path);
            let code = without_test_items(&code_only(&text));
            let named = named_paths(&code, &module);
            Source {
                lines: text.lines().count(),
                path,
                module,
                named,
            }
        })
        .collect()
}

/// The room of a module path: its first segment; None for the crate root.
fn room(module: &[String]) -> Option<&str> {
    module.first().map(String::as_str)
}

#[test]
fn the_rooms_are_the_layers_the_doc_draws() {
    let doc = architecture_doc();
    let table = layers(&doc);
    let position: BTreeMap<&str, usize> = table
        .iter()
        .enumerate()
        .map(|(i, (room, _))| (room.as_str(), i))
        .collect();
    // Each row names only rooms below it: the table is a layering.
    for (i, (room, uses)) in table.iter().enumerate() {
        for other in uses {
            let at = position
                .get(other.as_str())
                .unwrap_or_else(|| panic!("layers: {room} may use '{other}', which has no row"));
            assert!(
                *at < i,
                "layers: {room} may use {other}, which stands above it"
            );
        }
    }
    // The rooms in the table are the rooms in src/.
    let sources = sources();
    let rooms: BTreeSet<&str> = sources.iter().filter_map(|s| room(&s.module)).collect();
    let listed: BTreeSet<&str> = position.keys().copied().collect();
    assert_eq!(
        rooms, listed,
        "the rooms in src/ and in the layers table differ"
    );
    // Every path a room names is allowed by its row.
    let allowed: BTreeMap<&str, &BTreeSet<String>> =
        table.iter().map(|(r, u)| (r.as_str(), u)).collect();
    let mut breaches = BTreeSet::new();
    for source in &sources {
        let Some(from) = room(&source.module) else {
            continue;
        };
        for path in &source.named {
            let Some(to) = room(path) else { continue };
            if !listed.contains(to) {
                // A name re-exported at the crate root (`crate::Error`) hides its room.
                breaches.insert(format!(
                    "{} names crate::{} (name it by its room's path)",
                    source.path.strip_prefix(repo()).unwrap().display(),
                    path.join("::")
                ));
            } else if to != from && !allowed[from].contains(to) {
                breaches.insert(format!(
                    "{} names {} ({from} may not use {to})",
                    source.path.strip_prefix(repo()).unwrap().display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "rooms reaching outside their layer:\n{}",
        breaches.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn no_two_files_import_each_other() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // A path names the file of its longest prefix that is a file module.
    let file_of = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|prefix| modules.contains(prefix))
    };
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for source in &sources {
        for path in &source.named {
            if let Some(to) = file_of(path)
                && to != source.module
            {
                edges.entry(source.module.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a back edge.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        marks: &mut BTreeMap<Vec<String>, Mark>,
        stack: &mut Vec<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, marks, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut marks, &mut Vec::new()) {
            let names: Vec<String> = cycle
                .iter()
                .map(|m| format!("crate::{}", m.join("::")))
                .collect();
            panic!("import cycle: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_tree_keeps_its_size_limits() {
    let src = repo().join("src");
    let top_level: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        top_level.len() <= MAX_TOP_LEVEL_FILES,
        "{} files directly in src/ (at most {MAX_TOP_LEVEL_FILES}): {top_level:?}",
        top_level.len()
    );
    let generated = fenced_block(&architecture_doc(), "generated");
    let generated: Vec<&str> = generated.lines().map(str::trim).collect();
    for source in sources() {
        let rel = source
            .path
            .strip_prefix(repo())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if generated.contains(&rel.as_str()) {
            continue;
        }
        assert!(
            source.lines <= MAX_LINES,
            "{rel} has {} lines (at most {MAX_LINES}; split it by what its parts own)",
            source.lines
        );
    }
}

#[test]
fn every_source_path_the_doc_names_exists() {
    let doc = architecture_doc();
    let mut missing = Vec::new();
    for piece in doc.split('`').skip(1).step_by(2) {
        let path = piece.trim_end_matches('/');
        if path.starts_with("src/")
            && !path.contains(['*', ' ', '…'])
            && !repo().join(path).exists()
        {
            missing.push(path.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_reader_sees_paths_and_not_comments_or_strings() {
    let code = code_only(
        "use crate::a::{b, c::{d, self}};\nuse crate::q::r as s;\n// crate::nope\nlet s = \"crate::nope\";\n\
         let c = '\"'; let r = r#\"crate::nope\"#; fn f<'a>() { super::e::f(); }",
    );
    let module = vec!["x".to_string(), "y".to_string()];
    let named: BTreeSet<String> = named_paths(&without_test_items(&code), &module)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    let expected: BTreeSet<String> = ["a", "a::b", "a::c::d", "a::c", "q::r", "x::e::f"]
        .into_iter()
        .map(str::to_string)
        .collect();
    assert_eq!(named, expected);
    let tests_out =
        without_test_items("a();\n#[cfg(test)]\nmod tests { fn b() { crate::z(); } }\nc();");
    assert!(!tests_out.contains("crate::z") && tests_out.contains("c();"));
}
