//! The `xmrd` binary.

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// xmrd, a Monero node daemon.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {}

fn main() -> anyhow::Result<()> {
    let _args = Args::parse();
    anyhow::bail!(
        "xmrd {}: the P2P node is not built yet; this build provides the wire codec \
         (see `xmrd-tools levin-decode`)",
        env!("CARGO_PKG_VERSION")
    )
}
