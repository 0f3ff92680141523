//! What of a registry a document carries (credential, mirrors, CA, client certificate, skip_verify), and the warning for what it leaves out.

use super::{DOCUMENTS, DocumentKind, lookup, sentence};
use crate::credentials::RegistryCredential;
use crate::model::RegistryAddress;

/// What a registry brings besides its address. A document carries some of these: hosts.toml
/// has no place for a password, docker's config.json none for a mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Credential,
    Mirrors,
    Ca,
    ClientCertificate,
    SkipVerify,
}

impl Part {
    /// The part as a message names it.
    pub fn describe(self) -> &'static str {
        match self {
            Part::Credential => "credential",
            Part::Mirrors => "mirrors",
            Part::Ca => "CA",
            Part::ClientCertificate => "client certificate",
            Part::SkipVerify => "skip_verify",
        }
    }

    /// The parts a registry has, in this order: credential, mirrors, CA, client
    /// certificate, skip_verify.
    pub fn present(has: [bool; 5]) -> Vec<Part> {
        let all = [
            Part::Credential,
            Part::Mirrors,
            Part::Ca,
            Part::ClientCertificate,
            Part::SkipVerify,
        ];
        all.into_iter()
            .zip(has)
            .filter(|(_, has)| *has)
            .map(|(p, _)| p)
            .collect()
    }

    pub(super) fn of(r: &RegistryCredential) -> Vec<Part> {
        Part::present([
            r.credential.is_some(),
            !r.mirrors.is_empty(),
            r.tls.ca.is_some(),
            r.tls.client.is_some(),
            r.tls.skip_verify,
        ])
    }
}

/// A warning that `kind` leaves `parts` of the registry at `address` out, naming the
/// documents that carry them; None when it carries them all.
pub fn left_out(kind: DocumentKind, address: &RegistryAddress, parts: &[Part]) -> Option<String> {
    let missing: Vec<Part> = parts
        .iter()
        .copied()
        .filter(|p| !kind.carries().contains(p))
        .collect();
    // A document that carries nothing of registries (a config pointing at another
    // file) leaves nothing out.
    if missing.is_empty() || kind.carries().is_empty() {
        return None;
    }
    let what = sentence(missing.iter().map(|p| p.describe()));
    let them = match missing[..] {
        [Part::Mirrors] => "them",
        [_] => "it",
        _ => "them",
    };
    // Each part goes to the first of the same consumer's documents that carries it;
    // parts none of them carries, to every document that does.
    let mut carriers: Vec<(&str, Vec<Part>)> = Vec::new();
    let mut unplaced = Vec::new();
    for &part in &missing {
        let carrier = kind
            .companions()
            .iter()
            .filter_map(|name| lookup(name).ok())
            .find(|c| c.carries().contains(&part));
        match carrier {
            Some(c) => match carriers.iter_mut().find(|(name, _)| *name == c.name()) {
                Some((_, parts)) => parts.push(part),
                None => carriers.push((c.name(), vec![part])),
            },
            None => unplaced.push(part),
        }
    }
    let mut instead = Vec::new();
    if let ([(name, _)], []) = (&carriers[..], &unplaced[..]) {
        instead.push(format!("{name} can carry {them}"));
    } else {
        for (name, parts) in &carriers {
            let parts = sentence(parts.iter().map(|p| p.describe()));
            instead.push(format!("{name} can carry the {parts}"));
        }
    }
    if !unplaced.is_empty() {
        let all: Vec<&str> = DOCUMENTS
            .iter()
            .filter(|k| unplaced.iter().all(|p| k.carries().contains(p)))
            .map(|k| k.name())
            .collect();
        let parts = match carriers.is_empty() {
            true => them.to_string(),
            false => format!("the {}", sentence(unplaced.iter().map(|p| p.describe()))),
        };
        instead.push(match all.is_empty() {
            true => format!("no document carries {parts} yet"),
            false => format!("{} can carry {parts}", sentence(all.into_iter())),
        });
    }
    Some(format!(
        "{kind} has no place for the {what} of registry {address} and leaves {them} out; {}",
        instead.join("; ")
    ))
}
