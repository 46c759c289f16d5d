/*
 * Constant-time check of the in-memory signer, after libsecp256k1's
 * ctime_tests: the secret key bytes are marked undefined for valgrind's
 * memcheck, so that every branch and every memory index that depends on the
 * secret (or on anything computed from it) is reported. Public outputs are
 * marked defined again after each call, which is what "public" means here.
 *
 * Run under memcheck only, by tests/c/run_ctime.sh, which passes the
 * allow-list, checks that every entry is still needed, and runs the
 * --canary mode to prove the check is not blind.
 * Every report must either disappear or be on the allow-list, which names
 * each call site and why branching there is safe; any other report fails.
 *
 * Covered: key parsing (wallet_signer_from_bytes), the public key and
 * address, transaction signing of every type, EIP-191 message signing and
 * EIP-712 hash signing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "check.h"

#define SECRET(ptr, len) VALGRIND_MAKE_MEM_UNDEFINED((ptr), (len))
#define PUBLIC(ptr, len) VALGRIND_MAKE_MEM_DEFINED((ptr), (len))

/* One unsigned signing payload per transaction type (sources: test_signer.c
 * and tests/c/README.md). Pre-EIP-155 legacy payloads are refused before
 * any key is used (WALLET_TX_UNPROTECTED), so there is nothing to check. */
static const char *const PAYLOADS[] = {
    /* legacy, EIP-155 example */
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080",
    /* EIP-2930 */
    "01f86a82053922843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a40008661"
    "6263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000000000000000"
    "00000000000000000000000000000000",
    /* EIP-1559 */
    "02f86f8205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
    "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
    "000000000000000000000000000000000000000000",
    /* EIP-4844 */
    "03f8968205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
    "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000"
    "000000000000000000000000000000000000000000008477359400e1a0010657f37554c781402a22917dee2f75de"
    "f7ab966d7b770905398eba3c444014",
    /* EIP-7702 */
    "04f88e8205398084773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098084252d"
    "ba42c0f85ef85c820539945ce9454909639d2d17a3f753ce7d93fa0b9ab12e0180a0735375048fc96b87390b5a11"
    "c411fc57245d8e55038bf49e659d048a0d1a3f87a07f4b3db448845cb217812f23c6b345e99f2d21c44ec10e93a8"
    "f0398141674171",
};

static void run(uint8_t key[32]) {
  wallet_signer *signer = NULL;
  uint32_t ret;
  uint8_t address[WALLET_ADDRESS_LEN];
  uint8_t signature[WALLET_SIGNATURE_LEN];
  uint8_t hash_a[32], hash_b[32];
  uint8_t payload[512], signed_tx[600];
  size_t len = 0, i;

  /* Key parsing. */
  SECRET(key, 32);
  ret = wallet_signer_from_bytes(key, 32, &signer);
  PUBLIC(&ret, sizeof ret);
  PUBLIC(&signer, sizeof signer);
  CHECK_RESULT(ret, WALLET_OK);
  if (ret != WALLET_OK) return;

  /* Public key and address. */
  ret = wallet_signer_address(signer, address, sizeof address, &len);
  PUBLIC(&ret, sizeof ret);
  PUBLIC(address, sizeof address);
  PUBLIC(&len, sizeof len);
  CHECK_RESULT(ret, WALLET_OK);

  /* EIP-191 message signing, over messages of several lengths. */
  for (i = 0; i < 3; i++) {
    static const char *const messages[] = {"", "I\xe2\x99\xa5SF", "a longer message, 40 bytes long ........"};
    ret = wallet_signer_sign_message(signer, (const uint8_t *)messages[i], strlen(messages[i]),
                                     signature, sizeof signature, &len);
    PUBLIC(&ret, sizeof ret);
    PUBLIC(signature, sizeof signature);
    PUBLIC(&len, sizeof len);
    CHECK_RESULT(ret, WALLET_OK);
  }

  /* EIP-712: a domain separator and a struct hash. */
  memset(hash_a, 0x11, sizeof hash_a);
  memset(hash_b, 0x22, sizeof hash_b);
  ret = wallet_signer_sign_typed_data_hash(signer, hash_a, 32, hash_b, 32, signature,
                                           sizeof signature, &len);
  PUBLIC(&ret, sizeof ret);
  PUBLIC(signature, sizeof signature);
  PUBLIC(&len, sizeof len);
  CHECK_RESULT(ret, WALLET_OK);

  /* Transaction signing, every type above. */
  for (i = 0; i < sizeof PAYLOADS / sizeof PAYLOADS[0]; i++) {
    size_t payload_len = unhex(PAYLOADS[i], payload, sizeof payload);
    CHECK(payload_len != (size_t)-1);
    ret = wallet_signer_sign_transaction(signer, payload, payload_len, signed_tx,
                                         sizeof signed_tx, &len);
    PUBLIC(&ret, sizeof ret);
    PUBLIC(&len, sizeof len);
    CHECK_RESULT(ret, WALLET_OK);
    if (ret == WALLET_OK) PUBLIC(signed_tx, len);
  }

  wallet_signer_free(signer);
}

/* Canary for tests/c/run_ctime.sh: the secret is handed to the transaction
 * decoder as a payload, so the decoder's branches on its input are branches
 * on the secret and must be reported (none of them is on the allow-list). */
static int canary(void) {
  uint8_t secret[32];
  wallet_transaction tx;
  uint32_t ret;
  memset(secret, 0, sizeof secret);
  secret[0] = 0x02; /* an EIP-1559 type byte, so parsing goes on */
  SECRET(secret, sizeof secret);
  ret = wallet_decode_transaction(secret, sizeof secret, &tx);
  PUBLIC(&ret, sizeof ret);
  printf("canary: decoder returned %u\n", (unsigned)ret);
  return 0;
}

int main(int argc, char **argv) {
  uint8_t key[32];
  int i;
  if (!RUNNING_ON_VALGRIND) {
    fprintf(stderr, "ctime_signer only means something under valgrind's memcheck:\n"
                    "  valgrind --error-exitcode=1 --suppressions=tests/c/ctime_signer.supp "
                    "./ctime_signer\n");
    return 2;
  }
  if (argc > 1 && strcmp(argv[1], "--canary") == 0) return canary();
  /* As in libsecp256k1: one secret suffices, since memcheck flags any
   * secret-dependent branch or index whatever the secret's value. Two are
   * used anyway, the second with a high top bit. */
  for (i = 0; i < 32; i++) key[i] = (uint8_t)(i + 65);
  run(key);
  for (i = 0; i < 32; i++) key[i] = (uint8_t)(0xf0 - i);
  run(key);
  return check_summary("ctime_signer");
}
