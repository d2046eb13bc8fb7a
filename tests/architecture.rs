//! The house rules, checked on the code itself: imports between the files of `src/` and
//! `actors/src/` point one way only (no loop between files), every arrow between layers points
//! down (the layers are the table in `docs/architecture.md`, read from there so the document
//! and the check cannot drift), no file passes 700 lines unless its opening says why it is
//! one piece, and a folder module keeps its root in `mod.rs`.
//!
//! How an import is counted. Each file is a node. A file depends on another when its code names
//! an item defined there: through a `use`, or through a path such as `crate::econ::settle`,
//! `super::Economy` or `econ::stats::gini` (module aliases and child modules are expanded). A
//! name re-exported with `pub use` is followed to the file that defines it, so a folder's
//! `mod.rs` that only forwards its children's names is not a node every caller passes through.
//! A file naming an item of its own folder module's root (`super::Economy` from
//! `game/elected.rs`) is part of that module, not an arrow between modules, and is not counted.
//! Paths inside macro calls are read token by token. `#[cfg(test)]` items are left out: a unit
//! test may reach anything. The parse uses `syn` (the Rust parser proc macros use), not text
//! matching, so `use` trees, renames and groups are read as the compiler reads them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The longest a file may be without saying, in its opening, why it must be one piece.
const MAX_LINES: usize = 700;

type ModPath = Vec<String>;

/// One file: its module path and what its `use` items bind.
struct FileInfo {
    path: PathBuf,
    /// Names bound by `use` (alias -> absolute path, crate-relative); `pub` ones re-export.
    bindings: BTreeMap<String, (ModPath, bool)>,
    /// `pub use x::*` targets (absolute).
    globs: Vec<ModPath>,
    /// Child modules declared with `mod name;`.
    children: BTreeSet<String>,
    /// Names of items defined at the top of the file.
    defined: BTreeSet<String>,
}

/// Every file of one crate, by module path.
struct Crate {
    files: BTreeMap<ModPath, FileInfo>,
    /// Extern names that mean this crate (`simulacra::` from the binary's modules).
    self_names: Vec<&'static str>,
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let tokens = a.meta.require_list().map(|l| l.tokens.to_string());
            tokens.is_ok_and(|t| t.split(|c: char| !c.is_alphanumeric()).any(|w| w == "test"))
        }
    })
}

fn module_path(src_root: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src_root).expect("under the root");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Flattens a `use` tree into (bound name, absolute-or-relative path, is glob).
fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(String, ModPath, bool)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), prefix.clone(), false));
                }
            } else {
                let mut full = prefix.clone();
                full.push(name.clone());
                out.push((name, full, false));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push((r.rename.to_string(), full, false));
        }
        syn::UseTree::Glob(_) => out.push(("*".into(), prefix.clone(), true)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

/// The items a file's code names by path, with the `use` items themselves.
#[derive(Default)]
struct PathCollector {
    /// Paths named in code (two segments or more, or one that a `use` bound).
    paths: Vec<Vec<String>>,
}

impl PathCollector {
    fn tokens(&mut self, stream: TokenStream) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(id) => {
                    let mut path = vec![id.to_string()];
                    let mut j = i + 1;
                    while j + 2 < tokens.len()
                        && matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == ':')
                        && matches!(&tokens[j + 1], TokenTree::Punct(p) if p.as_char() == ':')
                    {
                        if let TokenTree::Ident(next) = &tokens[j + 2] {
                            path.push(next.to_string());
                            j += 3;
                        } else {
                            break;
                        }
                    }
                    if path.len() > 1 {
                        self.paths.push(path);
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segs.len() > 1 {
            self.paths.push(segs);
        }
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.tokens(m.tokens.clone());
    }
    fn visit_item(&mut self, i: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match i {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(m) => &m.attrs,
            syn::Item::Use(u) => {
                // `use` items are read by `read_file`, not as paths.
                let _ = u;
                return;
            }
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            _ => &[],
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, i);
        }
    }
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}
}

struct Parsed {
    info: FileInfo,
    uses: Vec<(ModPath, bool)>,
    paths: Vec<Vec<String>>,
    lines: usize,
    doc: String,
}

