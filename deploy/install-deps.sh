#!/usr/bin/env bash
# Installs what tcn needs to build, test and run on Debian 12, skipping what is present.
# Called by `make run` and `make test`; safe to run again. Needs root (or sudo) only when
# something is missing.
set -euo pipefail

# Build: Rust needs pkg-config and a C toolchain; the GStreamer bindings need the -dev packages.
# Run: the media plan's elements (pipelines/src/plan.rs names the package of each one).
# Tests: iproute2/util-linux for loopback-only network namespaces; curl for the README checks;
# sip-tester (SIPp) for the SIP end-to-end scenarios in node/tests/sipp/; baresip (with its
# ffmpeg codecs for H.264) as a real VTC calling over UDP, TCP and TLS with SDES-SRTP;
# chromium, driven by Node.js and playwright-core (meet-sim/tests/browser/), as a real WebRTC
# client of meet-sim; espeak-ng speaks the Virtual Reception's prompts
# (node/assets/prompts/make-prompts.sh).
PACKAGES=(
  pkg-config build-essential git ca-certificates curl
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice
  iproute2 util-linux
  sip-tester baresip-core baresip-ffmpeg
  chromium nodejs npm
  espeak-ng
)

# Packages that count as present when their command is: a Node.js from elsewhere (e.g.
# NodeSource's nodejs, which bundles npm and conflicts with Debian's npm package).
declare -A COMMAND_OF=([nodejs]=node [npm]=npm)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ -n "${COMMAND_OF[$pkg]:-}" ]] && command -v "${COMMAND_OF[$pkg]}" >/dev/null; then
    continue
  fi
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
  elif command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    echo "install-deps: run as root, or install: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  "${SUDO[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Rust: the workspace uses edition 2024 (Rust >= 1.95). Debian 12's own cargo is too old, so a
# rustup toolchain is expected; it cannot be fetched here, only checked.
if ! command -v cargo >/dev/null; then
  echo "install-deps: cargo not found. Install Rust >= 1.95 with rustup (https://rustup.rs)," >&2
  echo "              then run this again." >&2
  exit 1
fi
for component in fmt clippy; do
  if ! cargo "$component" --version >/dev/null 2>&1; then
    if command -v rustup >/dev/null; then
      rustup component add "$([[ $component == fmt ]] && echo rustfmt || echo clippy)"
    else
      echo "install-deps: cargo $component is missing and rustup is not available" >&2
      exit 1
    fi
  fi
done

# The browser tests' Node.js packages (playwright-core only; it downloads no browser): installed
# from the committed lock file, again only when that lock file changed since the last install.
BROWSER_DIR="$(dirname "$0")/../meet-sim/tests/browser"
STAMP="$BROWSER_DIR/node_modules/.tcn-package-lock.json"
if ! cmp -s "$BROWSER_DIR/package-lock.json" "$STAMP"; then
  echo "install-deps: npm ci in meet-sim/tests/browser"
  npm ci --prefix "$BROWSER_DIR" --no-audit --no-fund --loglevel=error >/dev/null
  cp "$BROWSER_DIR/package-lock.json" "$STAMP"
fi
