//! The JSON side: `/json_rpc` (JSON-RPC 2.0, epee's error codes) and the JSON
//! endpoints, answered with monerod 0.18's fields. As epee's serializer does, an empty
//! array is left out of an answer.

use hyper::StatusCode;
use serde_json::{json, Map, Value};

use super::data::{difficulty_fields, now_unix, DataError, DIFFICULTY_TARGET_SECONDS};
use super::limits::*;
use super::{Answer, Api, CORE_RPC_VERSION, STATUS_FAILED, STATUS_OK};
use crate::consensus;

/// `CORE_RPC_ERROR_CODE_WRONG_PARAM`.
pub const ERROR_WRONG_PARAM: i64 = -1;
/// `CORE_RPC_ERROR_CODE_TOO_BIG_HEIGHT`.
pub const ERROR_TOO_BIG_HEIGHT: i64 = -2;
/// `CORE_RPC_ERROR_CODE_INTERNAL_ERROR`.
pub const ERROR_INTERNAL: i64 = -5;
/// `CORE_RPC_ERROR_CODE_RESTRICTED`.
pub const ERROR_RESTRICTED: i64 = -19;
/// JSON-RPC: the body is not JSON (epee: "Parse error").
pub const JSONRPC_PARSE_ERROR: i64 = -32700;
/// JSON-RPC: no `method` (epee: "Invalid Request").
pub const JSONRPC_INVALID_REQUEST: i64 = -32600;
/// JSON-RPC: unknown method, or one `--restricted-rpc` hides (epee: "Method not found").
pub const JSONRPC_METHOD_NOT_FOUND: i64 = -32601;
/// JSON-RPC: `params` do not fit the method (epee: "Invalid params").
pub const JSONRPC_INVALID_PARAMS: i64 = -32602;

/// A JSON-RPC error: code and message.
type RpcError = (i64, String);

/// Routes a JSON URI (`None`: not one of them, or hidden by `--restricted-rpc`).
pub(super) fn route(api: &Api, path: &str, body: &[u8]) -> Option<Answer> {
    if path == "/json_rpc" {
        return Some(json_rpc(api, body));
    }
    let handler: fn(&Api, &Value) -> Value = match path {
        "/get_height" | "/getheight" => get_height,
        "/get_info" | "/getinfo" => |api, _| get_info(api),
        "/get_transactions" | "/gettransactions" => super::txs::get_transactions,
        "/is_key_image_spent" => super::txs::is_key_image_spent,
        "/send_raw_transaction" | "/sendrawtransaction" => super::txs::send_raw_transaction,
        "/get_transaction_pool" => super::txs::get_transaction_pool,
        // monerod 0.18.0 serves the `.bin` name as JSON too (`MAP_URI_AUTO_JON2`), and
        // its wallet calls it so.
        "/get_transaction_pool_hashes" | "/get_transaction_pool_hashes.bin" => {
            super::txs::get_transaction_pool_hashes
        }
        "/get_limit" => get_limit,
        "/get_outs" => super::txs::get_outs,
        "/get_peer_list" if !api.restricted => super::peers::get_peer_list,
        _ => return None,
    };
    let req = match parse_body(body) {
        Some(v) => v,
        None => return Some(Answer::Status(StatusCode::BAD_REQUEST)),
    };
    Some(Answer::Json(to_body(&strip_empty_arrays(handler(
        api, &req,
    )))))
}

fn parse_body(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Value::Object(Map::new()));
    }
    let v: Value = serde_json::from_slice(body).ok()?;
    v.is_object().then_some(v)
}

fn to_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap_or_default()
}

/// epee's JSON writer leaves out empty containers (`serialize_stl_container_t_val`
/// returns before writing one), so monerod's answers never hold `[]`.
pub(super) fn strip_empty_arrays(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !matches!(v, Value::Array(a) if a.is_empty()))
                .map(|(k, v)| (k, strip_empty_arrays(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_empty_arrays).collect()),
        other => other,
    }
}

fn json_rpc(api: &Api, body: &[u8]) -> Answer {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return Answer::Json(to_body(&json!({
            "jsonrpc": "2.0",
            "id": 0,
            "error": {"code": JSONRPC_PARSE_ERROR, "message": "Parse error"},
        })));
    };
    let id = req.get("id").cloned().unwrap_or(json!(0));
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        return Answer::Json(to_body(&json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": JSONRPC_INVALID_REQUEST, "message": "Invalid Request"},
        })));
    };
    let params = req.get("params").cloned().unwrap_or(Value::Null);
    let out = match call(api, method, &params) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": strip_empty_arrays(result)}),
        Err((code, message)) => json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        }),
    };
    Answer::Json(to_body(&out))
}

