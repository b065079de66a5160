//! TODO(bench latency): being written.

use crate::{Opts, Section};

pub async fn run(_opts: &Opts) -> anyhow::Result<Section> {
    anyhow::bail!("bench latency is not written yet")
}
