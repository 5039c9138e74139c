//! Finding data files: `*` patterns in config entries and zero-config
//! resolution of a strategy's symbols in a data directory.

use super::error::{ConfigError, ConfigErrorKind, ConfigErrors};
use crate::diagnostic::did_you_mean;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// File name endings that hold bars or series points.
const DATA_EXTENSIONS: [&str; 2] = [".csv", ".csv.gz"];

/// Does `name` match `pattern`, where `*` stands for any run of characters
/// (possibly empty) and every other character stands for itself?
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic greedy matching with backtracking to the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The names of the regular files in `dir` (following symlinks), sorted.
/// A directory that cannot be read has no files.
fn file_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// A path for messages, with `a/..` pairs folded away lexically.
pub(crate) fn tidy(path: &Path) -> String {
    use std::path::Component;
    let mut parts: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return ".".to_string();
    }
    parts.iter().collect::<PathBuf>().display().to_string()
}

fn is_data_file(name: &str) -> bool {
    DATA_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// A data file name without its extension: `HSI.csv.gz` -> `HSI`.
fn base_name(name: &str) -> &str {
    DATA_EXTENSIONS
        .iter()
        .rev()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// The symbol part of a data file name: `USDJPY_1d.csv` -> `USDJPY`.
fn stem_symbol(name: &str) -> &str {
    let base = base_name(name);
    base.split('_').next().unwrap_or(base)
}

/// Resolves a config `file` entry (a path or a pattern with `*` in its file
/// name) relative to `base` to exactly one existing file.
///
/// `what` names the entry in messages (`data.XAUUSD`).
pub(crate) fn resolve_pattern(
    base: &Path,
    pattern: &str,
    what: &str,
) -> Result<PathBuf, ConfigErrorKind> {
    let full = base.join(pattern);
    let file_name = full
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    // The directory to list; a bare file name is in the working directory.
    let dir = match full.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.to_string_lossy().contains('*') {
        return Err(ConfigErrorKind::WildcardInDirectory {
            path: what.to_string(),
            pattern: pattern.to_string(),
        });
    }
    if !file_name.contains('*') {
        if full.is_file() {
            return Ok(full);
        }
        let names: Vec<String> = file_names(&dir);
        // The closest name, and the files that extend the given name
        // (`XAUUSD_1h.csv` -> `XAUUSD_1h_2018_2026.csv`).
        let prefix = base_name(&file_name);
        let mut candidates: BTreeSet<String> = names
            .iter()
            .filter(|n| n.starts_with(prefix) && is_data_file(n))
            .cloned()
            .collect();
        if let Some(s) = did_you_mean(&file_name, names.iter().map(String::as_str)) {
            candidates.insert(s.to_string());
        }
        return Err(ConfigErrorKind::NoMatch {
            what: what.to_string(),
            pattern: file_name,
            dir: tidy(&dir),
            candidates: candidates.into_iter().collect(),
        });
    }
    let matches: Vec<String> = file_names(&dir)
        .into_iter()
        .filter(|n| wildcard_match(&file_name, n))
        .collect();
    match matches.len() {
        1 => Ok(full.with_file_name(&matches[0])),
        0 => Err(ConfigErrorKind::NoMatch {
            what: what.to_string(),
            pattern: file_name,
            dir: tidy(&dir),
            candidates: Vec::new(),
        }),
        _ => Err(ConfigErrorKind::Ambiguous {
            what: what.to_string(),
            pattern: file_name,
            dir: tidy(&dir),
            candidates: matches,
            help: "make the pattern match exactly one file, or name the file".to_string(),
        }),
    }
}

/// Where to look for one symbol: (directory, prefix shown before file names).
type SearchDir = (PathBuf, &'static str);

/// Finds the one file for `symbol` in `dirs`: `SYMBOL.csv` / `SYMBOL.csv.gz`
/// first, else the single `SYMBOL_*.csv` / `SYMBOL_*.csv.gz`.
fn resolve_symbol(
    root: &Path,
    dirs: &[SearchDir],
    symbol: &str,
    section: &str,
) -> Result<PathBuf, ConfigErrorKind> {
    let listing: Vec<(PathBuf, &str, Vec<String>)> = dirs
        .iter()
        .map(|(d, shown)| (d.clone(), *shown, file_names(d)))
        .collect();
    let find = |pred: &dyn Fn(&str) -> bool| -> Vec<(PathBuf, String)> {
        let mut found = Vec::new();
        for (d, shown, names) in &listing {
            for n in names.iter().filter(|n| pred(n)) {
                found.push((d.join(n), format!("{shown}{n}")));
            }
        }
        found
    };
    let exact = find(&|n: &str| {
        DATA_EXTENSIONS
            .iter()
            .any(|ext| n == format!("{symbol}{ext}"))
    });
    let found = if exact.is_empty() {
        let prefix = format!("{symbol}_");
        find(&|n: &str| n.starts_with(&prefix) && is_data_file(n))
    } else {
        exact
    };
    match found.len() {
        1 => Ok(found.into_iter().next().map(|(p, _)| p).unwrap_or_default()),
        0 => {
            // Offer the files of the closest symbol in the directory.
            let stems: BTreeSet<&str> = listing
                .iter()
                .flat_map(|(_, _, names)| names.iter())
                .filter(|n| is_data_file(n))
                .flat_map(|n| [stem_symbol(n), base_name(n)])
                .collect();
            let candidates = match did_you_mean(symbol, stems.iter().copied()) {
                Some(close) => find(&|n: &str| {
                    is_data_file(n) && (stem_symbol(n) == close || base_name(n) == close)
                })
                .into_iter()
                .map(|(_, shown)| shown)
                .collect(),
                None => Vec::new(),
            };
            Err(ConfigErrorKind::SymbolNotFound {
                section: section.to_string(),
                symbol: symbol.to_string(),
                candidates,
            })
        }
        _ => {
            let shown: Vec<String> = found.into_iter().map(|(_, s)| s).collect();
            let help = format!(
                "pick one in playbook.yaml, e.g. `{section}: {{ {symbol}: {} }}`",
                tidy(&root.join(&shown[0]))
            );
            Err(ConfigErrorKind::SymbolAmbiguous {
                section: section.to_string(),
                symbol: symbol.to_string(),
                candidates: shown,
                help,
            })
        }
    }
}

fn resolve_all(
    dir: &Path,
    dirs: &[SearchDir],
    symbols: &[&str],
    section: &str,
) -> Result<BTreeMap<String, PathBuf>, ConfigErrors> {
    let mut out = BTreeMap::new();
    if symbols.is_empty() {
        return Ok(out);
    }
    if let Err(e) = std::fs::read_dir(dir) {
        return Err(ConfigErrors(vec![ConfigError {
            origin: tidy(dir),
            location: None,
            kind: ConfigErrorKind::NoDataDir {
                reason: e.to_string(),
            },
        }]));
    }
    let mut errors = Vec::new();
    let unique: BTreeSet<&str> = symbols.iter().copied().collect();
    for symbol in unique {
        match resolve_symbol(dir, dirs, symbol, section) {
            Ok(p) => {
                out.insert(symbol.to_string(), p);
            }
            Err(kind) => errors.push(ConfigError {
                origin: tidy(dir),
                location: None,
                kind,
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Zero config: maps each data symbol to its file in `dir`.
///
/// `XAUUSD` resolves to `DIR/XAUUSD.csv` (or `.csv.gz`), else to the single
/// `DIR/XAUUSD_*.csv` (or `.csv.gz`).
///
/// # Errors
///
/// One error per symbol with no file (naming the files of the closest symbol)
/// or with several candidate files (listing them all, with how to pick one in
/// `playbook.yaml`).
pub fn resolve_data_dir(
    dir: &Path,
    symbols: &[&str],
) -> Result<BTreeMap<String, PathBuf>, ConfigErrors> {
    resolve_all(dir, &[(dir.to_path_buf(), "")], symbols, "data")
}

/// Zero config for non-price series: like [`resolve_data_dir`], looking in
/// `DIR/series/` and in `DIR` itself.
///
/// # Errors
///
/// As [`resolve_data_dir`]; a name found in both directories is ambiguous.
pub fn resolve_series_dir(
    dir: &Path,
    symbols: &[&str],
) -> Result<BTreeMap<String, PathBuf>, ConfigErrors> {
    let dirs = [(dir.join("series"), "series/"), (dir.to_path_buf(), "")];
    resolve_all(dir, &dirs, symbols, "series")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_any_run() {
        assert!(wildcard_match("USDJPY_*.csv", "USDJPY_1d.csv"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYbc"));
        assert!(wildcard_match("*.csv", "x.csv"));
        assert!(!wildcard_match("*.csv", "x.csv.gz"));
        assert!(!wildcard_match("a*b", "acb_"));
        assert!(wildcard_match("exact.csv", "exact.csv"));
        assert!(!wildcard_match("exact.csv", "exact.csvx"));
    }

    #[test]
    fn stems_drop_suffixes() {
        assert_eq!(stem_symbol("USDJPY_1d.csv"), "USDJPY");
        assert_eq!(stem_symbol("HSI.csv.gz"), "HSI");
        assert_eq!(stem_symbol("US_POLICY_RATE.csv"), "US");
    }

    #[test]
    fn bare_patterns_are_in_the_working_directory() {
        // Tests run in the crate root.
        let found = resolve_pattern(Path::new(""), "Cargo.t*ml", "data.X").unwrap();
        assert_eq!(found, PathBuf::from("Cargo.toml"));
        let found = resolve_pattern(Path::new(""), "Cargo.toml", "data.X").unwrap();
        assert_eq!(found, PathBuf::from("Cargo.toml"));
    }

    #[test]
    fn tidy_folds_parent_steps() {
        assert_eq!(
            tidy(Path::new("a/b/../../../shared/data")),
            "../shared/data"
        );
        assert_eq!(tidy(Path::new("./x/./y")), "x/y");
        assert_eq!(tidy(Path::new("/r/a/../b")), "/r/b");
        assert_eq!(tidy(Path::new("a/..")), ".");
    }
}
