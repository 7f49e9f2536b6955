#!/usr/bin/env bash
# Coverage-guided fuzzing on stable Rust, without cargo-fuzz or nightly.
#
#   fuzz/run.sh TARGET [SECONDS]      e.g.  fuzz/run.sh sip_message 600
#
# cargo-fuzz's instrumentation is made of stable codegen flags (sancov passes and LLVM options);
# only its sanitizer (-Zsanitizer=address) needs nightly, and safe Rust needs it least. The
# explicit --target keeps build scripts uninstrumented, as cargo-fuzz does. Seeds come from
# fuzz/corpus-seed/<dir>; the working corpus and any crash go to target/fuzz-work/.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
seconds=${2:-60}
case "$target" in
  config) seeds=config ;;
  alias) seeds=alias ;;
  sdp) seeds=sdp ;;
  sip_dialog) seeds=dialog ;;
  srtp) seeds=srtp ;;
  meet_offer) seeds=meet_offer ;;
  meet_vp8) seeds=meet_vp8 ;;
  meet_channel) seeds=meet_channel ;;
  rtp_receive) seeds=rtp_receive ;;
  rtcp_compound) seeds=rtcp_compound ;;
  h264_guard) seeds=h264_guard ;;
  *) seeds=sip ;;
esac
export RUSTFLAGS="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=4 \
  -C llvm-args=-sanitizer-coverage-inline-8bit-counters -C llvm-args=-sanitizer-coverage-pc-table \
  -C llvm-args=-sanitizer-coverage-trace-compares -C debug-assertions -C overflow-checks --cfg fuzzing"
export CARGO_TARGET_DIR=target/fuzz-build
triple=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release --locked --target "$triple" --manifest-path fuzz/Cargo.toml --bin "$target"
work=target/fuzz-work/$target
mkdir -p "$work/corpus"
cp -n fuzz/corpus-seed/$seeds/* "$work/corpus/" 2>/dev/null || true
exec "$CARGO_TARGET_DIR/$triple/release/$target" "$work/corpus" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/crash-"
