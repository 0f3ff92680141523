//! `render --check`: compares rendered files with an output folder as redacted unified diffs, writing nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use similar::{ChangeTag, TextDiff};

use super::redact::{Redactor, block_secret_lines};
use super::{Links, OutputFile};
use crate::fsio::{IoError, io_reason};

/// The outcome of a comparison: the diff to print, and how many files differ.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Unified diffs (redacted), `Binary files … differ` and `Only in …` lines; empty when equal.
    pub diff: String,
    /// Files that differ, are missing, or are extra.
    pub drifted: usize,
    /// Files rendering produces.
    pub compared: usize,
}

/// Compares `files` with what `out_dir` holds. `extras`: also report files under
/// `out_dir` that rendering does not produce (files and folders whose name starts with
/// `.`, such as `.gitignore`, are never reported: regforge never writes such names).
pub fn compare(
    out_dir: &Path,
    files: Vec<OutputFile>,
    extras: bool,
    redactor: &Redactor,
) -> Result<Report, IoError> {
    let mut comparison = Comparison::new(out_dir);
    for file in files {
        comparison.add(file.path, file.bytes)?;
    }
    comparison.finish(extras, redactor)
}

/// A comparison fed one rendered file at a time, as a streamed render makes them: a
/// file the folder holds unchanged is compared at once and its bytes dropped, so only
/// what differs is held until the diff.
pub struct Comparison<'a> {
    out_dir: &'a Path,
    entries: BTreeMap<PathBuf, Entry>,
    links: Links<'a>,
}

