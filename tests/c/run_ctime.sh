#!/usr/bin/env bash
# The constant-time check, after libsecp256k1's ctime_tests.
#
#   tests/c/run_ctime.sh <ctime_signer binary>
#
# 1. ctime_signer runs under memcheck with the allow-list
#    tests/c/ctime_signer.supp: any report not on the list fails.
# 2. Every allow-list site must have been used: a site that no longer
#    matches anything is stale and must be removed (or the code changed).
#    A site may have alternative entries, ctime/NNa, ctime/NNb..., one per
#    shape its stack takes depending on what the compiler inlined; the site
#    is used when any of them is.
# 3. Canary: the same binary in --canary mode feeds the secret to a parser
#    that branches on its input; memcheck must report it. This proves the
#    secret really is tracked through the library and the allow-list does
#    not hide everything.
set -euo pipefail

binary=${1:?usage: run_ctime.sh <ctime_signer binary>}
here=$(cd "$(dirname "$0")" && pwd)
supp="$here/ctime_signer.supp"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

valgrind_ct() {
  valgrind --tool=memcheck --error-exitcode=42 --error-limit=no --num-callers=40 \
    --suppressions="$supp" "$@"
}

echo "ctime: $binary under memcheck with the allow-list"
if ! valgrind_ct -v --log-file="$log" "$binary"; then
  grep -v '^--' "$log" | sed -n '/uninitialised/,/^==[0-9]*== $/p' | head -200 >&2
  echo "ctime: FAILED: secret-dependent branch or index not on the allow-list" >&2
  exit 1
fi
grep -E 'ERROR SUMMARY' "$log" | tail -1

# Sites (ctime/NN, alternatives folded) in the file, and those valgrind
# reports as used.
mapfile -t listed < <(grep -oE '^   ctime/[0-9]+' "$supp" | tr -d ' ' | sort -u)
mapfile -t used < <(grep -oE 'used_suppression: +[0-9]+ ctime/[0-9]+' "$log" |
  grep -oE 'ctime/[0-9]+' | sort -u)
unused=$(comm -23 <(printf '%s\n' "${listed[@]}") <(printf '%s\n' "${used[@]}"))
if [ -n "$unused" ]; then
  echo "ctime: FAILED: allow-list sites that matched nothing (stale):" $unused >&2
  exit 1
fi
echo "ctime: ${#listed[@]} allow-list sites, all used"

echo "ctime: canary (a secret fed to the transaction parser must be reported)"
set +e
valgrind_ct -q --log-file="$log" "$binary" --canary
status=$?
set -e
if [ "$status" -ne 42 ] || ! grep -q 'depends on uninitialised' "$log"; then
  echo "ctime: FAILED: the canary's secret-dependent branches were not reported" \
       "(exit $status); the check is blind" >&2
  exit 1
fi
echo "ctime: canary reported as expected"
