//! The source tree's layout: no import cycle between modules, and docs/ARCHITECTURE.md names
//! every module file.
//!
//! The module graph is read from the source text (std only, no parser crate): a module is one
//! file under `geocells/src` (`a/b.rs` is `a::b`, `a/mod.rs` is `a`, `lib.rs` the crate root).
//! Module `m` imports module `t` when code of `m` outside comments and `#[cfg(test)]` blocks
//! names a path `crate::…`, `super::…` or `self::…` whose longest module prefix is `t` (an item
//! re-exported by a `mod.rs` or `lib.rs` is followed to the file that defines it). The
//! re-exports and `mod` declarations of `lib.rs` and `mod.rs` files are not imports: those files
//! are the public facade, not code. The test fails on every strongly connected component of
//! more than one module, printing the lines that close the cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("geocells/src")
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `input/points.rs` → `["input", "points"]`; `input/mod.rs` → `["input"]`; `lib.rs` → `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = segs.pop().expect("file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        segs.push(stem.to_string());
    }
    segs
}

/// The code of a file without comments, string literals and `#[cfg(test)]` items, one entry
/// per line (line numbers kept).
fn code_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block_comment = 0usize;
    let mut skip_depth: Option<i64> = None; // brace depth at which a cfg(test) item ends
    let mut pending_cfg_test = false;
    let mut depth: i64 = 0;
    for line in text.lines() {
        let mut code = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut in_str = false;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            if in_block_comment > 0 {
                if c == '*' && next == Some('/') {
                    in_block_comment -= 1;
                    i += 2;
                    continue;
                }
                if c == '/' && next == Some('*') {
                    in_block_comment += 1;
                    i += 2;
                    continue;
                }
                i += 1;
                continue;
            }
            if in_str {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == '"' {
                    in_str = false;
                }
                i += 1;
                continue;
            }
            if c == '/' && next == Some('/') {
                break;
            }
            if c == '/' && next == Some('*') {
                in_block_comment += 1;
                i += 2;
                continue;
            }
            if c == '"' {
                in_str = true;
                code.push(' ');
                i += 1;
                continue;
            }
            // A char literal such as '{' or '"' must not open anything.
            if c == '\'' && chars.get(i + 2) == Some(&'\'') {
                i += 3;
                continue;
            }
            code.push(c);
            i += 1;
        }
        let trimmed = code.trim();
        if skip_depth.is_none() && trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            out.push(String::new());
            continue;
        }
        let opens = code.matches('{').count() as i64;
        let closes = code.matches('}').count() as i64;
        if pending_cfg_test && !trimmed.is_empty() {
            pending_cfg_test = false;
            if opens > closes {
                skip_depth = Some(depth);
            } else {
                // A one-line item (`use …;`, `mod tests;`): skipped alone.
                out.push(String::new());
                continue;
            }
        }
        depth += opens - closes;
        if let Some(d) = skip_depth {
            if depth <= d {
                skip_depth = None;
            }
            out.push(String::new());
            continue;
        }
        out.push(code);
    }
    out
}

/// Paths named in `code` that start with `crate`, `super` or `self`, as segments (a
/// `use a::{b, c::d}` group gives `a::b` and `a::c::d`).
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let bytes: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && (is_ident(bytes[i - 1]) || bytes[i - 1] == ':')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        let word: String = bytes[start..i].iter().collect();
        if word != "crate" && word != "super" && word != "self" {
            continue;
        }
        let mut segs = vec![word];
        let mut groups: Vec<Vec<String>> = Vec::new();
        loop {
            let mut j = i;
            while j < bytes.len() && bytes[j] == ' ' {
                j += 1;
            }
            if j + 1 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' {
                j += 2;
                while j < bytes.len() && bytes[j] == ' ' {
                    j += 1;
                }
                if j < bytes.len() && bytes[j] == '{' {
                    // One level of group: split its items on commas at depth 0.
                    let mut k = j + 1;
                    let mut d = 1;
                    let mut item = String::new();
                    while k < bytes.len() && d > 0 {
                        match bytes[k] {
                            '{' => {
                                d += 1;
                                item.push('{');
                            }
                            '}' => {
                                d -= 1;
                                if d > 0 {
                                    item.push('}');
                                }
                            }
                            ',' if d == 1 => {
                                groups.push(item_path(&item));
                                item.clear();
                            }
                            c => item.push(c),
                        }
                        k += 1;
                    }
                    groups.push(item_path(&item));
                    i = k;
                    break;
                }
                let s = j;
                while j < bytes.len() && is_ident(bytes[j]) {
                    j += 1;
                }
                if j == s {
                    break;
                }
                segs.push(bytes[s..j].iter().collect());
                i = j;
            } else {
                break;
            }
        }
        if groups.is_empty() {
            out.push(segs);
        } else {
            for g in groups {
                let mut p = segs.clone();
                p.extend(g);
                out.push(p);
            }
        }
    }
    out
}

