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
# solc-js: compiles the token contracts the end-to-end tests deploy (tests/contracts).
SOLCJS      := $(ROOT)/tools/node/node_modules/solc/soljson.js
NOSTD_TARGET := thumbv7em-none-eabihf
# The firmware example's second board (lm3s6965evb) is a Cortex-M3.
FIRMWARE_TARGETS := thumbv7em-none-eabihf thumbv7m-none-eabi
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := swtpm swtpm-tools valgrind pkg-config python3-venv npm

export PATH := $(dir $(ANVIL)):$(dir $(CAST)):$(PATH)
export FLARE_WALLET_ANVIL := $(ANVIL)
export FLARE_WALLET_CAST := $(CAST)
export FLARE_WALLET_PYTHON := $(PY)

.PHONY: test demo deps deps-system deps-rust deps-node deps-python \
        check fmt-check clippy test-rust test-nostd test-differential test-keystore bench clean \
        wheel test-python stubtest lint-python bench-python test-web3-versions \
        ffi header header-check deps-cbindgen test-c wallet.pc fuzz-smoke test-fuzz deps-fuzz \
        deps-firmware firmware test-firmware clippy-firmware footprint \
        signer signer-release test-signer bench-signer demo-signer

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

# The firmware example: QEMU's Arm system emulator, the Arm binutils (size,
# nm), and both bare-metal Rust targets.
deps-firmware: deps-rust
	@missing=""; \
	command -v qemu-system-arm >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v arm-none-eabi-size >/dev/null || missing="$$missing binutils-arm-none-eabi"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@for target in $(FIRMWARE_TARGETS); do \
	  rustup target list --installed 2>/dev/null | grep -qx $$target || rustup target add $$target; \
	done

# cargo-fuzz and the nightly toolchain it builds with. cargo-fuzz is pinned:
# its sanitizer flags follow the nightly it was written for.
CARGO_FUZZ_VERSION := 0.13.2
deps-fuzz:
	@cargo +nightly --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)

deps-node: $(ANVIL) $(CAST) $(SOLCJS)
$(ANVIL) $(CAST) $(SOLCJS): tools/node/package.json
	cd tools/node && npm install --no-audit --no-fund --loglevel=error
	@touch $(ANVIL) $(CAST) $(SOLCJS)

deps-python: $(VENV)/.installed
$(VENV)/.installed: requirements-dev.txt
	[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

## ---------------------------------------------------------------- suites

test: deps check test-rust test-nostd test-firmware test-differential test-keystore lint-python stubtest \
      test-python test-web3-versions test-signer header-check test-c test-fuzz
	@echo "make test: every suite passed"

check: fmt-check clippy

fmt-check:
	cargo fmt --all -- --check
	cd examples/cortex-m && cargo fmt -- --check

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

# The wheel is rebuilt only when a Rust or Python source of it changed. The
# tests use the `release` profile, which shares its dependency builds with the
# C library's; the benchmarks (and a wheel to ship: `make wheel
# WHEEL_PROFILE=wheel`) use the `wheel` profile (release, fat LTO, one codegen
# unit), a few per cent faster and minutes slower to build.
WHEEL_PROFILE ?= release
WHEEL_DIR    := $(ROOT)/target/wheels/flare_wallet
WHEEL_STAMP  := $(VENV)/.flare_wallet-wheel-$(WHEEL_PROFILE)
WHEEL_INPUTS := $(shell find python/src python/python core/src -type f -not -path '*/__pycache__/*' 2>/dev/null) \
                python/Cargo.toml python/pyproject.toml python/README.md core/Cargo.toml Cargo.toml Cargo.lock
PY_SOURCES   := python/python tests/python tests/signer tests/support benchmarks examples/signer

wheel: $(WHEEL_STAMP)
$(WHEEL_STAMP): $(VENV)/.installed $(WHEEL_INPUTS)
	rm -rf $(WHEEL_DIR)
	$(VENV)/bin/maturin build --quiet --profile $(WHEEL_PROFILE) --locked -m python/Cargo.toml -i $(PY) --out $(WHEEL_DIR)
	$(PY) -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps $(WHEEL_DIR)/flare_wallet-*.whl
	@rm -f $(VENV)/.flare_wallet-wheel-*
	@touch $@

# Against the installed wheel, a private swtpm per test and one anvil per session.
# Two workers (pytest-xdist): each test has its own swtpm and state directory,
# and each worker its own anvil, so the suite halves on two cores.
PYTEST_WORKERS ?= 2
test-python: deps-python deps-node wheel
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) tests/python