fn method_not_found() -> RpcError {
    (JSONRPC_METHOD_NOT_FOUND, "Method not found".into())
}

fn invalid_params() -> RpcError {
    (JSONRPC_INVALID_PARAMS, "Invalid params".into())
}

fn internal(e: DataError) -> RpcError {
    tracing::warn!("rpc: {e}");
    (ERROR_INTERNAL, "Internal error".into())
}

/// One JSON-RPC method (with monerod's aliases); restricted ones are "not found" under
/// `--restricted-rpc`, as `MAP_JON_RPC_WE_IF` leaves them out.
fn call(api: &Api, method: &str, params: &Value) -> Result<Value, RpcError> {
    let unrestricted = !api.restricted;
    match method {
        "get_version" => Ok(json!({
            "release": false,
            "status": STATUS_OK,
            "untrusted": false,
            "version": CORE_RPC_VERSION,
        })),
        "get_info" => Ok(get_info(api)),
        "get_block_count" | "getblockcount" => Ok(json!({
            "count": api.reader().view().block_count,
            "status": STATUS_OK,
            "untrusted": false,
        })),
        "on_get_block_hash" | "on_getblockhash" => on_get_block_hash(api, params),
        "get_last_block_header" | "getlastblockheader" => {
            let count = api.reader().view().block_count;
            let b = api.block_at(count.saturating_sub(1)).map_err(internal)?;
            let fill = bool_param(params, "fill_pow_hash")?;
            Ok(header_answer(
                api.header_json(&b, count, fill).map_err(internal)?,
            ))
        }
        "get_block_header_by_hash" | "getblockheaderbyhash" => header_by_hash(api, params),
        "get_block_header_by_height" | "getblockheaderbyheight" => header_by_height(api, params),
        "get_block_headers_range" | "getblockheadersrange" => headers_range(api, params),
        "get_block" | "getblock" => get_block(api, params),
        "hard_fork_info" => {
            let version = u8::try_from(u64_param(params, "version")?).unwrap_or(u8::MAX);
            let mut v = api.hard_fork_info(version).map_err(internal)?;
            if let Some(m) = v.as_object_mut() {
                m.insert("credits".into(), json!(0));
                m.insert("status".into(), json!(STATUS_OK));
                m.insert("top_hash".into(), json!(""));
                m.insert("untrusted".into(), json!(false));
            }
            Ok(v)
        }
        "get_fee_estimate" => {
            let grace = u64_param(params, "grace_blocks")?;
            let ctx = api.chain_ctx().map_err(internal)?;
            let fees = api.fee_estimates(&ctx, grace);
            Ok(json!({
                "credits": 0,
                "fee": fees[0],
                "fees": fees,
                "quantization_mask": consensus::constants::FEE_QUANTIZATION_MASK,
                "status": STATUS_OK,
                "top_hash": "",
                "untrusted": false,
            }))
        }
        "get_output_distribution" => get_output_distribution(api, params),
        "get_txpool_backlog" => {
            let pool = api.pool().unwrap_or_default();
            let now = now_unix();
            let backlog: Vec<Value> = pool
                .iter()
                .map(|t| {
                    json!({"weight": t.weight, "fee": t.fee,
                        "time_in_pool": t.age.as_secs().min(now)})
                })
                .collect();
            Ok(
                json!({"backlog": backlog, "credits": 0, "status": STATUS_OK, "top_hash": "", "untrusted": false}),
            )
        }
        "get_connections" if unrestricted => Ok(json!({
            "connections": super::peers::connections(api),
            "status": STATUS_OK,
            "untrusted": false,
        })),
        "sync_info" if unrestricted => {
            let count = api.reader().view().block_count;
            let target = api
                .shared
                .metrics
                .target_height
                .load(std::sync::atomic::Ordering::Relaxed);
            let peers: Vec<Value> = super::peers::connections(api)
                .into_iter()
                .map(|info| json!({ "info": info }))
                .collect();
            // xmrd's download plan is not monerod's block queue: no `spans`, and the
            // queue overview is the empty one.
            Ok(json!({
                "credits": 0,
                "height": count,
                "next_needed_pruning_seed": 1,
                "overview": "[]",
                "peers": peers,
                "status": STATUS_OK,
                "target_height": if target > count { target } else { 0 },
                "top_hash": "",
                "untrusted": false,
            }))
        }
        "get_bans" if unrestricted => Ok(get_bans(api)),
        "set_bans" if unrestricted => set_bans(api, params),
        "generateblocks" if unrestricted => super::mining::generateblocks(api, params),
        "get_block_template" | "getblocktemplate" => super::mining::get_block_template(api, params),
        "submit_block" | "submitblock" => super::mining::submit_block(api, params),
        _ => Err(method_not_found()),
    }
}

