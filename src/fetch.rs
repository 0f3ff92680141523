//! `check --fetch`: what a hosted artifact's URL serves, hashed as a node's Ignition would check it.

use std::time::Duration;

use crate::model::Sha512Hash;

/// The most of one artifact read: auth files are small.
const MAX_ARTIFACT: u64 = 16 << 20;

/// The sha512 of what `url` serves, or why it cannot be fetched (a status, a transport
/// error). Only http(s) URLs are fetched; others (tftp, s3, gs) are not checked.
pub fn served_hash(url: &str) -> Option<Result<Sha512Hash, String>> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return None;
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let result = agent
        .get(url)
        .call()
        .map_err(|e| e.to_string())
        .and_then(|mut response| {
            let status = response.status().as_u16();
            if status != 200 {
                return Err(format!("HTTP status {status}"));
            }
            response
                .body_mut()
                .with_config()
                .limit(MAX_ARTIFACT)
                .read_to_vec()
                .map_err(|e| e.to_string())
        });
    Some(result.map(|bytes| Sha512Hash::of(&bytes)))
}
