#!/usr/bin/env bash
# Builds and runs the C test programs against libwallet (`make test-c`).
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
# Finally the constant-time check (run_ctime.sh).
set -euo pipefail

lib_dir=$(cd "${1:?usage: run.sh <lib dir> <build dir>}" && pwd)
build_dir=${2:?usage: run.sh <lib dir> <build dir>}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)

PROGRAMS=(test_signer test_errors)
WARNINGS=(-Wall -Wextra -Wpedantic -Werror)

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

for program in "${PROGRAMS[@]}"; do
  src="$here/$program.c"
  out="$build_dir/$program"
  echo "== build $program (C11 shared, C11 static, C++17, ASan+UBSan)"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" -I"$here" "$src" -o "$out.shared" \
    "${shared_libs[@]}" -Wl,-rpath,"$lib_dir"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" -I"$here" "$src" -o "$out.static" \
    "${static_libs[@]}"
  g++ -std=c++17 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" -I"$here" -x c++ "$src" -x none \
    -o "$out.cxx" "${shared_libs[@]}" -Wl,-rpath,"$lib_dir"
  gcc -std=c11 "${WARNINGS[@]}" -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer "${cflags[@]}" -I"$here" "$src" -o "$out.asan" "${static_libs[@]}"

  run "$program: C, shared library" "$out.shared"
  run "$program: C, static library" "$out.static"
  run "$program: C++, shared library" "$out.cxx"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run "$program: ASan + UBSan, static library" "$out.asan"
  run "$program: valgrind memcheck, shared library" valgrind_memcheck "$out.shared"
  run "$program: valgrind memcheck, static library" valgrind_memcheck "$out.static"
done

echo "== build ctime_signer (static library)"
gcc -std=c11 "${WARNINGS[@]}" -O1 -g "${cflags[@]}" -I"$here" "$here/ctime_signer.c" \
  -o "$build_dir/ctime_signer" "${static_libs[@]}"
"$here/run_ctime.sh" "$build_dir/ctime_signer"

echo "C tests: all passed"