/// `get_bans`: banned hosts (with monerod's `ip` integer for IPv4), then banned subnets
/// (`a.b.c.d/n`, `ip` 0), each with the seconds left.
fn get_bans(api: &Api) -> Value {
    let now = std::time::Instant::now();
    let (hosts, subnets) = api
        .shared
        .bans
        .lock()
        .map(|b| (b.bans(now), b.subnet_bans(now)))
        .unwrap_or_default();
    let seconds = |left: Option<std::time::Duration>| {
        left.map_or(u32::MAX, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
    };
    let mut list: Vec<Value> = hosts
        .iter()
        .map(|(ip, left)| {
            let raw = match ip {
                std::net::IpAddr::V4(v4) => crate::wire::messages::address::ipv4_to_u32(*v4),
                std::net::IpAddr::V6(_) => 0,
            };
            json!({"host": ip.to_string(), "ip": raw, "seconds": seconds(*left)})
        })
        .collect();
    list.extend(
        subnets
            .iter()
            .map(|(s, left)| json!({"host": s.to_string(), "ip": 0, "seconds": seconds(*left)})),
    );
    json!({"bans": list, "status": STATUS_OK, "untrusted": false})
}

/// `set_bans`: each entry bans (for `seconds`) or unbans an IPv4 subnet `a.b.c.d/n`, a
/// host, or (no `host`) an IPv4 address given as monerod's `ip` integer. Banned peers
/// already connected are dropped at their connection's next wake.
fn set_bans(api: &Api, params: &Value) -> Result<Value, RpcError> {
    use crate::node::bans::Ipv4Subnet;
    let list = match params.get("bans") {
        None => Vec::new(),
        Some(v) => v.as_array().cloned().ok_or_else(invalid_params)?,
    };
    let now = std::time::Instant::now();
    for b in &list {
        let host = b.get("host").and_then(Value::as_str).unwrap_or("");
        let ban = b.get("ban").and_then(Value::as_bool).unwrap_or(false);
        let seconds = b.get("seconds").and_then(Value::as_u64).unwrap_or(0);
        let duration = Some(std::time::Duration::from_secs(seconds));
        let Ok(mut bans) = api.shared.bans.lock() else {
            return Err((ERROR_INTERNAL, "Internal error".into()));
        };
        if let Some(subnet) = Ipv4Subnet::parse(host) {
            if ban {
                bans.ban_subnet(subnet, duration, now);
            } else {
                bans.unban_subnet(subnet);
            }
            continue;
        }
        let ip: std::net::IpAddr = if host.is_empty() {
            let raw = b.get("ip").and_then(Value::as_u64).unwrap_or(0);
            if raw == 0 {
                return Err((ERROR_WRONG_PARAM, "No ip/host supplied".into()));
            }
            let raw = u32::try_from(raw).map_err(|_| invalid_params())?;
            std::net::IpAddr::V4(crate::wire::messages::address::ipv4_from_u32(raw))
        } else {
            host.parse().map_err(|_| {
                (
                    ERROR_WRONG_PARAM,
                    "Unsupported host/subnet type".to_string(),
                )
            })?
        };
        if ban {
            bans.ban(ip, duration, now);
        } else {
            bans.unban(ip);
        }
    }
    api.shared
        .ban_epoch
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(json!({"status": STATUS_OK, "untrusted": false}))
}

fn header_answer(header: Value) -> Value {
    json!({
        "block_header": header,
        "credits": 0,
        "status": STATUS_OK,
        "top_hash": "",
        "untrusted": false,
    })
}

/// A u64 parameter (absent: 0; the wrong type: invalid params).
fn u64_param(params: &Value, name: &str) -> Result<u64, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v.as_u64().ok_or_else(invalid_params),
    }
}