impl<'a> Comparison<'a> {
    pub fn new(out_dir: &'a Path) -> Comparison<'a> {
        Comparison {
            out_dir,
            entries: BTreeMap::new(),
            links: Links::new(out_dir),
        }
    }

    /// Compares one rendered file; a path given again (an artifact targets share) is
    /// compared once.
    pub fn add(&mut self, path: PathBuf, bytes: Vec<u8>) -> Result<(), IoError> {
        // A link is never followed: it could show anything (/proc/self/environ) in the
        // diff, and render would not write through it either.
        if let Some(link) = self.links.within(&path) {
            self.entries.insert(link, Entry::Link);
            return Ok(());
        }
        if self.entries.contains_key(&path) {
            return Ok(());
        }
        let at = self.out_dir.join(&path);
        let entry = match on_disk(&at, &bytes) {
            Ok(OnDisk::Same) => Entry::Same,
            Ok(OnDisk::Differs(old)) => Entry::Rendered(Some(old), bytes),
            Err(e) if e.kind() == ErrorKind::NotFound => Entry::Rendered(None, bytes),
            Err(e) => return Err(read_error(&at, &e)),
        };
        self.entries.insert(path, entry);
        Ok(())
    }

    /// The report: each file that differs as a redacted diff, with the extras when
    /// `extras` and any temporary files left by a killed render.
    pub fn finish(self, extras: bool, redactor: &Redactor) -> Result<Report, IoError> {
        let Comparison {
            out_dir,
            mut entries,
            ..
        } = self;
        let compared = entries
            .values()
            .filter(|e| matches!(e, Entry::Same | Entry::Rendered(..)))
            .count();
        if extras {
            for path in list(out_dir)? {
                entries.entry(path).or_insert(Entry::Extra);
            }
        }
        for path in temp_files(out_dir)? {
            entries.insert(path, Entry::Temp);
        }
        Ok(diffs(out_dir, entries, compared, redactor))
    }
}

/// The report of `entries`, each diffed on its own.
fn diffs(
    out_dir: &Path,
    entries: BTreeMap<PathBuf, Entry>,
    compared: usize,
    redactor: &Redactor,
) -> Report {
    // Each file's diff is made on its own: after a password rotation every file of a
    // fleet drifts, and diffing and redacting them all is worth every core.
    let entries: Vec<(PathBuf, Entry)> = entries.into_iter().collect();
    let diff_all = |chunk: &[(PathBuf, Entry)]| {
        chunk
            .iter()
            .filter_map(|(path, entry)| drift(out_dir, path, entry, redactor))
            .collect::<Vec<String>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let diffs = if threads > 1 && entries.len() >= PARALLEL_FROM {
        std::thread::scope(|scope| {
            entries
                .chunks(entries.len().div_ceil(threads))
                .map(|chunk| scope.spawn(|| diff_all(chunk)))
                .collect::<Vec<_>>()
                .into_iter()
                .flat_map(|handle| handle.join().expect("diffing a file does not panic"))
                .collect::<Vec<_>>()
        })
    } else {
        diff_all(&entries)
    };
    Report {
        compared,
        drifted: diffs.len(),
        diff: diffs.concat(),
    }
}

/// What a file on disk holds, against its rendered bytes.
enum OnDisk {
    Same,
    Differs(Vec<u8>),
}

/// Compares the file at `path` with `rendered` a block at a time, and reads it whole
/// only when it differs: an unchanged file (the usual case in CI) is never held, however
/// large, nor is every file of an unchanged fleet at once.
fn on_disk(path: &Path, rendered: &[u8]) -> std::io::Result<OnDisk> {
    use std::io::{Read, Seek};
    let mut file = fs::File::open(path)?;
    if file.metadata()?.len() == rendered.len() as u64 {
        let mut block = vec![0; 64 << 10];
        let mut at = 0;
        loop {
            let n = file.read(&mut block)?;
            if n == 0 || block[..n] != rendered[at..(at + n).min(rendered.len())] {
                break;
            }
            at += n;
        }
        if at == rendered.len() && file.read(&mut block)? == 0 {
            return Ok(OnDisk::Same);
        }
        file.rewind()?;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(OnDisk::Differs(bytes))
}

/// From this many entries on, files are diffed on every core.
const PARALLEL_FROM: usize = 64;

/// What the diff says of one entry, or nothing when it has not drifted.
fn drift(out_dir: &Path, path: &Path, entry: &Entry, redactor: &Redactor) -> Option<String> {
    let disk_name = out_dir.join(path).display().to_string();
    let rendered_name = format!("{} (rendered)", path.display());
    let mut diff = String::new();
    match entry {
        Entry::Link => {
            let _ = writeln!(
                diff,
                "Symbolic link {disk_name}: not followed; regforge writes regular files"
            );
        }
        Entry::Temp => {
            let _ = writeln!(
                diff,
                "Temporary file {disk_name}: left by an interrupted regforge; delete it"
            );
        }
        Entry::Extra => {
            let _ = writeln!(
                diff,
                "Only in {}: {} (not rendered)",
                out_dir.display(),
                path.display()
            );
        }
        Entry::Same => return None,
        Entry::Rendered(Some(old), new) if old == new => return None,
        Entry::Rendered(old, new) => {
            let old_name = if old.is_some() {
                disk_name
            } else {
                "/dev/null".into()
            };
            let old = old.as_deref().unwrap_or_default();
            match (std::str::from_utf8(old), std::str::from_utf8(new)) {
                (Ok(old), Ok(new)) => {
                    unified(&mut diff, old, new, &old_name, &rendered_name, redactor)
                }
                _ => {
                    let _ = writeln!(diff, "Binary files {old_name} and {rendered_name} differ");
                }
            }
        }
    }
    Some(diff)
}

enum Entry {
    /// A rendered file the folder holds unchanged.
    Same,
    /// What the folder holds (none when missing), and what rendering produced.
    Rendered(Option<Vec<u8>>, Vec<u8>),
    Extra,
    /// A symbolic link where a rendered file, or a folder of one, belongs.
    Link,
    /// A temporary file of a render that was killed.
    Temp,
}

/// regforge's temporary files anywhere under `out_dir`, left by a killed render.
fn temp_files(out_dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let folder = out_dir.join(&relative);
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(read_error(&folder, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&folder, &e))?;
            let path = relative.join(entry.file_name());
            let kind = entry.file_type().map_err(|e| read_error(&folder, &e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if crate::fsio::is_temp_name(&entry.file_name().to_string_lossy()) {
                out.push(path);
            }
        }
    }
    Ok(out)
}

/// A unified diff with 3 lines of context; each line is redacted after diffing, so a
/// changed secret still shows as a changed (`<redacted>`) line.
fn unified(out: &mut String, old: &str, new: &str, old_name: &str, new_name: &str, r: &Redactor) {
    let diff = TextDiff::from_lines(old, new);
    let (old_hidden, new_hidden) = (block_secret_lines(old), block_secret_lines(new));
    let _ = writeln!(out, "--- {old_name}\n+++ {new_name}");
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let _ = writeln!(out, "{}", hunk.header());
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            let line = change.value();
            let text = line.strip_suffix('\n').unwrap_or(line);
            let hidden = match change.tag() {
                ChangeTag::Delete => change.old_index().is_some_and(|i| old_hidden[i]),
                _ => change.new_index().is_some_and(|i| new_hidden[i]),
            };
            if hidden {
                let indent = &text[..text.len() - text.trim_start().len()];
                let _ = writeln!(out, "{sign}{indent}<redacted>");
            } else {
                let _ = writeln!(out, "{sign}{}", r.redact(text));
            }
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
}

/// Every file under `dir`, relative to it, skipping names that start with `.`.
fn list(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let folder = dir.join(&relative);
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound && relative.as_os_str().is_empty() => {
                return Ok(out);
            }
            Err(e) => return Err(read_error(&folder, &e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| read_error(&folder, &e))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = relative.join(entry.file_name());
            let is_dir = entry
                .file_type()
                .map_err(|e| read_error(&dir.join(&path), &e))?
                .is_dir();
            if is_dir {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    Ok(out)
}

fn read_error(path: &Path, e: &std::io::Error) -> IoError {
    IoError {
        action: "read",
        path: path.to_path_buf(),
        reason: io_reason(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_whole_only_when_it_differs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        // Over two blocks, so that the difference lies past the first one.
        let rendered: Vec<u8> = (0..150_000u32).map(|i| (i % 251) as u8).collect();
        let mut changed = rendered.clone();
        *changed.last_mut().unwrap() ^= 1;
        for (disk, same) in [
            (rendered.clone(), true),
            (changed, false),
            (rendered[..rendered.len() - 1].to_vec(), false),
            ([rendered.as_slice(), b"x"].concat(), false),
        ] {
            fs::write(&path, &disk).unwrap();
            match on_disk(&path, &rendered).unwrap() {
                OnDisk::Same => assert!(same),
                OnDisk::Differs(bytes) => assert!(!same && bytes == disk),
            }
        }
        fs::remove_file(&path).unwrap();
        let missing = on_disk(&path, &rendered).err().unwrap();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
    }

    /// A streamed render gives a shared artifact once per target: it is compared once,
    /// and counted once.
    #[test]
    fn a_path_given_again_is_compared_once() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("a.json"), "a\n").unwrap();
        let mut comparison = Comparison::new(out);
        for bytes in ["a\n", "a\n", "changed\n"] {
            comparison.add("a.json".into(), bytes.into()).unwrap();
        }
        comparison.add("b.json".into(), "b\n".into()).unwrap();
        let report = comparison.finish(true, &Redactor::new([], [])).unwrap();
        assert_eq!((report.compared, report.drifted), (2, 1));
        assert!(
            report.diff.contains("+++ b.json (rendered)"),
            "{}",
            report.diff
        );
        assert!(!report.diff.contains("changed"), "{}", report.diff);
    }

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn equal_missing_changed_extra_and_binary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("same.json"), "a\n").unwrap();
        fs::write(out.join("changed.bu"), "a\nb\nc").unwrap();
        fs::write(out.join("stray.txt"), "x").unwrap();
        fs::write(out.join(".gitignore"), "*").unwrap();
        fs::write(out.join("blob.tar.gz"), [0xff, 0]).unwrap();
        let files = [
            file("same.json", "a\n"),
            file("changed.bu", "a\nB\nc"),
            file("missing.yaml", "new\n"),
            file("blob.tar.gz", "\u{0}"),
        ];
        let r = Redactor::new([], []);
        let report = compare(out, files.to_vec(), true, &r).unwrap();
        let o = out.display();
        assert_eq!(
            report.diff,
            format!(
                "Binary files {o}/blob.tar.gz and blob.tar.gz (rendered) differ\n\
                 --- {o}/changed.bu\n+++ changed.bu (rendered)\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n\\ No newline at end of file\n\
                 --- /dev/null\n+++ missing.yaml (rendered)\n@@ -0,0 +1 @@\n+new\n\
                 Only in {o}: stray.txt (not rendered)\n"
            )
        );
        assert_eq!((report.drifted, report.compared), (4, 4));
        let named = compare(out, files[..1].to_vec(), false, &r).unwrap();
        assert_eq!(
            named,
            Report {
                compared: 1,
                ..Report::default()
            }
        );
    }
}
