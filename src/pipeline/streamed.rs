//! Rendering a fleet while its inventory is read: the reader on a thread of its own, rendering on the caller's.

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use super::{BATCH, RenderedTarget, Resolver, Shared, picked, render_target};
use crate::credentials::{EnvLookup, RegistryCredential};
use crate::inventory::{self, Advice, Inventory, Streamed, Target, Warning};
use crate::{Error, render};

/// Where a streamed render's targets go, in inventory order.
pub trait Stage {
    /// The inventory without its targets, once, before the first target.
    fn begin(&mut self, head: &Inventory) -> Result<(), Error>;
    /// One rendered target, with the target it was rendered from.
    fn add(&mut self, target: &Target, rendered: RenderedTarget) -> Result<(), Error>;
}

/// Renders every target of the inventory at `path` as soon as it is read and valid,
/// handing each to `stage`: parsing, most of a fleet's work, runs beside rendering and
/// writing, and no more than a batch of targets is held. Returns the inventory's
/// warnings and how the render went; `None` when the inventory does not stream
/// (`inventory::stream`) or has a problem, and the render must be done the whole way
/// instead (`load`, then `render_each`), which reports every problem: what `stage` got
/// is then to be dropped. A failing secret, render or write is reported as the whole
/// way would, once the inventory is known to be valid: the first secret that fails,
/// else the first render or write, and each secret is resolved once.
pub fn render_streamed(
    path: &Path,
    advice: Advice,
    env: EnvLookup,
    options: &render::Options,
    stage: &mut dyn Stage,
) -> Option<StreamedRender> {
    std::thread::scope(|scope| {
        // Bounded: a reader ahead of rendering waits instead of holding the fleet.
        let (send, received) = sync_channel(BATCH);
        let reader = scope
            .spawn(move || inventory::stream(path, advice, &mut |item| send.send(item).is_ok()));
        let (outcome, credentials) = render_received(received, env, options, stage);
        let warnings = reader
            .join()
            .expect("reading the inventory does not panic")?;
        Some(StreamedRender {
            warnings,
            outcome,
            credentials,
        })
    })
}

/// How a streamed render of a valid inventory went.
pub struct StreamedRender {
    pub warnings: Vec<Warning>,
    pub outcome: Result<(), Error>,
    /// Each registry the targets used, once, with its secrets resolved: what a
    /// `--check` diff must redact.
    pub credentials: Vec<RegistryCredential>,
}

/// Renders and stages what the reader sends until it ends. After a failure it goes on
/// receiving, so that the reader validates every target: a problem there is reported
/// first, by the whole way. After a render or write failure the secrets of the targets
/// after are still resolved, since a failing secret is reported before it.
fn render_received(
    received: Receiver<Streamed>,
    env: EnvLookup,
    options: &render::Options,
    stage: &mut dyn Stage,
) -> (Result<(), Error>, Vec<RegistryCredential>) {
    let Ok(Streamed::Head(head)) = received.recv() else {
        // The reader stopped before its first target: its outcome says why.
        return (Ok(()), Vec::new());
    };
    // Dropping the receiver stops the reader at its next target.
    if let Err(e) = stage.begin(&head) {
        return (Err(e), Vec::new());
    }
    let mut resolver = Resolver::new(&head, env);
    let template_env = render::environment();
    // Only worth keeping from the second target on: a lone target would hold its
    // documents twice (a 5 MB secret's config is 20 MB).
    let mut shared = None;
    let mut failed: Option<Error> = None;
    let mut secret_failed = false;
    for item in received {
        let Streamed::Target(target) = item else {
            unreachable!("the head comes once, first")
        };
        if secret_failed {
            continue;
        }
        if let Err(e) = resolver.resolve(&target.registries) {
            (failed, secret_failed) = (Some(e.into()), true);
            continue;
        }
        if failed.is_some() {
            continue;
        }
        let registries = picked(&resolver.cache, &target.registries);
        let rendered = render_target(
            &target,
            &registries,
            &template_env,
            shared.as_ref(),
            options,
        );
        shared.get_or_insert_with(Shared::default);
        options.progress.tick();
        if let Err(e) = rendered.and_then(|r| stage.add(&target, r)) {
            failed = Some(e);
        }
    }
    let credentials = resolver.cache.into_iter().flatten().collect();
    (failed.map_or(Ok(()), Err), credentials)
}
