//! `{exec: [program, arg, …]}` secrets: a program's standard output, each argv run once per regforge run, bounded in time and size.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::fsio::io_reason;
use crate::model::Exec;

/// The most a program may print for a secret.
pub const MAX_OUTPUT: usize = 1 << 20;
/// The most of a failing program's stderr shown in the error.
const MAX_STDERR: usize = 4 << 10;

type Outcome = Result<String, String>;

/// One program's result, filled by the first registry that needs it.
type Slot = Arc<OnceLock<Outcome>>;

/// Results by program (resolved) and arguments: several registries naming the same
/// command share one run, so a password manager asks once.
type Cache = Mutex<HashMap<(PathBuf, Exec), Slot>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The program's output as text, or why there is none. A relative program path with a
/// `/` is relative to `base_dir` (the inventory's folder); a bare name is looked up in
/// PATH. The environment is inherited.
pub fn run(exec: &Exec, base_dir: &Path) -> Outcome {
    let program = &exec.argv[0];
    let resolved = if program.contains('/') {
        base_dir.join(program)
    } else {
        PathBuf::from(program)
    };
    let slot = {
        let mut cache = cache().lock().expect("the cache lock is never poisoned");
        cache
            .entry((resolved.clone(), exec.clone()))
            .or_default()
            .clone()
    };
    slot.get_or_init(|| execute(&resolved, exec)).clone()
}

fn execute(program: &Path, exec: &Exec) -> Outcome {
    let name = &exec.argv[0];
    let mut child = Command::new(program)
        .args(&exec.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{name}`: {}", io_reason(&e)))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    // Read beside the wait: a program blocks once a pipe is full. Past the bound the
    // pipe is closed, and a program still writing ends on EPIPE.
    let out = std::thread::spawn(move || bounded(stdout, MAX_OUTPUT + 1));
    let err = std::thread::spawn(move || bounded(stderr, MAX_STDERR));
    let timeout = Duration::from_secs(exec.timeout_seconds);
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`{name}` did not finish within {} s (set `timeout:` beside `exec:` for a slower program)",
                exec.timeout_seconds
            ));
        }
        Err(e) => return Err(format!("waiting for `{name}`: {}", io_reason(&e))),
    };
    let out = out.join().expect("the reader does not panic");
    let err = err.join().expect("the reader does not panic");
    // First: a program that wrote past the bound was cut off, and failed for that.
    if out.len() > MAX_OUTPUT {
        return Err(format!(
            "`{name}` printed more than {} MiB, more than any secret",
            MAX_OUTPUT >> 20
        ));
    }
    if !status.success() {
        let said = String::from_utf8_lossy(&err);
        let said = said.trim();
        return Err(match said.is_empty() {
            true => format!("`{name}` failed ({status})"),
            false => format!("`{name}` failed ({status}): {said}"),
        });
    }
    let text =
        String::from_utf8(out).map_err(|_| format!("`{name}` printed bytes that are not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(format!("`{name}` printed nothing"));
    }
    Ok(text)
}

/// At most `most` bytes of a pipe; the pipe is closed after them.
fn bounded(pipe: impl Read, most: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = pipe.take(most as u64).read_to_end(&mut out);
    out
}
