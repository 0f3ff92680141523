//! Validating how a registry logs in: username + password, an identity token, a credential helper, or not at all.

use super::raw::RawRegistry;
use super::{InventoryError, Login, RegistryAddress, Rule, Validator};
use crate::credentials::{SecretRef, SecretSource};

impl Validator<'_> {
    pub(super) fn login(
        &mut self,
        at: &str,
        address: &RegistryAddress,
        r: RawRegistry,
    ) -> Result<Option<Login>, InventoryError> {
        let aws = match (r.aws_access_key_id, r.aws_secret_access_key) {
            (Some(id), Some(key)) => Some((
                self.secret(&format!("{at}.aws_access_key_id"), id),
                self.secret(&format!("{at}.aws_secret_access_key"), key),
            )),
            (None, None) => None,
            (Some(_), None) => {
                return self.error(
                    &format!("{at}.aws_access_key_id"),
                    "give aws_secret_access_key beside aws_access_key_id",
                );
            }
            (None, Some(_)) => {
                return self.error(
                    &format!("{at}.aws_secret_access_key"),
                    "give aws_access_key_id beside aws_secret_access_key",
                );
            }
        };
        if let Some(helper) = r.helper {
            if r.username.is_some() || r.password.is_some() || r.identity_token.is_some() {
                return self.error(
                    &format!("{at}.helper"),
                    "a registry with a helper has no username, password or identity_token: the helper supplies them",
                );
            }
            let helper_ok = !helper.is_empty()
                && helper
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !helper_ok {
                return self.error(
                    &format!("{at}.helper"),
                    "a helper is the suffix of a docker-credential-* program, e.g. ecr-login",
                );
            }
            let token = match r.token {
                None => None,
                Some(reference) => match address.token_username() {
                    Some(username) => {
                        self.warn(
                            Rule::ExpiringToken,
                            &format!("{at}.token"),
                            "a registry token expires (ECR's after 12 hours, Google's after one): documents that carry it must be rendered again before then",
                        );
                        let token = self.secret(&format!("{at}.token"), reference);
                        Some((username, Box::new(token)))
                    }
                    None => {
                        return self.error(
                            &format!("{at}.token"),
                            "a token is for ECR, Google (gcr.io, *.pkg.dev) and Azure (*.azurecr.io) registries, whose token usernames regforge knows",
                        );
                    }
                },
            };
            if aws.is_some() && !address.is_ecr() {
                return self.error(
                    &format!("{at}.aws_access_key_id"),
                    "AWS keys are for ECR registries (<account>.dkr.ecr.<region>.amazonaws.com), whose passwords Drone fetches with them",
                );
            }
            return Ok(Some(Login::Helper { helper, aws, token }));
        }
        if r.token.is_some() {
            return self.error(
                &format!("{at}.token"),
                "a token goes with `helper`: documents that run the helper use it, the others the token",
            );
        }
        if aws.is_some() {
            return self.error(
                &format!("{at}.aws_access_key_id"),
                "AWS keys go with `helper: ecr-login`, which docker uses on nodes; Drone uses the keys",
            );
        }
        if r.username.is_none() && r.password.is_none() && r.identity_token.is_none() {
            // A registry that only brings mirrors or TLS settings; `registry` checks it
            // brings one of them.
            return Ok(None);
        }
        let username = match r.username {
            Some(u) if !u.is_empty() && !u.contains(':') => u,
            Some(_) => {
                return self.error(
                    &format!("{at}.username"),
                    "the username must be non-empty and without `:` (consumers split user:password at the first `:`)",
                );
            }
            None => {
                return self.error(
                    at,
                    "missing field `username`; give username and password (or identity_token), or helper",
                );
            }
        };
        match (r.password, r.identity_token) {
            (Some(password), None) => {
                if address.is_ecr() {
                    self.warn(
                        Rule::StaticEcrPassword,
                        &format!("{at}.password"),
                        "an ECR password expires 12 hours after `aws ecr get-login-password` printed it; prefer `helper: ecr-login`, with `token:` for consumers that run no helper",
                    );
                }
                Ok(Some(Login::Basic {
                    username,
                    password: self.secret(&format!("{at}.password"), password),
                }))
            }
            (None, Some(token)) => Ok(Some(Login::Token {
                username,
                identity_token: self.secret(&format!("{at}.identity_token"), token),
            })),
            (Some(_), Some(_)) => self.error(
                &format!("{at}.identity_token"),
                "give password or identity_token, not both",
            ),
            (None, None) => self.error(
                at,
                "missing field `password`; write password: {env: NAME} or {file: PATH}",
            ),
        }
    }

    /// A secret reference with its origin; a value written in the inventory itself warns.
    fn secret(&mut self, field: &str, reference: SecretRef) -> SecretSource {
        if matches!(reference, SecretRef::Literal(_)) {
            let name = field.rsplit('.').next().unwrap_or(field);
            self.warn(
                Rule::LiteralSecret,
                field,
                format!(
                    "the {name} is written in the inventory; prefer {{env: NAME}} or {{file: PATH}}"
                ),
            );
        }
        SecretSource {
            reference,
            origin: self.map.origin(field),
        }
    }
}
