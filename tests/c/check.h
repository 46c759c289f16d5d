/*
 * A tiny assertion helper for the C test programs: every failed check is
 * printed with its line and counted, and the program exits non-zero if any
 * failed. Written to compile as C11 and as C++17 without warnings.
 */
#ifndef WALLET_TESTS_CHECK_H
#define WALLET_TESTS_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "wallet.h"

static int check_failures = 0;
static int check_count = 0;

static inline void check_report(int ok, const char *file, int line, const char *what) {
  check_count++;
  if (!ok) {
    check_failures++;
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  }
}

#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* A call must return exactly `expected`; on a mismatch both codes and the
 * library's message for the one received are printed. */
#define CHECK_RESULT(call, expected) \
  check_result_is((uint32_t)(call), (uint32_t)(expected), __FILE__, __LINE__, #call)

#define CHECK_OK(call) CHECK_RESULT(call, WALLET_OK)

static inline void check_result_is(uint32_t got, uint32_t expected, const char *file, int line,
                                   const char *what) {
  check_count++;
  if (got != expected) {
    check_failures++;
    fprintf(stderr, "%s:%d: %s returned %u (%s), expected %u\n", file, line, what, (unsigned)got,
            wallet_result_message(got), (unsigned)expected);
  }
}

/* Bytes must equal the hex string (no 0x, lower or upper case). */
#define CHECK_HEX(bytes, len, hex) check_hex_is((bytes), (len), (hex), __FILE__, __LINE__, #bytes)

static inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes `hex` into `out`; returns the byte count, or (size_t)-1 on bad
 * input or a short buffer (which fails the test at the call site). */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t len = strlen(hex);
  size_t i;
  if (len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
    hex += 2;
    len -= 2;
  }
  if (len % 2 != 0 || len / 2 > cap) return (size_t)-1;
  for (i = 0; i < len / 2; i++) {
    int hi = hex_digit(hex[2 * i]);
    int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return (size_t)-1;
    out[i] = (uint8_t)((hi << 4) | lo);
  }
  return len / 2;
}

static inline void check_hex_is(const uint8_t *bytes, size_t len, const char *hex,
                                const char *file, int line, const char *what) {
  uint8_t expected[4096];
  size_t expected_len = unhex(hex, expected, sizeof expected);
  size_t i;
  int ok = expected_len != (size_t)-1 && expected_len == len && memcmp(bytes, expected, len) == 0;
  check_count++;
  if (!ok) {
    check_failures++;
    fprintf(stderr, "%s:%d: %s differs\n  got      ", file, line, what);
    for (i = 0; i < len; i++) fprintf(stderr, "%02x", bytes[i]);
    fprintf(stderr, "\n  expected %s\n", hex);
  }
}

/* A decimal string (up to 2^256 - 1) as 32 big-endian bytes, computed here
 * so that published decimal values can be compared without a converter. */
static inline int decimal_to_be32(const char *decimal, uint8_t out[32]) {
  memset(out, 0, 32);
  for (; *decimal; decimal++) {
    unsigned carry;
    int i;
    if (*decimal < '0' || *decimal > '9') return 0;
    carry = (unsigned)(*decimal - '0');
    for (i = 31; i >= 0; i--) {
      unsigned v = (unsigned)out[i] * 10u + carry;
      out[i] = (uint8_t)(v & 0xffu);
      carry = v >> 8;
    }
    if (carry != 0) return 0;
  }
  return 1;
}

#define CHECK_DECIMAL(bytes32, decimal)                                        \
  do {                                                                         \
    uint8_t expected_be_[32];                                                  \
    CHECK(decimal_to_be32((decimal), expected_be_));                           \
    CHECK(memcmp((bytes32), expected_be_, 32) == 0);                           \
  } while (0)

static inline int check_summary(const char *program) {
  if (check_failures != 0) {
    fprintf(stderr, "%s: %d of %d checks failed\n", program, check_failures, check_count);
    return 1;
  }
  printf("%s: %d checks passed\n", program, check_count);
  return 0;
}

#endif /* WALLET_TESTS_CHECK_H */
