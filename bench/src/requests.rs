//! TODO(bench requests): being written.

use crate::{Opts, Section};

pub async fn run(_opts: &Opts) -> anyhow::Result<Section> {
    anyhow::bail!("bench requests is not written yet")
}
