/*
 * SHA-256 written out plainly for the tests, so that the policy hash the
 * library reports can be checked from C without trusting the library's own
 * hash. Slow and simple on purpose; never used for secrets.
 *
 * Specification: FIPS 180-4, "Secure Hash Standard", sections 4.1.2
 * (functions), 4.2.2 (constants), 5.1.1 (padding), 6.2 (computation).
 */
#ifndef WALLET_TESTS_SHA256_REF_H
#define WALLET_TESTS_SHA256_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const uint32_t sha256_ref_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u,
};

static inline uint32_t sha256_ref_rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void sha256_ref_block(uint32_t h[8], const uint8_t block[64]) {
  uint32_t w[64], a, b, c, d, e, f, g, hh;
  unsigned t;
  for (t = 0; t < 16; t++)
    w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
           (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
  for (t = 16; t < 64; t++) {
    uint32_t s0 = sha256_ref_rotr(w[t - 15], 7) ^ sha256_ref_rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = sha256_ref_rotr(w[t - 2], 17) ^ sha256_ref_rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (t = 0; t < 64; t++) {
    uint32_t s1 = sha256_ref_rotr(e, 6) ^ sha256_ref_rotr(e, 11) ^ sha256_ref_rotr(e, 25);
    uint32_t ch = (e & f) ^ (~e & g);
    uint32_t t1 = hh + s1 + ch + sha256_ref_k[t] + w[t];
    uint32_t s0 = sha256_ref_rotr(a, 2) ^ sha256_ref_rotr(a, 13) ^ sha256_ref_rotr(a, 22);
    uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint32_t t2 = s0 + maj;
    hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha256_ref(const uint8_t *data, size_t len, uint8_t out[32]) {
  uint32_t h[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  uint8_t block[64];
  uint64_t bits = (uint64_t)len * 8;
  size_t rest, i;
  while (len >= 64) {
    sha256_ref_block(h, data);
    data += 64;
    len -= 64;
  }
  rest = len;
  memset(block, 0, sizeof block);
  if (rest > 0) memcpy(block, data, rest);
  block[rest] = 0x80;
  if (rest >= 56) {
    sha256_ref_block(h, block);
    memset(block, 0, sizeof block);
  }
  for (i = 0; i < 8; i++) block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_ref_block(h, block);
  for (i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8);
    out[4 * i + 3] = (uint8_t)h[i];
  }
}

#endif /* WALLET_TESTS_SHA256_REF_H */
