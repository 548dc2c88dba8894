//! The `xmrd` binary: parses monerod-style flags (and `--config-file`), sets up logging
//! and runs the node.

use xmrd::node::{config_from, Args, LogFormat};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = match Args::parse_with_config_file(std::env::args().collect()) {
        Ok(a) => a,
        Err(xmrd::node::ConfigFileError::Flags(e)) => e.exit(),
        Err(e) => return Err(e.into()),
    };
    // --log-level wins; else RUST_LOG; else info.
    let level = args
        .log_level
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "info".to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .map_err(|e| anyhow::anyhow!("log filter {level:?}: {e}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(xmrd::node::progress::LogWriter);
    match args.log_format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
    xmrd::node::run(config_from(&args))
}