stubtest: wheel
	$(PY) -m mypy.stubtest flare_wallet._native
	$(PY) -m mypy --config-file python/pyproject.toml python/python/flare_wallet
	$(PY) -m mypy --strict --no-incremental tests/python/typing/flaretrade_shaped.py

# The web3 paths under other web3 / eth-account releases, each in a venv of its own:
# web3 8 (the current release) and web3 7.8.0 with eth-account 0.13.5 (FlareTrade's lock).
WEB3_VENVS := $(ROOT)/.venv-web3-8 $(ROOT)/.venv-web3-7.8
WEB3_TESTS := tests/python/test_web3_signing.py tests/python/test_async.py
$(ROOT)/.venv-web3-%/.installed: requirements-web3-%.txt
	[ -x $(@D)/bin/python ] || python3 -m venv $(@D)
	$(@D)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

test-web3-versions: deps-node wheel $(addsuffix /.installed,$(WEB3_VENVS))
	@for venv in $(WEB3_VENVS); do \
	  $$venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
	    $(WHEEL_DIR)/flare_wallet-*.whl; \
	  echo "$$($$venv/bin/python -c 'import web3, eth_account; print("web3", web3.__version__, "eth-account", eth_account.__version__)')"; \
	  $$venv/bin/python -m pytest -q $(WEB3_TESTS) tests/python/test_flaretrade_dropin.py; \
	done

# Python signing next to eth-account and coincurve (figures in BENCHMARKS.md).
bench-python:
	@$(MAKE) --no-print-directory wheel WHEEL_PROFILE=wheel
	$(PY) benchmarks/bench_sign.py

lint-python: deps-python
	$(VENV)/bin/ruff check --config python/pyproject.toml $(PY_SOURCES)
	$(VENV)/bin/ruff format --check --config python/pyproject.toml $(PY_SOURCES)

## ---------------------------------------------------------------- signing service

# flare-wallet-signer (signer/): the wallet as a separate JSON-RPC service.
SIGNER_DEBUG   := $(ROOT)/target/debug/flare-wallet-signer
SIGNER_RELEASE := $(ROOT)/target/release/flare-wallet-signer
SIGNER_LOAD    := $(ROOT)/target/release/flare-wallet-signer-load

signer:
	cargo build -p wallet-signer --locked

signer-release:
	cargo build --release -p wallet-signer --locked

# The service against real swtpm, anvil, web3.py, cast and eth-account: isolation
# between OS users (as root, as CI runs), clients over IPC and HTTP, 32 concurrent
# sends, kill -9 and swtpm faults, bad input and slow clients (tests/signer).
test-signer: deps-python deps-node wheel signer
	FLARE_WALLET_SIGNER=$(SIGNER_DEBUG) $(PY) -m pytest -q tests/signer

# eth_signTransaction over IPC and HTTP with the load generator, next to in-process
# Python signing (figures in BENCHMARKS.md). Never part of `make test`.
bench-signer: deps-python wheel signer-release
	FLARE_WALLET_SIGNER=$(SIGNER_RELEASE) FLARE_WALLET_SIGNER_LOAD=$(SIGNER_LOAD) \
	  $(PY) benchmarks/bench_signer.py

# swtpm, anvil and the signer; a transfer with `cast send --unlocked` and a contract
# call with web3.py over IPC; everything stopped at the end.
demo-signer: deps-python deps-node signer
	FLARE_WALLET_SIGNER=$(SIGNER_DEBUG) $(PY) examples/signer/demo.py

## ---------------------------------------------------------------- C ABI (libwallet)