fn bool_param(params: &Value, name: &str) -> Result<bool, RpcError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(v) => v.as_bool().ok_or_else(invalid_params),
    }
}

fn hash_hex(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

fn on_get_block_hash(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let Some([h]) = params.as_array().map(Vec::as_slice) else {
        return Err((
            ERROR_WRONG_PARAM,
            "Wrong parameters, expected height".into(),
        ));
    };
    let h = h.as_u64().ok_or_else(invalid_params)?;
    let count = api.reader().view().block_count;
    if h >= count {
        // monerod 0.18 fills the error but returns success: the answer is a zero id.
        return Ok(json!(hex::encode([0u8; 32])));
    }
    let hash = api
        .reader()
        .block_hashes(&[h])
        .map_err(|e| internal(e.into()))?
        .pop()
        .flatten()
        .ok_or_else(|| internal(DataError::Missing(format!("block {h}"))))?;
    Ok(json!(hex::encode(hash)))
}

fn header_by_height(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let h = u64_param(params, "height")?;
    let count = api.reader().view().block_count;
    if h >= count {
        return Err((
            ERROR_TOO_BIG_HEIGHT,
            format!(
                "Requested block height: {h} greater than current top block height: {}",
                count.saturating_sub(1)
            ),
        ));
    }
    let b = api.block_at(h).map_err(internal)?;
    let fill = bool_param(params, "fill_pow_hash")?;
    Ok(header_answer(
        api.header_json(&b, count, fill).map_err(internal)?,
    ))
}

fn height_of(api: &Api, hex: &str) -> Result<u64, RpcError> {
    let Some(hash) = hash_hex(hex) else {
        return Err((
            ERROR_WRONG_PARAM,
            format!("Failed to parse hex representation of block hash. Hex = {hex}."),
        ));
    };
    api.reader()
        .block_heights(&[hash])
        .map_err(|e| internal(e.into()))?
        .pop()
        .flatten()
        .ok_or_else(|| {
            (
                ERROR_INTERNAL,
                format!("Internal error: can't get block by hash. Hash = {hex}."),
            )
        })
}

fn header_by_hash(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let count = api.reader().view().block_count;
    let fill = bool_param(params, "fill_pow_hash")?;
    let one = |hex: &str| -> Result<Value, RpcError> {
        let h = height_of(api, hex)?;
        let b = api.block_at(h).map_err(internal)?;
        api.header_json(&b, count, fill).map_err(internal)
    };
    let mut out = header_answer(Value::Null);
    if let Some(hex) = params
        .get("hash")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out["block_header"] = one(hex)?;
    } else if let Some(m) = out.as_object_mut() {
        m.remove("block_header");
    }
    if let Some(list) = params.get("hashes").and_then(Value::as_array) {
        if api.restricted && list.len() > RESTRICTED_BLOCK_COUNT {
            return Err((
                ERROR_RESTRICTED,
                "Too many block headers requested in restricted mode".into(),
            ));
        }
        if list.len() > RESTRICTED_BLOCK_COUNT * UNRESTRICTED_FACTOR {
            return Err(invalid_params());
        }
        let mut headers = Vec::new();
        for h in list {
            headers.push(one(h.as_str().ok_or_else(invalid_params)?)?);
        }
        out["block_headers"] = Value::Array(headers);
    }
    Ok(out)
}

fn headers_range(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let (start, end) = (
        u64_param(params, "start_height")?,
        u64_param(params, "end_height")?,
    );
    let count = api.reader().view().block_count;
    if start >= count || end >= count || start > end {
        return Err((ERROR_TOO_BIG_HEIGHT, "Invalid start/end heights.".into()));
    }
    let max = if api.restricted {
        RESTRICTED_BLOCK_HEADER_RANGE
    } else {
        RESTRICTED_BLOCK_HEADER_RANGE * UNRESTRICTED_FACTOR as u64
    };
    if end - start > max {
        return Err((ERROR_RESTRICTED, "Too many block headers requested.".into()));
    }
    let fill = bool_param(params, "fill_pow_hash")?;
    let heights: Vec<u64> = (start..=end).collect();
    let blocks = api
        .reader()
        .blocks(&heights)
        .map_err(|e| internal(e.into()))?;
    let mut headers = Vec::with_capacity(blocks.len());
    for b in blocks {
        let b = b.ok_or_else(|| internal(DataError::Missing("block in range".into())))?;
        headers.push(api.header_json(&b, count, fill).map_err(internal)?);
    }
    Ok(json!({
        "credits": 0,
        "headers": headers,
        "status": STATUS_OK,
        "top_hash": "",
        "untrusted": false,
    }))
}

