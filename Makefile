# tcn: the two commands of the README, and the steps they are made of.
#
#   make run     install what is missing, build, start the node on built-in defaults
#                (or on CONFIG=path/to/node.toml)
#   make test    install what is missing, then every check CI runs
#
# Cargo commands use --locked: Cargo.lock is committed and CI must build exactly it.

CARGO ?= cargo
CONFIG ?=

.PHONY: run test deps build fmt-check clippy unit-tests sans-io-check fuzz-check clean

run: build
	./target/debug/tcn run $(if $(CONFIG),--config $(CONFIG))

test: deps fmt-check clippy unit-tests sans-io-check fuzz-check
	@echo "make test: all checks passed"

deps:
	@deploy/install-deps.sh

build: deps
	$(CARGO) build --locked --bin tcn

fmt-check:
	$(CARGO) fmt --all -- --check

clippy: deps
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit-tests: deps
	$(CARGO) test --locked --workspace

# The protocol and rules crates (signaling, routing, meet) must stay sans-IO: no runtime, no
# HTTP or WebRTC stack, no GStreamer, no CUDA.
sans-io-check:
	CARGO=$(CARGO) .ci/sans-io-check

# The fuzz targets are built with cargo-fuzz on nightly; here we check that they compile and
# the */tests/fuzz_corpus.rs tests replay their seed corpora on stable.
fuzz-check:
	CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) build --locked --manifest-path fuzz/Cargo.toml

clean:
	$(CARGO) clean
