//! TODO(bench start): being written.

use crate::{Opts, Section};

pub async fn run(_opts: &Opts) -> anyhow::Result<Section> {
    anyhow::bail!("bench start is not written yet")
}