fn read_file(path: &Path) -> Parsed {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut info = FileInfo {
        path: path.to_path_buf(),
        bindings: BTreeMap::new(),
        globs: Vec::new(),
        children: BTreeSet::new(),
        defined: BTreeSet::new(),
    };
    let mut uses = Vec::new();
    let mut collector = PathCollector::default();
    for item in &file.items {
        match item {
            syn::Item::Use(u) if !is_cfg_test(&u.attrs) => {
                let public = !matches!(u.vis, syn::Visibility::Inherited);
                let mut flat = Vec::new();
                flatten_use(&u.tree, &mut Vec::new(), &mut flat);
                for (name, full, glob) in flat {
                    if glob {
                        if public {
                            info.globs.push(full.clone());
                        }
                    } else {
                        info.bindings.insert(name, (full.clone(), public));
                    }
                    uses.push((full, public));
                }
            }
            syn::Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if m.content.is_none() {
                    info.children.insert(m.ident.to_string());
                } else {
                    info.defined.insert(m.ident.to_string());
                }
            }
            _ => {}
        }
        let name = match item {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            syn::Item::Trait(t) => Some(t.ident.to_string()),
            syn::Item::Const(c) => Some(c.ident.to_string()),
            syn::Item::Static(s) => Some(s.ident.to_string()),
            syn::Item::Type(t) => Some(t.ident.to_string()),
            syn::Item::Union(u) => Some(u.ident.to_string()),
            syn::Item::Macro(m) => m.ident.as_ref().map(|i| i.to_string()),
            _ => None,
        };
        if let Some(n) = name {
            info.defined.insert(n);
        }
        collector.visit_item(item);
    }
    let doc: String = text
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    Parsed {
        info,
        uses,
        paths: collector.paths,
        lines: text.lines().count(),
        doc,
    }
}

impl Crate {
    /// Makes `path`, as written in module `at`, absolute (crate-relative). `None`: not this
    /// crate's (std, a dependency, a local variable's field).
    fn absolute(&self, at: &ModPath, path: &[String], depth: usize) -> Option<ModPath> {
        let first = path.first()?;
        let info = self.files.get(at)?;
        // The binary's root (main.rs) declares its modules at the crate root, as lib.rs does.
        let here: ModPath = if at == &["main".to_string()] {
            Vec::new()
        } else {
            at.clone()
        };
        let mut base: ModPath = match first.as_str() {
            "crate" => Vec::new(),
            s if self.self_names.contains(&s) => Vec::new(),
            "self" => here.clone(),
            "super" => {
                let mut b = here.clone();
                b.pop();
                let mut rest = &path[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    b.pop();
                    rest = &rest[1..];
                }
                b.extend(rest.iter().cloned());
                return Some(b);
            }
            s if info.children.contains(s) => {
                let mut b = here.clone();
                b.push(s.to_string());
                b.extend(path[1..].iter().cloned());
                return Some(b);
            }
            s => {
                let (target, _) = info.bindings.get(s)?;
                if depth > 8 {
                    return None;
                }
                let mut t = self.absolute(at, target, depth + 1)?;
                t.extend(path[1..].iter().cloned());
                return Some(t);
            }
        };
        base.extend(path[1..].iter().cloned());
        Some(base)
    }

    /// The file that defines what absolute `path` names, following re-exports; `None` for a
    /// module itself or a name outside the crate.
    fn defining_file(&self, path: &[String], depth: usize) -> Option<ModPath> {
        if depth > 16 {
            return None;
        }
        let n = (0..=path.len())
            .rev()
            .find(|&n| self.files.contains_key(&path[..n]))?;
        let module: ModPath = path[..n].to_vec();
        let rest = &path[n..];
        let item = rest.first()?;
        let info = &self.files[&module];
        if info.defined.contains(item) {
            return Some(module);
        }
        if let Some((target, _)) = info.bindings.get(item) {
            let mut t = self.absolute(&module, target, 0)?;
            t.extend(rest[1..].iter().cloned());
            return self.defining_file(&t, depth + 1);
        }
        for g in &info.globs {
            if let Some(mut t) = self.absolute(&module, g, 0) {
                t.extend(rest.iter().cloned());
                if let Some(f) = self.defining_file(&t, depth + 1) {
                    return Some(f);
                }
            }
        }
        Some(module)
    }
}

/// An arrow between two files and the names that make it.
type Edges = BTreeMap<(ModPath, ModPath), BTreeSet<String>>;

fn name(m: &ModPath) -> String {
    if m.is_empty() {
        "<crate root>".into()
    } else {
        m.join("::")
    }
}

