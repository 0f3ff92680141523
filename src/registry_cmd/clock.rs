//! RFC 3339 UTC times for `Created` and `Updated`.

/// Now as RFC 3339 UTC with whole seconds (`2025-01-02T03:04:05Z`).
pub(super) fn now_rfc3339() -> String {
    format_utc(jiff::Timestamp::now())
}

#[cfg(test)]
pub(super) fn rfc3339(unix_seconds: i64) -> String {
    format_utc(jiff::Timestamp::from_second(unix_seconds).expect("a time in jiff's range"))
}

// Whole seconds: the fields are for people reading the inventory, and a fraction would
// make every `registry update` rewrite a line nobody compares at that precision.
fn format_utc(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}
