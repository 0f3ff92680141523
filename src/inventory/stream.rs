//! Reading the inventory as a stream of targets, so that a fleet's YAML tree is never held whole.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use super::raw::RawTop;
use super::{Advice, FileSpec, Inventory, Registry, SourceMap, Target, Validator, Warning};
use crate::yaml::{self, Step};

/// The top-level key whose entries are streamed.
pub(super) const TARGETS: &str = "targets";

/// What reading the inventory as a stream hands on, in order.
#[derive(Debug)]
pub enum Streamed {
    /// The inventory without its targets, once, before the first target.
    Head(Inventory),
    /// The next valid target.
    Target(Target),
}

/// The inventory read as a stream: the registries written before `targets` are
/// validated first and handed to `send` as the inventory's head, then each target as
/// soon as it is read and valid, so that a fleet's tree is never held whole (a target's
/// tree is ten times its typed form), and a render can work while the rest is read.
/// Returns the warnings at the end; `None` when the stream does not give the
/// inventory, and what was sent must be dropped: any problem (the whole tree then
/// reports every one, in line order, exactly as it would have), registries written
/// after the targets, no targets, or `send` asking to stop by returning false.
pub(super) fn streamed<I: Iterator<Item = char>>(
    path: &Path,
    mut stream: yaml::Stream<'_, I>,
    advice: Advice,
    send: &mut dyn FnMut(Streamed) -> bool,
) -> Option<Vec<Warning>> {
    let Step::Entry(mut node) = stream.read_on().ok()? else {
        // No targets were streamed: the tree is small.
        return None;
    };
    let prelude = SourceMap::new(path, Some(stream.prelude()));
    let raw: RawTop = prelude.deserialize().ok()?;
    let mut v = Validator::new(prelude, path.parent().unwrap_or(Path::new("")), advice);
    let (registries, managed_registries) = v.all_registries(path, &raw).ok()?;
    let registries: Arc<[Registry]> = registries.into();
    let head = Inventory {
        path: path.to_path_buf(),
        registries: registries.clone(),
        targets: Vec::new(),
        managed_registries,
    };
    if !v.problems.is_empty() || !send(Streamed::Head(head)) {
        return None;
    }
    let mut names = BTreeSet::new();
    let mut i = 0;
    loop {
        v.map.focus(format!("targets[{i}]"), node);
        let target = v.target_at(i, &registries, &mut names);
        if !v.problems.is_empty() || !send(Streamed::Target(target?)) {
            return None;
        }
        node = match stream.read_on().ok()? {
            Step::Entry(next) => next,
            Step::End(root) => {
                // What follows the targets must not change what came before.
                let whole: RawTop = SourceMap::new(path, root).deserialize().ok()?;
                let same = whole.registries.len() == raw.registries.len()
                    && whole.managed_registries == raw.managed_registries;
                return same.then_some(v.warnings);
            }
        };
        i += 1;
    }
}

/// The inventory the stream gives, held whole; `None` as for [`streamed`].
pub(super) fn collected(
    path: &Path,
    text: &str,
    advice: Advice,
) -> Option<(Inventory, Vec<Warning>)> {
    let mut head = None;
    let mut targets = Vec::new();
    let stream = yaml::Stream::new(text, yaml::Limits::for_text(text), TARGETS);
    let warnings = streamed(path, stream, advice, &mut |item| {
        match item {
            Streamed::Head(inventory) => head = Some(inventory),
            Streamed::Target(target) => targets.push(target),
        }
        true
    })?;
    let mut inventory = head?;
    inventory.targets = targets;
    Some((inventory, warnings))
}

/// The parts of the target validated last, lent to the next one that has the same: a
/// fleet's targets mostly differ in their names alone, and so share one copy of the rest.
#[derive(Default)]
pub(super) struct Repeats {
    registries: Option<Arc<[usize]>>,
    files: Option<Arc<[FileSpec]>>,
    remote_url: Option<Arc<str>>,
}

impl Repeats {
    pub(super) fn registries(&mut self, selected: Vec<usize>) -> Arc<[usize]> {
        share(&mut self.registries, selected, |new, last| new[..] == *last)
    }

    pub(super) fn files(&mut self, files: Vec<FileSpec>) -> Arc<[FileSpec]> {
        share(&mut self.files, files, |new, last| {
            new.len() == last.len() && new.iter().zip(last).all(|(a, b)| a.same_as(b))
        })
    }

    pub(super) fn remote_url(&mut self, url: String) -> Arc<str> {
        share(&mut self.remote_url, url, |new, last| new[..] == *last)
    }
}

