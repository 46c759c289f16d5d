#!/usr/bin/env bash
# Builds and runs the C test programs and the C++ example host against
# libwallet (`make test-c`).
#
#   tests/c/run.sh <lib dir> <build dir>
#
# <lib dir> holds libwallet.so, libwallet.a and wallet.pc (from `make ffi`
# and `make wallet.pc`). For each program in PROGRAMS:
#   - gcc -std=c11 -Wall -Wextra -Wpedantic -Werror, linked against the
#     shared library (found through wallet.pc) and, separately, the static one;
#   - g++ -std=c++17 with the same warnings, the source compiled as C++;
#   - gcc with AddressSanitizer + UndefinedBehaviorSanitizer, static library
#     (the Rust code is not instrumented, but every allocation it makes goes
#     through the sanitizer's malloc, so leaks and C-side errors are caught);
# then every binary runs plain, the sanitized one with leak detection, and
# the shared and static ones under valgrind memcheck: 0 errors, 0 leaks.
#
# Programs that need a TPM (TPM_PROGRAMS) get, for each of those six runs,
# two fresh software TPMs (swtpm on Unix sockets in a new temp directory,
# started here, outside valgrind, and stopped by PID) and an empty scratch
# directory: FLARE_WALLET_TPM, WALLET_TEST_OTHER_TPM and WALLET_TEST_DIR.
# Both TPMs are certified like real ones: copies of two TPM states with EK
# certificates from one local CA (tests/support/certified-swtpm-template.sh,
# made once per run), whose roots are FLARE_WALLET_TPM_ROOTS. A third TPM
# without any EK certificate, WALLET_TEST_UNCERTIFIED_TPM, is one that cannot
# prove itself.
# test_keystore also runs eth-account, from FLARE_WALLET_PYTHON (default:
# the project venv), outside valgrind.
#
# Then the C++ example host (examples/cpp/host.cpp) is built and run on a
# fresh swtpm: it must create an account, load it on a second run, and print
# a signed EIP-1559 transaction that Foundry's `cast` recovers to that
# account. Finally the constant-time check (run_ctime.sh).
set -euo pipefail

lib_dir=$(cd "${1:?usage: run.sh <lib dir> <build dir>}" && pwd)
build_dir=${2:?usage: run.sh <lib dir> <build dir>}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)

PROGRAMS=(test_signer test_errors test_wallet test_policy test_keystore test_admin test_token_policy)
TPM_PROGRAMS=" test_wallet test_policy test_keystore test_admin test_token_policy "
WARNINGS=(-Wall -Wextra -Wpedantic -Werror)

command -v swtpm >/dev/null || { echo "swtpm is missing: apt-get install swtpm swtpm-tools" >&2; exit 1; }
cast=${FLARE_WALLET_CAST:-$root/tools/node/node_modules/@foundry-rs/cast-linux-amd64/bin/cast}
[ -x "$cast" ] || { echo "cast is missing ($cast): run 'make deps-node'" >&2; exit 1; }
export FLARE_WALLET_CAST=$cast
# test_keystore has eth-account decrypt what the library exports.
export FLARE_WALLET_PYTHON=${FLARE_WALLET_PYTHON:-$root/.venv/bin/python}
"$FLARE_WALLET_PYTHON" -c 'import eth_account' 2>/dev/null ||
  { echo "eth-account is missing ($FLARE_WALLET_PYTHON): run 'make deps-python'" >&2; exit 1; }

# wallet.pc is written for an installed prefix; point it at the build tree.
export PKG_CONFIG_PATH="$lib_dir"
pc=(--define-variable=libdir="$lib_dir" --define-variable=includedir="$root/include")
read -r -a cflags <<<"$(pkg-config "${pc[@]}" --cflags wallet)"
read -r -a shared_libs <<<"$(pkg-config "${pc[@]}" --libs wallet)"
read -r -a static_private <<<"$(pkg-config "${pc[@]}" --static --libs-only-l wallet | sed 's/-lwallet//')"
static_libs=("$lib_dir/libwallet.a" "${static_private[@]}")

