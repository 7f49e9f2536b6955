# tcn: the two commands of the README, and the steps they are made of.
#
#   make run     install what is missing, build, start the node on built-in defaults
#                (or on CONFIG=path/to/node.toml)
#   make test    install what is missing, then every check CI runs
#   make demo    install what is missing, build (release) and run one whole gateway call on this
#                machine: prints a summary, writes demo-out/vtc-view.png and demo-out/meet-view.png
#
# Cargo commands use --locked: Cargo.lock is committed and CI must build exactly it.

CARGO ?= cargo
CONFIG ?=
DEMO_SECONDS ?= 30
DEMO_PARTICIPANTS ?= 7

.PHONY: run test demo deps build fmt-check clippy unit-tests sans-io-check fuzz-check clean

run: build
	./target/debug/tcn run $(if $(CONFIG),--config $(CONFIG))

test: deps fmt-check clippy unit-tests sans-io-check fuzz-check
	@echo "make test: all checks passed"

# One call: the node (release build) with its embedded meet-sim, synthetic Meet participants and
# a synthetic room system; `tcn demo --help` says more.
demo: deps
	$(CARGO) build --release --locked --bin tcn
	"$${CARGO_TARGET_DIR:-target}/release/tcn" demo --seconds $(DEMO_SECONDS) \
		--participants $(DEMO_PARTICIPANTS) --out demo-out

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

# The fuzz targets are built with cargo-fuzz on nightly (or by fuzz/run.sh on stable); here we
# check that they compile (type-check only: `cargo check` shares what clippy already checked, a
# full build would compile the whole tree a third time), and the */tests/fuzz_corpus.rs tests
# replay their seed corpora on stable.
fuzz-check:
	CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) check --locked --manifest-path fuzz/Cargo.toml --bins

clean:
	$(CARGO) clean
