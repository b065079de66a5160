//! TODO(bench cost): being written.

use crate::{Opts, Section};

pub async fn run(_opts: &Opts) -> anyhow::Result<Section> {
    anyhow::bail!("bench cost is not written yet")
}
