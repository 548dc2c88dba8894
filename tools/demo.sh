#!/usr/bin/env bash
# The node on a local regtest demo, with no network needed: starts a regtest monerod
# (Debian's `monero` package) on 127.0.0.1:48080 serving the shared 2000-block chain,
# then runs xmrd on 127.0.0.1:48100 connected to it, in the foreground: xmrd syncs and
# verifies the chain from monerod (progress in the log), then stays in sync. Ctrl-C
# stops xmrd; monerod is stopped on exit.
#
#   ./tools/demo.sh [extra xmrd flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${XMRD_SHARED:-$(pwd)/../shared}"
rp="$shared/realpeer"
[ -d "$rp" ] || { echo "demo: $rp not found (set XMRD_SHARED)"; exit 1; }
if ! command -v monerod >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq monero xz-utils python3 >/dev/null
fi
work="$(mktemp -d /tmp/xmrd-demo.XXXXXX)"
"$rp/import-chain.sh" "$rp/chains/regtest-2000b-300tx.lmdb.xz" "$work/chain" >/dev/null
"$rp/serve-monerod.sh" start "$work/chain" "$work/serve"
trap '"$rp/serve-monerod.sh" stop "$work/serve"; rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmrd-target}"
cargo build --release --bin xmrd
echo "xmrd: regtest, P2P 127.0.0.1:48100, dialling monerod at 127.0.0.1:48080 (Ctrl-C to stop)"
"$CARGO_TARGET_DIR/release/xmrd" --regtest --fixed-difficulty 1 --p2p-bind-ip 127.0.0.1 --p2p-bind-port 48100 \
  --add-exclusive-node 127.0.0.1:48080 --data-dir "$work/xmrd" "$@"