fn item_path(item: &str) -> Vec<String> {
    let head = item.split('{').next().unwrap_or("");
    head.split("::")
        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
        .filter(|s| !s.is_empty() && s != "*")
        .collect()
}

struct Tree {
    /// Module path → file (relative to src).
    modules: BTreeMap<Vec<String>, PathBuf>,
    /// (facade module, item name) → module path the item is re-exported from.
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
}

impl Tree {
    /// The module `path` (absolute segments, no `crate`) belongs to, following re-exports.
    fn resolve(&self, path: &[String]) -> Vec<String> {
        let mut best = Vec::new();
        for n in (0..=path.len()).rev() {
            if self.modules.contains_key(&path[..n]) {
                best = path[..n].to_vec();
                break;
            }
        }
        if let Some(item) = path.get(best.len())
            && let Some(target) = self.reexports.get(&(best.clone(), item.clone()))
            && target != &best
        {
            let mut p = target.clone();
            p.extend_from_slice(&path[best.len() + 1..]);
            return self.resolve(&p);
        }
        best
    }
}

fn is_facade(rel: &Path) -> bool {
    rel.file_name()
        .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
}

/// Absolute module path of a path written in module `m` (whose file is `rel`).
fn absolute(m: &[String], rel: &Path, p: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = match p.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        // In a facade file `self` is the module itself, elsewhere too.
        Some("self") => m.to_vec(),
        Some("super") => {
            let mut b = m.to_vec();
            b.pop()?;
            b
        }
        _ => return None,
    };
    let _ = rel;
    let mut rest = &p[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// A source file: its module path, its path under src and its code lines.
type Source = (Vec<String>, PathBuf, Vec<String>);

fn load_tree() -> (Tree, Vec<Source>) {
    let root = src_root();
    let mut files = Vec::new();
    rs_files(&root, &mut files);
    let mut modules = BTreeMap::new();
    let mut sources = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under src").to_path_buf();
        let m = module_path(&rel);
        let text = std::fs::read_to_string(f).expect("read source");
        modules.insert(m.clone(), rel.clone());
        sources.push((m, rel, code_lines(&text)));
    }
    let mut reexports = BTreeMap::new();
    for (m, rel, lines) in &sources {
        if !is_facade(rel) {
            continue;
        }
        for line in lines {
            let t = line.trim_start();
            if !(t.starts_with("pub use") || t.starts_with("pub(crate) use")) {
                continue;
            }
            let body = t.split_once("use").map_or("", |x| x.1);
            // `pub use child::{A, B}` or `pub use self::child::A`: relative to the facade.
            let body = body.trim().trim_end_matches(';');
            let full = if body.starts_with("crate::")
                || body.starts_with("self::")
                || body.starts_with("super::")
            {
                body.to_string()
            } else {
                format!("self::{body}")
            };
            for p in paths_in(&full) {
                if let Some(abs) = absolute(m, rel, &p)
                    && let Some(name) = abs.last()
                {
                    let name = name.clone();
                    let target: Vec<String> = abs[..abs.len() - 1].to_vec();
                    reexports.insert((m.clone(), name), target);
                }
            }
        }
    }
    (Tree { modules, reexports }, sources)
}

type Edges = BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>;

