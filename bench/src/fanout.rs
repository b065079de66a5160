//! TODO(bench fanout): being written.

use crate::{Opts, Section};

pub async fn run(_opts: &Opts) -> anyhow::Result<Section> {
    anyhow::bail!("bench fanout is not written yet")
}