# libwallet.so / libwallet.a, include/wallet.h and wallet.pc. The library is
# built in its own target directory so that its profile settings do not
# rebuild anything else:
# - dependencies without overflow checks: in k256's field arithmetic they
#   are (never taken) jumps on secret data, exactly what the constant-time
#   test looks for; the workspace crates keep theirs;
# - line and inline debug information, so valgrind can name call sites.
CBINDGEN_VERSION := 0.29.4
C_TARGET_DIR := $(ROOT)/target/c
C_LIB_DIR    := $(C_TARGET_DIR)/release
FFI_CARGO    := CARGO_TARGET_DIR=$(C_TARGET_DIR) cargo
FFI_FLAGS    := --release --locked -p wallet-ffi \
                --config 'profile.release.package."*".overflow-checks=false' \
                --config 'profile.release.debug="limited"'
# What a static link needs besides libwallet.a (rustc --print native-static-libs).
WALLET_STATIC_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
PREFIX ?= /usr/local
WALLET_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

ffi:
	$(FFI_CARGO) build $(FFI_FLAGS)

# cbindgen is pinned: another version may write a different header.
deps-cbindgen:
	@cbindgen --version 2>/dev/null | grep -q '^cbindgen 0\.29\.' || \
	  cargo install cbindgen --version $(CBINDGEN_VERSION) --locked

header: deps-cbindgen
	cbindgen --quiet --config ffi/cbindgen.toml --crate wallet-ffi --output include/wallet.h

# The committed header must be exactly what cbindgen writes from the sources.
header-check: deps-cbindgen
	@tmp=$$(mktemp --suffix=.h); trap 'rm -f "$$tmp"' EXIT; \
	cbindgen --quiet --config ffi/cbindgen.toml --crate wallet-ffi --output "$$tmp"; \
	if ! diff -u include/wallet.h "$$tmp"; then \
	  echo "include/wallet.h is stale: run 'make header' and commit it"; exit 1; \
	fi; echo "include/wallet.h matches the sources"

# pkg-config file for an install under $(PREFIX) (libwallet in lib/, wallet.h
# in include/); the C tests point it at the build tree with --define-variable.
wallet.pc: $(C_LIB_DIR)/wallet.pc
$(C_LIB_DIR)/wallet.pc: Cargo.toml Makefile
	@mkdir -p $(C_LIB_DIR)
	@printf '%s\n' \
	  'prefix=$(PREFIX)' \
	  'libdir=$${prefix}/lib' \
	  'includedir=$${prefix}/include' \
	  '' \
	  'Name: wallet' \
	  'Description: flare-wallet Ethereum signing core with TPM 2.0 key custody (C ABI)' \
	  'Version: $(WALLET_VERSION)' \
	  'Cflags: -I$${includedir}' \
	  'Libs: -L$${libdir} -lwallet' \
	  'Libs.private: $(WALLET_STATIC_LIBS)' > $@
	@echo "wrote $@"

# C and C++ hosts: every program plain, as C++, under ASan+UBSan and valgrind
# (the TPM wallet's against fresh swtpm instances), the C++ example host
# (examples/cpp, its transaction decoded by cast), then the constant-time
# check (tests/c/run.sh says what runs).
test-c: deps-system deps-node deps-python ffi wallet.pc header-check
	tests/c/run.sh $(C_LIB_DIR) $(C_TARGET_DIR)/tests

## ---------------------------------------------------------------- fuzzing

# cargo-fuzz targets (fuzz/README.md). `make fuzz-smoke` runs each for
# FUZZ_SECONDS on its committed seeds; what it finds goes to a temporary
# directory, so the committed corpora stay as they are. A crash fails the
# run, its input is in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 30
FUZZ_TEST_SECONDS ?= 5
FUZZ_TARGETS := keystore_parse rlp_decode tx_decode_unsigned tx_decode_signed tpm_response \
                session_response sealed_key_file attest_verify ffi_sign policy_decode \
                admin_request sealed_data_decode policy_json ledger_decode token_decode x509_chain \
                enrollment_decode