fn get_block(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let count = api.reader().view().block_count;
    let h = match params
        .get("hash")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(hex) => height_of(api, hex)?,
        None => {
            let h = u64_param(params, "height")?;
            if h >= count {
                return Err((
                    ERROR_TOO_BIG_HEIGHT,
                    format!(
                        "Requested block height: {h} greater than current top block height: {}",
                        count.saturating_sub(1)
                    ),
                ));
            }
            h
        }
    };
    let b = api.block_at(h).map_err(internal)?;
    let fill = bool_param(params, "fill_pow_hash")?;
    let header = api.header_json(&b, count, fill).map_err(internal)?;
    let block = monero_oxide::block::Block::read(&mut b.blob.as_slice())
        .map_err(|e| internal(DataError::Missing(format!("stored block {h}: {e}"))))?;
    let tx_hashes: Vec<String> = block.transactions.iter().map(hex::encode).collect();
    Ok(json!({
        "blob": hex::encode(&b.blob),
        "block_header": header,
        "credits": 0,
        "json": super::archive_json::block_json(&block),
        "miner_tx_hash": hex::encode(block.miner_transaction().hash()),
        "status": STATUS_OK,
        "top_hash": "",
        "tx_hashes": tx_hashes,
        "untrusted": false,
    }))
}

/// `get_info` (JSON-RPC and `/get_info`).
pub(super) fn get_info(api: &Api) -> Value {
    match info(api) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!("rpc get_info: {e}");
            json!({"status": STATUS_FAILED, "untrusted": false})
        }
    }
}

fn info(api: &Api) -> Result<Value, DataError> {
    let restricted = api.restricted;
    let ctx = api.chain_ctx()?;
    let view = ctx.view();
    let count = view.block_count;
    let (d, d_top, d_wide) = difficulty_fields(consensus::verify::next_difficulty(&ctx));
    let (c, c_top, c_wide) = difficulty_fields(view.cumulative_difficulty);
    let limits = consensus::verify::weight_limits(&ctx);
    let limit = limits.limit();
    let median = limits.effective_median;
    let stats = &api.shared.stats;
    let sum = |f: fn(&crate::node::ShardStats) -> &std::sync::atomic::AtomicUsize| -> usize {
        stats
            .iter()
            .map(|s| f(s).load(std::sync::atomic::Ordering::Relaxed))
            .sum()
    };
    let (outgoing, incoming) = (sum(|s| &s.outbound), sum(|s| &s.inbound));
    let target = api
        .shared
        .metrics
        .target_height
        .load(std::sync::atomic::Ordering::Relaxed);
    let synchronized = api.synchronized();
    let (white, gray) = super::peers::book_sizes(api);
    let pool_size = api.pool().map_or(0, |p| p.len());
    let choice = api.shared.config.choice;
    use crate::node::NetworkChoice as N;
    let nettype = match choice {
        N::Mainnet => "mainnet",
        N::Testnet => "testnet",
        N::Stagenet => "stagenet",
        N::Regtest => "fakechain",
    };
    let db_size = dir_size(&xmrd_storage::chain_path(&api.shared.config.data_dir));
    let rounded = db_size.div_ceil(5 << 30).saturating_mul(5 << 30);
    Ok(json!({
        "adjusted_time": api.adjusted_time(&ctx),
        "alt_blocks_count": 0,
        "block_size_limit": limit,
        "block_size_median": median,
        "block_weight_limit": limit,
        "block_weight_median": median,
        "bootstrap_daemon_address": "",
        "busy_syncing": !synchronized,
        "credits": 0,
        "cumulative_difficulty": c,
        "cumulative_difficulty_top64": c_top,
        "database_size": if restricted { rounded } else { db_size },
        "difficulty": d,
        "difficulty_top64": d_top,
        "free_space": if restricted { u64::MAX } else { free_space(&api.shared.config.data_dir) },
        "grey_peerlist_size": if restricted { 0 } else { gray },
        "height": count,
        "height_without_bootstrap": if restricted { 0 } else { count },
        "incoming_connections_count": if restricted { 0 } else { incoming },
        "mainnet": choice == N::Mainnet,
        "nettype": nettype,
        "offline": false,
        "outgoing_connections_count": if restricted { 0 } else { outgoing },
        "restricted": restricted,
        "rpc_connections_count": if restricted { 0 } else { api.open.load(std::sync::atomic::Ordering::Relaxed) },
        "stagenet": choice == N::Stagenet,
        "start_time": if restricted { 0 } else { api.start_time },
        "status": STATUS_OK,
        "synchronized": synchronized,
        "target": DIFFICULTY_TARGET_SECONDS,
        "target_height": if synchronized { 0 } else { target },
        "testnet": choice == N::Testnet,
        "top_block_hash": hex::encode(view.top_hash),
        "top_hash": "",
        "tx_count": api.total_txs()?.saturating_sub(count),
        "tx_pool_size": pool_size,
        "untrusted": false,
        "update_available": false,
        "version": if restricted { String::new() } else { format!("0.18.0.0-xmrd-{}", env!("CARGO_PKG_VERSION")) },
        "was_bootstrap_ever_used": false,
        "white_peerlist_size": if restricted { 0 } else { white },
        "wide_cumulative_difficulty": c_wide,
        "wide_difficulty": d_wide,
    }))
}