valgrind_memcheck() {
  valgrind -q --tool=memcheck --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect "$@"
}

run() {
  local label=$1
  shift
  echo "== $label"
  "$@"
}

# ---- software TPMs, each in its own temp directory, stopped by PID

swtpm_pids=()
swtpm_dirs=()

stop_all_swtpm() {
  local pid dir
  for pid in "${swtpm_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  swtpm_pids=()
  for dir in "${swtpm_dirs[@]}"; do rm -rf "$dir"; done
  swtpm_dirs=()
}

# Two certified TPM states (two different TPMs) from one local CA.
templates=$(mktemp -d)
trap 'stop_all_swtpm; rm -rf "$templates"' EXIT
"$root/tests/support/certified-swtpm-template.sh" "$templates/main" "$templates/ca"
"$root/tests/support/certified-swtpm-template.sh" "$templates/other" "$templates/ca"
export FLARE_WALLET_TPM_ROOTS=$templates/main/roots.pem
# test_wallet's enrollment has a throw-away vendor CA certify the EK (cryptography).
export WALLET_TEST_CERTIFY_EK=$here/certify_ek.py
# test_wallet's platform AK: a GCE platform double writes the AK into NV.
export WALLET_TEST_GCE_PLATFORM=$here/gce_platform_double.py
# test_wallet's EK checks: a certificate that does not certify its EK, in NV.
export WALLET_TEST_FOREIGN_EK_CERT=$here/foreign_ek_certificate.py
"$FLARE_WALLET_PYTHON" -c 'import cryptography' 2>/dev/null ||
  { echo "cryptography is missing ($FLARE_WALLET_PYTHON): run 'make deps-python'" >&2; exit 1; }

# start_swtpm DIR [TEMPLATE]: serves a new TPM on DIR/swtpm.sock and sets
# swtpm_tcti; a copy of TEMPLATE's certified state, or, without one, a TPM
# with no EK certificate.
# (Not run in a $(...) subshell: the PID must be recorded in this shell.)
start_swtpm() {
  local dir=$1 template=${2:-} i
  mkdir -p "$dir/state"
  [ -z "$template" ] || cp "$template/state/tpm2-00.permall" "$dir/state/"
  swtpm socket --tpm2 \
    --server type=unixio,path="$dir/swtpm.sock" \
    --ctrl type=unixio,path="$dir/swtpm.ctrl" \
    --tpmstate dir="$dir/state" \
    --flags not-need-init,startup-clear \
    --pid file="$dir/swtpm.pid" \
    >"$dir/swtpm.log" 2>&1 &
  swtpm_pids+=("$!")
  for i in $(seq 1 1000); do
    if [ -S "$dir/swtpm.sock" ] && [ -s "$dir/swtpm.pid" ]; then
      swtpm_tcti="swtpm:path=$dir/swtpm.sock"
      return 0
    fi
    kill -0 "$!" 2>/dev/null || break
    sleep 0.01
  done
  echo "swtpm did not start in $dir:" >&2
  cat "$dir/swtpm.log" >&2
  return 1
}

# with_tpms COMMAND...: runs COMMAND with two fresh TPMs and a scratch dir.
with_tpms() {
  local dir main other uncertified status=0
  dir=$(mktemp -d)
  swtpm_dirs+=("$dir")
  start_swtpm "$dir/main" "$templates/main"
  main=$swtpm_tcti
  start_swtpm "$dir/other" "$templates/other"
  other=$swtpm_tcti
  start_swtpm "$dir/uncertified"
  uncertified=$swtpm_tcti
  mkdir -m 0700 "$dir/scratch"
  FLARE_WALLET_TPM=$main WALLET_TEST_OTHER_TPM=$other WALLET_TEST_UNCERTIFIED_TPM=$uncertified \
    WALLET_TEST_DIR=$dir/scratch "$@" || status=$?
  stop_all_swtpm
  return "$status"
}