fuzz_dict = $(if $(filter rlp_decode tx_decode_unsigned tx_decode_signed ffi_sign,$(1)),-dict=dict/rlp.dict,$(if $(filter tpm_response session_response sealed_key_file attest_verify enrollment_decode,$(1)),-dict=dict/tpm.dict))

define fuzz_one
	@new=$$(mktemp -d); log=$$new.log; \
	if (cd fuzz && cargo +nightly fuzz run -O $(1) $$new corpus/$(1) -- -max_total_time=$(FUZZ_SECONDS) \
	      -max_len=4096 -print_final_stats=1 $(call fuzz_dict,$(1))) >$$log 2>&1; then \
	  echo "fuzz-smoke: $(1): $$(grep -o 'number_of_executed_units: *[0-9]*' $$log | grep -o '[0-9]*$$') runs, $$(grep -o 'cov: [0-9]*' $$log | tail -1)"; \
	  rm -rf $$new $$log; \
	else \
	  grep -m1 -A2 'panicked at' $$log; tail -40 $$log; rm -rf $$new $$log; echo "fuzz-smoke: $(1) FAILED"; exit 1; \
	fi

endef

fuzz-smoke: deps-fuzz
	cd fuzz && nice cargo +nightly fuzz build -O
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_one,$(t)))

# Part of `make test`: every target for FUZZ_TEST_SECONDS, never skipped
# (the nightly toolchain and cargo-fuzz are installed first when missing).
test-fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)

## ---------------------------------------------------------------- firmware (examples/cortex-m)

# The signing core on emulated Cortex-M boards: mps2-an386 (Cortex-M4F,
# thumbv7em-none-eabihf) and lm3s6965evb (Cortex-M3, thumbv7m-none-eabi).
# examples/cortex-m is a workspace of its own; its release profile is the
# footprint table's opt-level "z" configuration.
FIRMWARE_DIR := $(ROOT)/examples/cortex-m
FIRMWARE_ELF  = $(FIRMWARE_DIR)/target/$(1)/release/firmware
FIRMWARE_CARGO := cd $(FIRMWARE_DIR) && nice cargo
HOST_TARGET := $(shell rustc -vV | sed -n 's/^host: //p')

firmware: deps-firmware
	for target in $(FIRMWARE_TARGETS); do \
	  (cd $(FIRMWARE_DIR) && nice cargo build --release --locked --features firmware --bin firmware --target $$target); \
	done

# The firmware under QEMU, every result compared byte for byte with the core
# built for this machine (tests/qemu.rs), and no core::fmt in either image.
test-firmware: firmware clippy-firmware
	examples/cortex-m/check-no-fmt.sh $(foreach t,$(FIRMWARE_TARGETS),$(call FIRMWARE_ELF,$(t)))
	cd $(FIRMWARE_DIR) && \
	  FIRMWARE_MPS2_AN386=$(call FIRMWARE_ELF,thumbv7em-none-eabihf) \
	  FIRMWARE_LM3S6965EVB=$(call FIRMWARE_ELF,thumbv7m-none-eabi) \
	  nice cargo test --locked --target $(HOST_TARGET) -- --nocapture

clippy-firmware: deps-firmware
	$(FIRMWARE_CARGO) clippy --locked --release --features firmware --bin firmware --target $(NOSTD_TARGET) -- -D warnings
	$(FIRMWARE_CARGO) clippy --locked --target $(HOST_TARGET) --lib --tests -- -D warnings

# Flash, static RAM, peak stack and instruction counts per build
# configuration (BENCHMARKS.md, Firmware): eight LTO builds, 20 to 30 min
# on the 2-core machine. Not part of `make test`.
footprint: deps-firmware
	examples/cortex-m/footprint.sh

## ---------------------------------------------------------------- main job

# The FlareTrade flow through the Python wheel: a private swtpm and anvil on loopback,
# a sealed account, attestation, transfers, a contract, backup, wipe and restore.
demo: deps wheel
	$(PY) -m flare_wallet demo

clean:
	cargo clean
	rm -rf $(VENV) $(WEB3_VENVS) tools/node/node_modules