/// Bytes available to us on the data directory's filesystem (monerod's
/// `get_free_space`: `boost::filesystem::space(data_dir).available`).
fn free_space(dir: &std::path::Path) -> u64 {
    rustix::fs::statvfs(dir).map_or(0, |s| s.f_bavail.saturating_mul(s.f_frsize))
}

/// Bytes of the files under `dir` (one level: RocksDB keeps its files flat).
fn dir_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn get_height(api: &Api, _: &Value) -> Value {
    let view = api.reader().view();
    json!({
        "hash": hex::encode(view.top_hash),
        "height": view.block_count,
        "status": STATUS_OK,
        "untrusted": false,
    })
}

fn get_limit(api: &Api, _: &Value) -> Value {
    // monerod's `--limit-rate-down` default (8192 kB/s; xmrd does not throttle
    // downloads) and xmrd's `--limit-rate-up` (monerod's flag and default, 2048 kB/s).
    let up = api.shared.config.serve_rate / crate::node::serve::KB;
    json!({"limit_down": 8192, "limit_up": up, "status": STATUS_OK, "untrusted": false})
}

fn get_output_distribution(api: &Api, params: &Value) -> Result<Value, RpcError> {
    let amounts: Vec<u64> = match params.get("amounts") {
        None => Vec::new(),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(Value::as_u64).collect())
            .ok_or_else(invalid_params)?,
    };
    if api.restricted && amounts != [0] {
        return Err((
            ERROR_RESTRICTED,
            "Restricted RPC can only get output distribution for rct outputs. Use your own node."
                .into(),
        ));
    }
    let from = u64_param(params, "from_height")?;
    let to = u64_param(params, "to_height")?;
    let cumulative = bool_param(params, "cumulative")?;
    let binary = params
        .get("binary")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let compress = bool_param(params, "compress")?;
    let failed = || {
        (
            ERROR_INTERNAL,
            "Failed to get output distribution".to_string(),
        )
    };
    let mut out = Vec::new();
    for amount in amounts {
        let (start, dist, base) = api
            .output_distribution(amount, from, to, cumulative)
            .map_err(internal)?
            .ok_or_else(failed)?;
        out.push(json!({
            "amount": amount,
            "base": base,
            "binary": binary,
            "compress": compress,
            "distribution": dist,
            "start_height": start,
        }));
    }
    Ok(
        json!({"credits": 0, "distributions": out, "status": STATUS_OK, "top_hash": "", "untrusted": false}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_json_leaves_out_empty_arrays_as_epee_does() {
        let v = strip_empty_arrays(json!({"a": [], "b": [{"c": []}], "d": 1}));
        assert_eq!(v, json!({"b": [{}], "d": 1}));
    }

    #[test]
    fn rpc_json_bodies_must_be_objects_or_empty() {
        assert_eq!(parse_body(b""), Some(json!({})));
        assert_eq!(parse_body(b" \n"), Some(json!({})));
        assert!(parse_body(b"[1]").is_none());
        assert!(parse_body(b"{").is_none());
    }
}
