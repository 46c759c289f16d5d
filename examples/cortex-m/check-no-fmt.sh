#!/usr/bin/env bash
# The firmware carries no formatting machinery: no symbol of core::fmt at
# all (so none of wallet-core's Display / Debug implementations, and no
# formatting of panic messages: panic-halt ignores them and LTO drops the
# rest), and the only panic entry points are the stubs that jump to
# panic-halt's handler.
#
#   examples/cortex-m/check-no-fmt.sh FIRMWARE.elf ...
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 FIRMWARE.elf ..." >&2; exit 2; }
status=0
for elf in "$@"; do
  symbols=$(arm-none-eabi-nm --demangle --size-sort -S "$elf")
  fmt=$(grep -E 'core::fmt|<[^>]* as core::fmt::(Display|Debug)' <<<"$symbols" || true)
  ours=$(grep -E 'wallet_core.*fmt|fmt.*wallet_core' <<<"$symbols" || true)
  if [ -n "$fmt" ] || [ -n "$ours" ]; then
    echo "$elf: formatting code is linked in:"
    printf '%s\n' "$fmt" "$ours" | sort -u | sed '/^$/d; s/^/    /'
    status=1
    continue
  fi
  # Each panicking entry point that is left must be a stub of a few bytes
  # (a branch to the handler), not code that builds a message.
  large_panics=$(while read -r _ size _ name; do
    if [[ $name == core::panicking::* ]] && (( 16#$size > 16 )); then echo "$size $name"; fi
  done <<<"$symbols")
  if [ -n "$large_panics" ]; then
    echo "$elf: panic paths with bodies of their own:"
    sed 's/^/    /' <<<"$large_panics"
    status=1
    continue
  fi
  panics=$(awk '$4 ~ /^core::panicking::/ { n++ } END { print n + 0 }' <<<"$symbols")
  echo "$elf: no core::fmt symbol; $panics core::panicking stubs of at most 16 bytes"
done
exit $status