/// Reads one crate and returns its arrows; long files and misplaced roots go to `problems`.
fn crate_edges(
    src_root: &Path,
    self_names: Vec<&'static str>,
    problems: &mut Vec<String>,
) -> (Crate, Edges) {
    let mut files = Vec::new();
    rust_files(src_root, &mut files);
    let mut parsed = BTreeMap::new();
    for f in &files {
        let m = module_path(src_root, f);
        // Skip the binary root's duplicate key: main.rs and lib.rs both map to [].
        let key = if f.ends_with("main.rs") {
            vec!["main".to_string()]
        } else {
            m
        };
        parsed.insert(key, read_file(f));
    }
    for (m, p) in &parsed {
        let rel = p
            .info
            .path
            .strip_prefix(src_root)
            .unwrap()
            .display()
            .to_string();
        if p.lines > MAX_LINES && !p.doc.to_lowercase().contains("one piece") {
            problems.push(format!(
                "{rel} has {} lines (more than {MAX_LINES}): split it by concern, or say in its opening `//!` why it must be one piece",
                p.lines
            ));
        }
        if !p.info.path.ends_with("mod.rs") && !m.is_empty() {
            let dir = p.info.path.with_extension("");
            if dir.is_dir() {
                problems.push(format!(
                    "{rel} sits beside the folder {}/: a folder module keeps its root in mod.rs",
                    dir.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    let krate = Crate {
        files: parsed
            .iter()
            .map(|(m, p)| {
                (
                    m.clone(),
                    FileInfo {
                        path: p.info.path.clone(),
                        bindings: p.info.bindings.clone(),
                        globs: p.info.globs.clone(),
                        children: p.info.children.clone(),
                        defined: p.info.defined.clone(),
                    },
                )
            })
            .collect(),
        self_names,
    };
    let mut edges: Edges = BTreeMap::new();
    for (m, p) in &parsed {
        // The binary's modules live under `main` but are declared at the crate root.
        let at = m.clone();
        let mut targets: Vec<ModPath> = Vec::new();
        for (full, public) in &p.uses {
            if *public {
                continue; // a re-export forwards a name; its users are followed through it
            }
            if let Some(abs) = krate.absolute(&at, full, 0) {
                targets.push(abs);
            }
        }
        for path in &p.paths {
            if let Some(abs) = krate.absolute(&at, path, 0) {
                targets.push(abs);
            }
        }
        for abs in targets {
            let Some(to) = krate.defining_file(&abs, 0) else {
                continue;
            };
            // A file's own folder module (its ancestors' mod.rs) is part of it.
            if to == at || (to.len() < at.len() && at.starts_with(&to)) {
                continue;
            }
            edges
                .entry((at.clone(), to))
                .or_default()
                .insert(abs.join("::"));
        }
    }
    (krate, edges)
}

/// Every loop (strongly connected set of two files or more), each with its arrows.
fn loops(edges: &Edges) -> Vec<String> {
    let mut graph: BTreeMap<&ModPath, Vec<&ModPath>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        graph.entry(a).or_default().push(b);
        graph.entry(b).or_default();
    }
    // Tarjan's algorithm, iteratively deep enough for a few hundred files.
    struct T<'a> {
        graph: &'a BTreeMap<&'a ModPath, Vec<&'a ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on: BTreeSet<&'a ModPath>,
        next: usize,
        out: Vec<Vec<&'a ModPath>>,
    }
    fn connect<'a>(t: &mut T<'a>, v: &'a ModPath) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        for &w in &t.graph[v] {
            if !t.index.contains_key(w) {
                connect(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(comp);
        }
    }
    let mut t = T {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for &v in graph.keys() {
        if !t.index.contains_key(v) {
            connect(&mut t, v);
        }
    }
    t.out
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|comp| {
            let set: BTreeSet<&ModPath> = comp.iter().copied().collect();
            let mut text = format!(
                "an import loop between {}:",
                comp.iter()
                    .map(|m| name(m))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for ((a, b), why) in edges {
                if set.contains(a) && set.contains(b) {
                    text.push_str(&format!(
                        "\n    {} -> {} (uses {})",
                        name(a),
                        name(b),
                        why.iter().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            text
        })
        .collect()
}

/// The layer table of `docs/architecture.md`: (layer, module prefixes), top layer first.
fn layer_table(root: &Path) -> Vec<(String, Vec<ModPath>)> {
    let doc =
        std::fs::read_to_string(root.join("docs/architecture.md")).expect("docs/architecture.md");
    let begin = doc
        .find("<!-- layers: begin -->")
        .expect("docs/architecture.md marks its layer table with <!-- layers: begin -->");
    let end = doc
        .find("<!-- layers: end -->")
        .expect("and <!-- layers: end -->");
    let mut table = Vec::new();
    for line in doc[begin..end].lines() {
        // `| layer | `modules` ... | what it holds |`
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4
            || cells[1].is_empty()
            || cells[1] == "layer"
            || cells[1].starts_with('-')
        {
            continue;
        }
        let modules = cells[2]
            .split_whitespace()
            .map(|m| m.trim_matches(|c| c == '`' || c == ','))
            .filter(|m| !m.is_empty())
            .map(|m| {
                m.trim_end_matches("/")
                    .split("::")
                    .map(String::from)
                    .collect()
            })
            .collect();
        table.push((cells[1].trim_matches('*').to_string(), modules));
    }
    assert!(
        table.len() >= 3,
        "the layer table in docs/architecture.md is missing or unreadable"
    );
    table
}

fn layer_of(table: &[(String, Vec<ModPath>)], m: &ModPath) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, (_, prefixes)) in table.iter().enumerate() {
        for p in prefixes {
            if m.starts_with(p) && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), i));
            }
        }
    }
    best.map(|(_, i)| i)
}

#[test]
fn imports_point_down_without_loops_and_files_stay_readable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = Vec::new();

    let (krate, edges) = crate_edges(&root.join("src"), vec!["simulacra"], &mut problems);
    // SIMULACRA_ARCH_DUMP=1 prints every arrow, for planning a move.
    if std::env::var_os("SIMULACRA_ARCH_DUMP").is_some() {
        for ((a, b), why) in &edges {
            eprintln!("{} -> {}  {:?}", name(a), name(b), why);
        }
    }
    problems.extend(loops(&edges));
    let table = layer_table(root);
    for m in krate.files.keys().filter(|m| !m.is_empty()) {
        if layer_of(&table, m).is_none() {
            problems.push(format!(
                "src module {} is in no layer: add it to the layer table of docs/architecture.md",
                name(m)
            ));
        }
    }
    for ((a, b), why) in &edges {
        if let (Some(la), Some(lb)) = (layer_of(&table, a), layer_of(&table, b))
            && la > lb
        {
            problems.push(format!(
                "{} (layer {}) imports from {} (layer {}, above it): {}",
                name(a),
                table[la].0,
                name(b),
                table[lb].0,
                why.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }

    let (_, actor_edges) = crate_edges(
        &root.join("actors/src"),
        vec!["simulacra_actors"],
        &mut problems,
    );
    problems.extend(
        loops(&actor_edges)
            .into_iter()
            .map(|l| format!("actors/src: {l}")),
    );

    assert!(
        problems.is_empty(),
        "the house rules (docs/architecture.md, \"Layers\") are broken:\n- {}",
        problems.join("\n- ")
    );
}

/// The check itself sees a loop, a path through a re-export and an arrow up: a checker that
/// cannot fail proves nothing.
#[test]
fn the_check_finds_a_planted_loop_and_an_arrow_up() {
    let dir = std::env::temp_dir().join(format!("simulacra-arch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("low")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod low;\npub mod high;\n").unwrap();
    std::fs::write(
        dir.join("low/mod.rs"),
        "mod inner;\npub use inner::Thing;\npub fn uses_high() { crate::high::top(); }\n",
    )
    .unwrap();
    std::fs::write(dir.join("low/inner.rs"), "pub struct Thing;\n").unwrap();
    std::fs::write(
        dir.join("high.rs"),
        "use crate::low::Thing;\npub fn top() { let _t: Option<Thing> = None; }\n",
    )
    .unwrap();
    let mut problems = Vec::new();
    let (_, edges) = crate_edges(&dir, vec![], &mut problems);
    let high: ModPath = vec!["high".into()];
    let low: ModPath = vec!["low".into()];
    let inner: ModPath = vec!["low".into(), "inner".into()];
    // The re-export is followed to the file that defines `Thing`.
    assert!(edges.contains_key(&(high.clone(), inner)), "{edges:?}");
    assert!(
        edges.contains_key(&(low.clone(), high.clone())),
        "{edges:?}"
    );
    assert!(
        loops(&edges).is_empty(),
        "no loop yet: high uses inner, low uses high"
    );
    // Now close the loop: inner uses high.
    std::fs::write(
        dir.join("low/inner.rs"),
        "pub struct Thing;\nfn f() { crate::high::top() }\n",
    )
    .unwrap();
    let (_, edges) = crate_edges(&dir, vec![], &mut problems);
    let found = loops(&edges);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("low::inner -> high"), "{}", found[0]);
    let table = vec![
        ("top".to_string(), vec![high]),
        ("bottom".to_string(), vec![low]),
    ];
    assert_eq!(
        layer_of(&table, &vec!["low".into(), "inner".into()]),
        Some(1)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