# ---- the test programs

for program in "${PROGRAMS[@]}"; do
  src="$here/$program.c"
  out="$build_dir/$program"
  echo "== build $program (C11 shared, C11 static, C++17, ASan+UBSan)"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g -pthread "${cflags[@]}" -I"$here" "$src" \
    -o "$out.shared" "${shared_libs[@]}" -Wl,-rpath,"$lib_dir"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g -pthread "${cflags[@]}" -I"$here" "$src" \
    -o "$out.static" "${static_libs[@]}"
  g++ -std=c++17 "${WARNINGS[@]}" -O1 -g -pthread "${cflags[@]}" -I"$here" -x c++ "$src" -x none \
    -o "$out.cxx" "${shared_libs[@]}" -Wl,-rpath,"$lib_dir"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g -pthread -fsanitize=address,undefined \
    -fno-sanitize-recover=all -fno-omit-frame-pointer "${cflags[@]}" -I"$here" "$src" \
    -o "$out.asan" "${static_libs[@]}"

  env=()
  [[ $TPM_PROGRAMS == *" $program "* ]] && env=(with_tpms)
  run "$program: C, shared library" "${env[@]}" "$out.shared"
  run "$program: C, static library" "${env[@]}" "$out.static"
  run "$program: C++, shared library" "${env[@]}" "$out.cxx"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run "$program: ASan + UBSan, static library" "${env[@]}" "$out.asan"
  run "$program: valgrind memcheck, shared library" "${env[@]}" valgrind_memcheck "$out.shared"
  run "$program: valgrind memcheck, static library" "${env[@]}" valgrind_memcheck "$out.static"
done

# ---- the C++ example host

host_check() {
  local state=$WALLET_TEST_DIR/host first second address raw signer
  # (Called where `set -e` does not apply: every step checks for itself.)
  first=$("$build_dir/host" "$FLARE_WALLET_TPM" "$state") || return 1
  echo "$first"
  # Then with the TPM and the directory from the environment, under valgrind.
  second=$(FLARE_WALLET_STATE_DIR=$state valgrind_memcheck "$build_dir/host") || return 1
  echo "$second"
  address=$(sed -n 's/^account \(0x[0-9a-fA-F]\{40\}\) created$/\1/p' <<<"$first")
  [ -n "$address" ] || { echo "host: no account created" >&2; return 1; }
  grep -qx "account $address loaded" <<<"$second" ||
    { echo "host: the second run did not load $address" >&2; return 1; }
  raw=$(sed -n 's/^raw \(0x02[0-9a-f]*\)$/\1/p' <<<"$first")
  [ -n "$raw" ] || { echo "host: no EIP-1559 transaction printed" >&2; return 1; }
  grep -qx "raw $raw" <<<"$second" ||
    { echo "host: the two runs signed different bytes" >&2; return 1; }
  signer=$("$cast" decode-transaction "$raw" | grep -oiE 'signer[^0-9a-fx]*0x[0-9a-f]{40}' |
    grep -oiE '0x[0-9a-f]{40}') || { echo "host: cast decodes no signer" >&2; return 1; }
  if [ "${signer,,}" != "${address,,}" ]; then
    echo "host: cast recovers $signer from the transaction, not $address" >&2
    return 1
  fi
  echo "host: cast recovers the account from the signed transaction"
}

echo "== build examples/cpp/host.cpp (C++17, shared library)"
g++ -std=c++17 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" "$root/examples/cpp/host.cpp" \
  -o "$build_dir/host" "${shared_libs[@]}" -Wl,-rpath,"$lib_dir"
run "host: create, sign; load, sign (valgrind); cast decodes" with_tpms host_check

# ---- constant time

echo "== build ctime_signer (static library)"
gcc -std=c11 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" -I"$here" "$here/ctime_signer.c" \
  -o "$build_dir/ctime_signer" "${static_libs[@]}"
"$here/run_ctime.sh" "$build_dir/ctime_signer"

echo "C tests: all passed"
