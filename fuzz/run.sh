#!/usr/bin/env bash
# Seeds and runs one fuzz target: fuzz/run.sh TARGET SECONDS
# Seeds come from ../shared/vectors when present (never copied into the repo).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$1"; secs="${2:-60}"
shared="${XMRD_SHARED:-$here/../../shared}"
corpus="$here/corpus/$target"
mkdir -p "$corpus"
if [ -d "$shared/vectors" ]; then
  case "$target" in
    epee_storage)
      cp -n "$shared"/vectors/epee/*.bin "$corpus"/ 2>/dev/null || true ;;
    levin_stream)
      for f in "$shared"/vectors/levin/*.bin; do
        { printf '\x00'; cat "$f"; } > "$corpus/$(basename "$f")"
      done ;;
    p2p_message)
      # selector byte (command index, 0x80 for responses) + body (packet minus header)
      ids=(1001 1002 1003 1007 2001 2002 2003 2004 2006 2007 2008 2009 2010)
      for f in "$shared"/vectors/levin/*.bin; do
        cmd=$(basename "$f" .bin | awk -F_ '{print $3}')
        for i in "${!ids[@]}"; do [ "${ids[$i]}" = "$cmd" ] && idx=$i; done
        flags=$(od -An -tu4 -j25 -N4 "$f" | tr -d ' ')
        sel=$idx; [ "$flags" = 2 ] && sel=$((idx + 128))
        { printf "\\x$(printf %02x "$sel")"; tail -c +34 "$f"; } > "$corpus/$(basename "$f")"
      done ;;
  esac
fi
cd "$here/.."
# Reuse the build cache outside the checkout when there is one (see tools/test.sh).
tdir=()
[ -n "${CARGO_TARGET_DIR:-}" ] && tdir=(--target-dir "$CARGO_TARGET_DIR/fuzz")
RUSTC_BOOTSTRAP=1 cargo fuzz run "${tdir[@]}" "$target" "$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1
