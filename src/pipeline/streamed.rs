//! Rendering a fleet while its inventory is read: the reader on a thread of its own, rendering on the caller's.

use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};

use super::{BATCH, RenderedTarget, Resolver, Shared, picked, render_target};
use crate::credentials::EnvLookup;
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
/// warnings; `None` when the render must be done the whole way instead (`load`, then
/// `render_each`), and what `stage` got dropped: when the inventory does not stream
/// (`inventory::stream`), and on any error, so that the whole way reports exactly the
/// problem it always has, in its order (a validation problem before a secret, a secret
/// before a render). A failing render thus resolves its secrets twice.
pub fn render_streamed(
    path: &Path,
    advice: Advice,
    env: EnvLookup,
    options: &render::Options,
    stage: &mut dyn Stage,
) -> Option<Vec<Warning>> {
    std::thread::scope(|scope| {
        // Bounded: a reader ahead of rendering waits instead of holding the fleet.
        let (send, received) = sync_channel(BATCH);
        let reader = scope
            .spawn(move || inventory::stream(path, advice, &mut |item| send.send(item).is_ok()));
        // Dropping what is left unreceived stops the reader at its next target.
        let rendered = render_received(received, env, options, stage);
        let warnings = reader.join().expect("reading the inventory does not panic");
        rendered.then_some(warnings?)
    })
}

/// Renders and stages what the reader sends until it ends; false on the first error.
fn render_received(
    received: Receiver<Streamed>,
    env: EnvLookup,
    options: &render::Options,
    stage: &mut dyn Stage,
) -> bool {
    let Ok(Streamed::Head(head)) = received.recv() else {
        // The reader stopped before its first target: its outcome says why.
        return true;
    };
    if stage.begin(&head).is_err() {
        return false;
    }
    let mut resolver = Resolver::new(&head, env);
    let template_env = render::environment();
    // Only worth keeping from the second target on: a lone target would hold its
    // documents twice (a 5 MB secret's config is 20 MB).
    let mut shared = None;
    for item in received {
        let Streamed::Target(target) = item else {
            unreachable!("the head comes once, first")
        };
        if resolver.resolve(&target.registries).is_err() {
            return false;
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
        if rendered.and_then(|r| stage.add(&target, r)).is_err() {
            return false;
        }
    }
    true
}