fn import_graph() -> Edges {
    let (tree, sources) = load_tree();
    let mut edges: Edges = BTreeMap::new();
    for (m, rel, lines) in &sources {
        edges.entry(m.clone()).or_default();
        for (n, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            if is_facade(rel)
                && (t.starts_with("pub use")
                    || t.starts_with("pub(crate) use")
                    || t.starts_with("mod ")
                    || t.starts_with("pub mod ")
                    || t.starts_with("pub(crate) mod "))
            {
                continue;
            }
            for p in paths_in(line) {
                let Some(abs) = absolute(m, rel, &p) else {
                    continue;
                };
                let target = tree.resolve(&abs);
                if &target != m && !target.is_empty() {
                    edges
                        .entry(m.clone())
                        .or_default()
                        .entry(target)
                        .or_insert_with(|| format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
                }
            }
        }
    }
    edges
}

/// Tarjan's strongly connected components.
fn components(edges: &Edges) -> Vec<Vec<Vec<String>>> {
    struct State<'a> {
        edges: &'a Edges,
        index: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on: BTreeSet<&'a Vec<String>>,
        next: usize,
        out: Vec<Vec<Vec<String>>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        if let Some(ts) = s.edges.get(v) {
            for w in ts.keys() {
                let Some((w, _)) = s.edges.get_key_value(w) else {
                    continue;
                };
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn name(m: &[String]) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

#[test]
fn the_checker_finds_a_planted_cycle() {
    // The checker itself: two modules naming each other through `crate::`, `super::` and a
    // `use` group form one component; comments, strings and test blocks do not count.
    let a = code_lines(
        "use crate::b::{X, c::Y};\n// crate::z::W\nlet s = \"crate::z\";\n#[cfg(test)]\nmod tests {\n    use crate::z::Q;\n}\nfn f() { super::q::R::new(); }\n",
    );
    let paths: Vec<Vec<String>> = a.iter().flat_map(|l| paths_in(l)).collect();
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        vec!["crate::b::X", "crate::b::c::Y", "super::q::R::new"],
        "{a:?}"
    );
    let mut edges: Edges = BTreeMap::new();
    let (x, y, z) = (
        vec!["x".to_string()],
        vec!["y".to_string()],
        vec!["z".to_string()],
    );
    edges
        .entry(x.clone())
        .or_default()
        .insert(y.clone(), String::new());
    edges
        .entry(y.clone())
        .or_default()
        .insert(x.clone(), String::new());
    edges
        .entry(z.clone())
        .or_default()
        .insert(x.clone(), String::new());
    assert_eq!(components(&edges), vec![vec![x, y]]);
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = import_graph();
    let total: usize = edges.values().map(BTreeMap::len).sum();
    assert!(
        edges.len() > 20 && total > 40,
        "the checker read too little: {} modules, {total} imports",
        edges.len()
    );
    let comps = components(&edges);
    let mut msg = String::new();
    for comp in &comps {
        msg.push_str(&format!(
            "cycle among {}:\n",
            comp.iter().map(|m| name(m)).collect::<Vec<_>>().join(", ")
        ));
        for a in comp {
            for b in comp {
                if let Some(why) = edges.get(a).and_then(|t| t.get(b)) {
                    msg.push_str(&format!("  {} -> {}  ({why})\n", name(a), name(b)));
                }
            }
        }
    }
    assert!(comps.is_empty(), "{msg}");
}

#[test]
fn architecture_names_every_module_file() {
    let root = src_root();
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"),
    )
    .expect("docs/ARCHITECTURE.md");
    let mut files = Vec::new();
    rs_files(&root, &mut files);
    let missing: Vec<String> = files
        .iter()
        .map(|f| {
            f.strip_prefix(&root)
                .expect("under src")
                .display()
                .to_string()
        })
        .filter(|rel| !doc.contains(&format!("`{rel}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md does not name these files of geocells/src (as `path.rs`): {missing:?}"
    );
    // And names no file that is gone.
    let mut gone = Vec::new();
    for part in doc.split('`') {
        let outside = ["examples/", "benches/", "geocells/", "python/"];
        if Path::new(part).extension().is_some_and(|e| e == "rs")
            && !part.contains(' ')
            && !outside.iter().any(|o| part.starts_with(o))
            && !root.join(part).exists()
        {
            gone.push(part.to_string());
        }
    }
    assert!(
        gone.is_empty(),
        "docs/ARCHITECTURE.md names files that do not exist: {gone:?}"
    );
}

/// Prints the module graph (for docs/ARCHITECTURE.md): `cargo test --test layout -- --ignored --nocapture`.
#[test]
#[ignore = "prints the graph; run by hand"]
fn print_import_graph() {
    for (m, ts) in import_graph() {
        println!(
            "{} -> {}",
            name(&m),
            ts.keys().map(|t| name(t)).collect::<Vec<_>>().join(", ")
        );
    }
}
