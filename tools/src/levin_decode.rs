//! `levin-decode`: look inside levin captures.
//!
//! Each file is fed through the same streaming decoder the node uses (in 64 KiB
//! chunks, with the post-handshake packet cap), every message is decoded as its typed
//! struct, and printed as one JSON line: header fields and the body's fields, with
//! strings (blobs) as hex. With `--check-roundtrip`, every message must re-encode to
//! exactly the bytes it came from (for a fragmented message: the reassembled inner
//! packet).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use xmrd::wire::epee::{Limits, Section};
use xmrd::wire::levin::{Command, LevinDecoder, Packet};
use xmrd::wire::limits::MAX_PACKET;
use xmrd::wire::messages::Message;

/// Arguments of `levin-decode`.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Files holding raw levin bytes.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Fail unless every message re-encodes to exactly the bytes it came from.
    #[arg(long)]
    check_roundtrip: bool,
}

const CHUNK_BYTES: usize = 64 * 1024;

/// Returns Ok(false) when a round trip differed; Err when a file could not be read or
/// did not decode.
pub(crate) fn run(args: &Args) -> anyhow::Result<bool> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut all_exact = true;
    for path in &args.files {
        let raw =
            std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut dec = LevinDecoder::new(MAX_PACKET);
        let mut index = 0usize;
        for chunk in raw.chunks(CHUNK_BYTES) {
            dec.push(chunk)
                .with_context(|| format!("{}: after message {index}", path.display()))?;
            while let Some(p) = dec
                .next_packet()
                .with_context(|| format!("{}: message {index}", path.display()))?
            {
                let (line, exact) = describe(&p, args.check_roundtrip)
                    .with_context(|| format!("{}: message {index}", path.display()))?;
                let mut line = line;
                line["file"] = json!(path.display().to_string());
                line["index"] = json!(index);
                writeln!(out, "{line}")?;
                if !exact {
                    eprintln!(
                        "{}: message {index}: re-encoding differs from the original bytes",
                        path.display()
                    );
                    all_exact = false;
                }
                index += 1;
            }
        }
        dec.finish().with_context(|| {
            format!("{}: ends in the middle of message {index}", path.display())
        })?;
        if index == 0 {
            anyhow::bail!("{}: no levin message in the file", path.display());
        }
    }
    out.flush()?;
    Ok(all_exact)
}

fn describe(p: &Packet, check: bool) -> anyhow::Result<(serde_json::Value, bool)> {
    let h = &p.header;
    let kind = if h.is_response() {
        "response"
    } else if h.is_request() {
        "request"
    } else {
        "notify"
    };
    let msg = Message::from_packet(p)?;
    let fields = Section::from_storage(&p.body, Limits::TOOLS)?.to_json();
    // monerod's noise mode pads a body with zeros after the root section; the
    // re-encoding is exact when it equals the body up to that zero padding.
    let enc = msg.to_body();
    let padding = p.body.len().saturating_sub(enc.len());
    let exact = !check || (p.body.starts_with(&enc) && p.body[enc.len()..].iter().all(|&b| b == 0));
    let v = json!({
        "command": h.command,
        "name": Command::from_id(h.command).map(Command::name),
        "kind": kind,
        "have_to_return": h.have_to_return,
        "return_code": h.return_code,
        "flags": h.flags,
        "protocol_version": h.protocol_version,
        "body_len": p.body.len(),
        "fragments": p.fragments,
        "padding": padding,
        "fields": fields,
    });
    Ok((v, exact))
}
