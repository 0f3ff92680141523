//! Document targets: a document written as the target's own output instead of placed on a node.
//!
//! Such a target has no template, no `files`, no `remote` and no variant: its `format:`
//! is a document kind, and what it writes is the document's bytes, mode 0600 like every
//! output file.

use std::path::PathBuf;

/// Where a document target writes one file of its document: `<target>.<extension>`, or
/// `<target>/<name>` for a document made of one file per registry (rkt's `auth.d`).
pub fn output_path(target: &str, extension: &str, file_name: Option<&str>) -> PathBuf {
    match file_name {
        Some(name) => PathBuf::from(target).join(name),
        None => PathBuf::from(format!("{target}.{extension}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_or_a_folder_named_after_the_target() {
        assert_eq!(
            output_path("pull", "json", None),
            PathBuf::from("pull.json")
        );
        assert_eq!(
            output_path("rkt", "json", Some("quay.io.json")),
            PathBuf::from("rkt/quay.io.json")
        );
    }
}
