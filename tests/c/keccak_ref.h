/*
 * Keccak-256 (the original Keccak padding Ethereum uses, not NIST SHA3-256),
 * written out plainly for the tests so that transaction hashes published by
 * the EIPs and by eth-account can be checked from C without trusting the
 * library's own hash. Slow and simple on purpose; never used for secrets.
 *
 * Specification: "The Keccak reference", version 3.0 (Bertoni, Daemen,
 * Peeters, Van Assche), Keccak-f[1600] with rate 1088 bits and padding
 * pad10*1 with the domain byte 0x01.
 */
#ifndef WALLET_TESTS_KECCAK_REF_H
#define WALLET_TESTS_KECCAK_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const uint64_t keccak_ref_round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offset of lane (x, y), indexed [x + 5 y]. */
static const unsigned keccak_ref_rho[25] = {
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
};

static inline uint64_t keccak_ref_rotl(uint64_t v, unsigned n) {
  return n == 0 ? v : (v << n) | (v >> (64 - n));
}

static inline void keccak_ref_permute(uint64_t a[25]) {
  int round, x, y;
  for (round = 0; round < 24; round++) {
    uint64_t c[5], d[5], b[25];
    /* theta */
    for (x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (x = 0; x < 5; x++) d[x] = c[(x + 4) % 5] ^ keccak_ref_rotl(c[(x + 1) % 5], 1);
    for (y = 0; y < 5; y++)
      for (x = 0; x < 5; x++) a[x + 5 * y] ^= d[x];
    /* rho and pi: B[y, 2x + 3y] = rot(A[x, y], r[x, y]) */
    for (y = 0; y < 5; y++)
      for (x = 0; x < 5; x++)
        b[y + 5 * ((2 * x + 3 * y) % 5)] = keccak_ref_rotl(a[x + 5 * y], keccak_ref_rho[x + 5 * y]);
    /* chi */
    for (y = 0; y < 5; y++)
      for (x = 0; x < 5; x++)
        a[x + 5 * y] = b[x + 5 * y] ^ (~b[(x + 1) % 5 + 5 * y] & b[(x + 2) % 5 + 5 * y]);
    /* iota */
    a[0] ^= keccak_ref_round_constants[round];
  }
}

static inline void keccak_ref_absorb_block(uint64_t state[25], const uint8_t *block) {
  int lane, byte;
  for (lane = 0; lane < 17; lane++) {
    uint64_t v = 0;
    for (byte = 7; byte >= 0; byte--) v = (v << 8) | block[8 * lane + byte];
    state[lane] ^= v;
  }
  keccak_ref_permute(state);
}

static inline void keccak256_ref(const uint8_t *data, size_t len, uint8_t out[32]) {
  enum { RATE = 136 };
  uint64_t state[25];
  uint8_t last[RATE];
  int i;
  memset(state, 0, sizeof state);
  while (len >= RATE) {
    keccak_ref_absorb_block(state, data);
    data += RATE;
    len -= RATE;
  }
  memset(last, 0, sizeof last);
  if (len != 0) memcpy(last, data, len);
  last[len] ^= 0x01;
  last[RATE - 1] ^= 0x80;
  keccak_ref_absorb_block(state, last);
  for (i = 0; i < 32; i++) out[i] = (uint8_t)(state[i / 8] >> (8 * (i % 8)));
}

#endif /* WALLET_TESTS_KECCAK_REF_H */
