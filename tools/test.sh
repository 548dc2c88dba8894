#!/usr/bin/env bash
# The test command: installs what the build and the tests need on a fresh Debian 12
# machine that has Rust and apt, then runs every check CI runs.
#
#   ./tools/test.sh            # format, lints, the whole test suite (release), fuzz smoke
#   XMRD_FUZZ_SECS=0 ./tools/test.sh   # without the fuzz smoke run
#
# The cargo target directory lives outside the checkout (CARGO_TARGET_DIR, default
# ~/.cache/xmrd-target) so that repeated runs, and CI runs in fresh clones, reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: monero (the real peer for interop tests), python3 and xz-utils (the
# shared/realpeer scripts), pkg-config, cmake and clang/libclang (native crates),
# fonts-dejavu-core (the font of the latency-report and sync-bench plots).
PACKAGES=(monero python3 xz-utils pkg-config cmake clang libclang-dev fonts-dejavu-core)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xmrd-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --release -- -D warnings
echo "== cargo test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --workspace --release 2>&1 | tee "$log"
read -r passed failed < <(awk '/^test result:/ {
  for (i = 2; i <= NF; i++) { if ($i == "passed;") p += $(i-1); if ($i == "failed;") f += $(i-1) }
} END { print p + 0, f + 0 }' "$log")

secs="${XMRD_FUZZ_SECS:-20}"
if [ "$secs" -gt 0 ]; then
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
  fi
  for t in epee_storage levin_stream p2p_message rpc_request; do
    echo "== fuzz smoke: $t (${secs}s)"
    ./fuzz/run.sh "$t" "$secs" 2>&1 | grep -E "^(Done|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY)" || true
    test "${PIPESTATUS[0]}" -eq 0
  done
fi
echo "== all checks passed"
echo "tests: $passed passed, $failed failed"
