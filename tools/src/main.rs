//! `xmrd-tools`: operators' tools for xmrd.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench_setup;
mod db_info;
mod era_bench;
mod latency_report;
mod levin_decode;
mod p2p_load;
mod relay_bench;
mod rpc_bench;
mod serve_bench;
mod sync_bench;
// The report of `sync-bench --report DIR`: tested here, called once sync-bench samples
// its traces (see the module doc).
mod sync_report;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Operators' tools for xmrd.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Decode files of raw levin bytes (one packet or a captured stream) and print one
    /// JSON object per message.
    LevinDecode(levin_decode::Args),
    /// Measure what idle handshaken peers cost a node (xmrd and/or monerod).
    P2pLoad(p2p_load::Args),
    /// Open a chain store read-only and print its height, top, sizes and invariant check.
    DbInfo(db_info::Args),
    /// Time a fresh monerod and a fresh xmrd syncing one chain from the same monerod.
    SyncBench(sync_bench::Args),
    /// Time `/getblocks.bin` served to a wallet refresh, xmrd against monerod on one chain.
    RpcBench(rpc_bench::Args),
    /// Print per-core latency tables (p50/p90/p99/p99.9/max) from a node snapshot and
    /// render latency-distribution and sync-rate plots (PNG and SVG).
    LatencyReport(latency_report::Args),
    /// Time a new block's hop through a node (xmrd and monerod in the same run):
    /// p50/p99 over many blocks.
    RelayBench(relay_bench::Args),
    /// Serve the chain to a crowd of synthetic syncing peers (xmrd and monerod in the
    /// same run): MB/s, CPU-seconds per GB, and relay latency meanwhile.
    ServeBench(serve_bench::Args),
    /// Time the verification of each era's sample blocks (proof of work, signatures,
    /// range proofs) and project a full mainnet sync on this machine.
    EraBench(era_bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::LevinDecode(a) => levin_decode::run(&a),
        Cmd::P2pLoad(a) => p2p_load::run(&a),
        Cmd::DbInfo(a) => db_info::run(&a),
        Cmd::SyncBench(a) => sync_bench::run(&a),
        Cmd::LatencyReport(a) => latency_report::run(&a),
        Cmd::RpcBench(a) => rpc_bench::run(&a),
        Cmd::RelayBench(a) => relay_bench::run(&a),
        Cmd::ServeBench(a) => serve_bench::run(&a),
        Cmd::EraBench(a) => era_bench::run(&a),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
