#!/usr/bin/env bash
# The firmware's footprint per build configuration, as a Markdown table:
# flash (.vector_table + .text + .rodata + .data, what the image stores) and
# static RAM (.data + .bss + .uninit) from arm-none-eabi-size, then the peak
# stack and the instruction counts the firmware itself reports under
# `qemu-system-arm -icount shift=0` (an emulator count, not cycles).
#
#   examples/cortex-m/footprint.sh [target ...]   (default: both targets)
#
# Each configuration is a release build with fat LTO: opt-level "z" (the
# `release` profile) or "s" (`release-s`), with and without k256's
# precomputed base-point tables. Images are kept in target/footprint/.
set -euo pipefail
cd "$(dirname "$0")"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(thumbv7em-none-eabihf thumbv7m-none-eabi)
out=target/footprint
mkdir -p "$out"

machine_of() {
  case "$1" in
    thumbv7em-none-eabihf) echo "mps2-an386 cortex-m4" ;;
    thumbv7m-none-eabi) echo "lm3s6965evb cortex-m3" ;;
    *) echo "unknown target $1" >&2; exit 1 ;;
  esac
}

section() { awk -v name="$1" '$1 == name { print $2 }' "$2"; }

echo "| board (target) | opt-level | k256 tables | flash (bytes) | static RAM (bytes) | stack: sign tx | stack: personal_sign | stack: decode + recover | instructions: sign tx | instructions: personal_sign | instructions: decode + recover |"
echo "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for target in "${targets[@]}"; do
  read -r machine cpu < <(machine_of "$target")
  for profile in release release-s; do
    for tables in off on; do
      features=firmware
      [ "$tables" = on ] && features="firmware precomputed-tables"
      nice cargo build --quiet --locked --profile "$profile" --target "$target" \
        --features "$features" --bin firmware
      elf="$out/firmware-$target-$profile-tables-$tables"
      cp "target/$target/$profile/firmware" "$elf"
      sizes="$elf.size"
      arm-none-eabi-size -A "$elf" > "$sizes"
      vectors=$(section .vector_table "$sizes"); text=$(section .text "$sizes")
      rodata=$(section .rodata "$sizes"); data=$(section .data "$sizes")
      bss=$(section .bss "$sizes"); uninit=$(section .uninit "$sizes")
      flash=$((vectors + text + rodata + data))
      ram=$((data + bss + uninit))
      report="$elf.qemu"
      level=z; [ "$profile" = release-s ] && level=s
      # A run takes about a second; one that does not finish has faulted
      # (a stack overflow into static data, say) and halted.
      if ! timeout 60 qemu-system-arm -machine "$machine" -cpu "$cpu" -nographic -monitor none \
          -serial none -semihosting-config enable=on,target=native -icount shift=0 \
          -kernel "$elf" > "$report" 2>/dev/null || ! grep -qx done "$report"; then
        echo "| $machine ($target) | \"$level\" | $tables | $flash | $ram | did not finish ($(wc -l < "$report") lines printed) | | | | | |"
        continue
      fi
      measure() { awk -v name="$1" '$1 == "measure" && $2 == name { print $3 }' "$report"; }
      echo "| $machine ($target) | \"$level\" | $tables | $flash | $ram |" \
        "$(measure stack-sign-eip1559) | $(measure stack-personal-sign) | $(measure stack-decode-recover) |" \
        "$(measure instructions-sign-eip1559) | $(measure instructions-personal-sign) | $(measure instructions-decode-recover) |"
    done
  done
done
