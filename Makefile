# flare-wallet: `make demo` runs the main job end to end, `make test` runs every suite.
# Both install what they need first and skip what is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

ROOT        := $(abspath .)
VENV        := $(ROOT)/.venv
PY          := $(VENV)/bin/python
NODE_TOOLS  := $(ROOT)/tools/node/node_modules/@foundry-rs
ANVIL       := $(NODE_TOOLS)/anvil-linux-amd64/bin/anvil
CAST        := $(NODE_TOOLS)/cast-linux-amd64/bin/cast
NOSTD_TARGET := thumbv7em-none-eabihf
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := swtpm swtpm-tools valgrind pkg-config python3-venv npm

export PATH := $(dir $(ANVIL)):$(dir $(CAST)):$(PATH)
export FLARE_WALLET_ANVIL := $(ANVIL)
export FLARE_WALLET_CAST := $(CAST)
export FLARE_WALLET_PYTHON := $(PY)

.PHONY: test demo deps deps-system deps-rust deps-node deps-python \
        check fmt-check clippy test-rust test-nostd test-differential test-keystore bench clean \
        wheel test-python stubtest lint-python

## ---------------------------------------------------------------- tools

deps: deps-system deps-rust deps-node deps-python

# Debian packages: installed only when one of their commands is missing.
deps-system:
	@missing=""; \
	command -v swtpm >/dev/null || missing="$$missing swtpm swtpm-tools"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	python3 -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

deps-rust:
	@command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@rustup target list --installed 2>/dev/null | grep -qx $(NOSTD_TARGET) || rustup target add $(NOSTD_TARGET)

deps-node: $(ANVIL) $(CAST)
$(ANVIL) $(CAST): tools/node/package.json
	cd tools/node && npm install --no-audit --no-fund --loglevel=error
	@touch $(ANVIL) $(CAST)

deps-python: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## ---------------------------------------------------------------- suites

test: deps check test-rust test-nostd test-differential test-keystore lint-python stubtest test-python
	@echo "make test: every suite passed"

check: fmt-check clippy

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	cargo test --workspace --locked

# The core must build for a bare-metal target with no allocator and no std.
test-nostd:
	cargo build -p wallet-core --no-default-features --target $(NOSTD_TARGET) --locked

# The core against eth-account (and cast where it supports the type), byte for byte.
test-differential:
	@$(MAKE) --no-print-directory deps-python deps-node
	$(PY) -m pytest -q tests/differential

# Keystores: ours decrypted by eth-account and cast, theirs imported by the core.
test-keystore:
	@$(MAKE) --no-print-directory deps-python deps-node
	$(VENV)/bin/ruff check tests/keystore
	$(VENV)/bin/ruff format --check tests/keystore
	$(PY) -m pytest -q tests/keystore

bench:
	cargo bench -p wallet-core

## ---------------------------------------------------------------- python

# The wheel is rebuilt only when a Rust or Python source of it changed.
WHEEL_DIR    := $(ROOT)/target/wheels/flare_wallet
WHEEL_STAMP  := $(VENV)/.flare_wallet-wheel
WHEEL_INPUTS := $(shell find python/src python/python core/src -type f -not -path '*/__pycache__/*' 2>/dev/null) \
                python/Cargo.toml python/pyproject.toml python/README.md core/Cargo.toml Cargo.toml Cargo.lock
PY_SOURCES   := python/python tests/python benchmarks

wheel: $(WHEEL_STAMP)
$(WHEEL_STAMP): $(VENV)/.installed $(WHEEL_INPUTS)
	rm -rf $(WHEEL_DIR)
	$(VENV)/bin/maturin build --quiet --release --locked -m python/Cargo.toml -i $(PY) --out $(WHEEL_DIR)
	$(PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(WHEEL_DIR)/flare_wallet-*.whl
	@touch $@

# Against the installed wheel, a private swtpm per test and one anvil per session.
test-python: deps-python deps-node wheel
	$(PY) -m pytest -q tests/python

stubtest: wheel
	$(PY) -m mypy.stubtest flare_wallet._native
	$(PY) -m mypy --config-file python/pyproject.toml python/python/flare_wallet

lint-python: deps-python
	$(VENV)/bin/ruff check --config python/pyproject.toml $(PY_SOURCES)
	$(VENV)/bin/ruff format --check --config python/pyproject.toml $(PY_SOURCES)

## ---------------------------------------------------------------- main job

demo: deps
	cargo run --quiet --release -p wallet-core --example demo

clean:
	cargo clean
	rm -rf $(VENV) tools/node/node_modules
