//! `registry list|get`: the registries as a table, `Key: value` lines or JSON, never with a password.

use super::*;

/// One registry as `list` and `get` show it: never a password.
#[derive(Serialize)]
pub(super) struct Row {
    registry: String,
    #[serde(rename = "type")]
    kind: &'static str,
    user: Option<String>,
    helper: Option<String>,
    verify_tls: bool,
    email: Option<String>,
    created: Option<String>,
    updated: Option<String>,
    /// The file the registry is defined in.
    source: PathBuf,
    #[serde(skip)]
    pub(super) canonical: String,
}

impl Row {
    /// `User` column: the user name, or `helper:NAME` (a user name never holds `:`).
    fn user_text(&self) -> String {
        match (&self.user, &self.helper) {
            (Some(user), _) => user.clone(),
            (None, Some(helper)) => format!("helper:{helper}"),
            (None, None) => String::new(),
        }
    }
}

pub(super) fn rows(inventory_path: &Path, messages: &mut Vec<Message>) -> Result<Vec<Row>, Error> {
    let inventory = load(inventory_path, messages)?;
    let managed = match &inventory.managed_registries {
        Some(path) => Some((ManagedFile::read_or_empty(path)?, path.clone())),
        None => None,
    };
    let mut rows: Vec<Row> = inventory
        .registries
        .iter()
        .map(|r| {
            let canonical = r.address.canonical();
            let entry = managed.as_ref().and_then(|(file, path)| {
                file.position(&canonical)
                    .map(|i| (&file.registries[i], path))
            });
            let (user, helper) = match &r.login {
                Some(Login::Basic { username, .. } | Login::Token { username, .. }) => {
                    (Some(username.clone()), None)
                }
                Some(Login::Helper { helper, .. }) => (None, Some(helper.clone())),
                None => (None, None),
            };
            Row {
                registry: r.address.to_string(),
                kind: registry_type(&r.address),
                user,
                helper,
                verify_tls: !r.insecure,
                email: r.email.clone(),
                created: entry.map(|(e, _)| e.created.clone()),
                updated: entry.map(|(e, _)| e.updated.clone()),
                source: entry.map_or_else(|| inventory.path.clone(), |(_, p)| p.clone()),
                canonical,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.registry.cmp(&b.registry));
    Ok(rows)
}

pub(super) fn json_text<T: Serialize + ?Sized>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("rows serialise");
    text.push('\n');
    text
}

/// anchore-cli's plain columns: left-aligned, two spaces apart, no trailing blanks.
pub(super) fn table(rows: &[Row]) -> String {
    let header = ["Registry", "Type", "User", "Verify TLS"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.registry.clone(),
                r.kind.to_string(),
                r.user_text(),
                r.verify_tls.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            text.push_str(&format!("{cell:<width$}  ", width = widths[i]));
        }
        format!("{}\n", text.trim_end())
    };
    let mut out = line(header);
    for row in &cells {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    out
}

pub(super) fn details(row: &Row) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "Registry: {}\nType: {}\nUser: {}\nVerify TLS: {}\nCreated: {}\nUpdated: {}\n",
        row.registry,
        row.kind,
        row.user_text(),
        row.verify_tls,
        dash(&row.created),
        dash(&row.updated)
    )
}