/// `value`, or the last one when they are the same; it is the last one next time.
fn share<T: ?Sized, V: Into<Arc<T>>>(
    last: &mut Option<Arc<T>>,
    value: V,
    same: impl Fn(&V, &T) -> bool,
) -> Arc<T> {
    if let Some(last) = last
        && same(&value, last)
    {
        return last.clone();
    }
    let value: Arc<T> = value.into();
    *last = Some(value.clone());
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{InventoryError, validate, validate_text};

    fn whole(path: &Path, text: &str) -> Result<(Inventory, Vec<Warning>), InventoryError> {
        validate(SourceMap::read(path, text)?, path, Advice::All)
    }

    #[test]
    fn every_fixture_streams_to_what_the_whole_tree_gives() {
        let mut read = 0;
        for dir in std::fs::read_dir("fixtures").unwrap() {
            let path = dir.unwrap().path().join("regforge.yaml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let streamed = collected(&path, &text, Advice::All)
                .unwrap_or_else(|| panic!("{} is read as a stream", path.display()));
            let whole = whole(&path, &text).unwrap();
            assert_eq!(
                format!("{streamed:?}"),
                format!("{whole:?}"),
                "{}",
                path.display()
            );
            read += 1;
        }
        assert!(read >= 9, "{read} fixtures");
    }

    #[test]
    fn every_fixture_streams_from_its_file_as_from_its_text() {
        for dir in std::fs::read_dir("fixtures").unwrap() {
            let path = dir.unwrap().path().join("regforge.yaml");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let mut sent = Vec::new();
            let warnings = crate::inventory::stream(&path, Advice::All, &mut |item| {
                sent.push(format!("{item:?}"));
                true
            });
            let (whole, whole_warnings) = collected(&path, &text, Advice::All).unwrap();
            let head = Inventory {
                targets: Vec::new(),
                ..whole
            };
            assert_eq!(
                sent[0],
                format!("{:?}", Streamed::Head(head)),
                "{}",
                path.display()
            );
            assert_eq!(sent.len(), 1 + whole.targets.len());
            for (sent, target) in sent[1..].iter().zip(&whole.targets) {
                assert_eq!(*sent, format!("Target({target:?})"));
            }
            assert_eq!(
                format!("{warnings:?}"),
                format!("{:?}", Some(whole_warnings))
            );
        }
    }

    const REGISTRY: &str = "registries:\n  - {address: quay.io, username: u, password: {env: P}}\n";
    const TARGETS: &str = "targets:\n  - {name: a, format: docker-config, registries: [quay.io]}\n";

    #[test]
    fn registries_written_after_the_targets_are_read_whole() {
        let path = Path::new("inv.yaml");
        let text = format!("{TARGETS}{REGISTRY}");
        assert!(collected(path, &text, Advice::All).is_none());
        let (inventory, _) = validate_text(path, &text, Advice::All).unwrap();
        assert_eq!(inventory.targets[0].registries[..], [0]);
        // Written first, they stream.
        assert!(collected(path, &format!("{REGISTRY}{TARGETS}"), Advice::All).is_some());
    }

    #[test]
    fn a_problem_is_reported_with_every_other_one_in_line_order() {
        let path = Path::new("inv.yaml");
        let text = format!(
            "{REGISTRY}{TARGETS}  - {{name: b, format: nope}}\n  - {{name: a, format: docker-config}}\nextra: 1\n"
        );
        assert!(collected(path, &text, Advice::All).is_none());
        // The whole tree's reading reports the top-level problem, as it always has.
        let e = validate_text(path, &text, Advice::All).unwrap_err();
        assert_eq!(e.to_string(), whole(path, &text).unwrap_err().to_string());
        assert!(e.to_string().contains("unknown field `extra`"), "{e}");
        let text = text.replace("extra: 1\n", "");
        let e = validate_text(path, &text, Advice::All).unwrap_err();
        let lines: Vec<String> = e.each().iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{e}");
        assert!(lines[0].starts_with("inv.yaml:5:"), "{e}");
        assert!(lines[1].starts_with("inv.yaml:6:"), "{e}");
    }

    #[test]
    fn targets_alike_share_one_copy_of_what_they_repeat() {
        let path = Path::new("inv.yaml");
        let node = |name: &str, user: &str| {
            format!(
                "  - name: {name}\n    format: butane\n    variant: flatcar\n    version: 1.0.0\n    remote: {{url: https://infra.example.com/r/}}\n    files:\n      - {{document: docker-config, path: /home/core/.docker/config.json, user: {user}, delivery: remote}}\n"
            )
        };
        let text = format!(
            "{REGISTRY}targets:\n{}{}{}",
            node("a", "core"),
            node("b", "core"),
            node("c", "other")
        );
        let (inventory, _) = collected(path, &text, Advice::All).unwrap();
        let [a, b, c] = &inventory.targets[..] else {
            panic!("three targets");
        };
        assert!(Arc::ptr_eq(&a.files, &b.files));
        assert!(Arc::ptr_eq(&a.registries, &c.registries));
        assert!(Arc::ptr_eq(
            a.remote_url.as_ref().unwrap(),
            c.remote_url.as_ref().unwrap()
        ));
        // Files placed otherwise are their own.
        assert!(!Arc::ptr_eq(&b.files, &c.files));
        assert_eq!(c.files[0].user.as_deref(), Some("other"));
        assert_eq!(
            format!("{:?}", inventory.targets),
            format!("{:?}", whole(path, &text).unwrap().0.targets)
        );
    }
}
