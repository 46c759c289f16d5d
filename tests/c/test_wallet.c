/*
 * The TPM-backed wallet from C, against real software TPMs (swtpm) that
 * tests/c/run.sh starts for each run of this program, outside valgrind:
 *
 *   FLARE_WALLET_TPM      the main TPM (also what wallet_open(NULL, ...) picks)
 *   WALLET_TEST_OTHER_TPM a second, unrelated TPM (other seeds, other SRK)
 *   WALLET_TEST_DIR       an empty scratch directory, mode 0700
 *
 * Covered: open and its errors; create, import, load, address; signing in
 * strict and cached mode, checked by recovering the sender and, for
 * imported published keys, byte for byte against EIP-155, eth-account and
 * EIP-712 vectors (tests/c/README.md); the refusal of unprotected
 * transactions by the account's default signing policy; attestation and
 * verification (the policy hash bound into the evidence), with tampered evidence
 * failing with its own code; evidence quoted by a platform-certified AK (a GCE
 * platform double writes the AK template and certificate into NV) and that AK's
 * enrollment record; every EK certificate's own outcome (one written over a key
 * that is not its EK is refused); backup and restore into a fresh directory on
 * the same TPM, refused on the other TPM; PCR-bound accounts; NULL
 * arguments and short buffers of every wallet function; one handle shared
 * by several threads.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "keccak_ref.h"

#define SENTINEL 0xa5

/* ---- published vectors (sources in tests/c/README.md) */

/* EIP-155 "Example": key 0x46..46. */
static const char EIP155_KEY[] = "4646464646464646464646464646464646464646464646464646464646464646";
static const char EIP155_ADDRESS[] = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";
static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";
/* The same transaction without chainId, 0, 0: pre-EIP-155, unprotected. */
static const char PRE_EIP155_SIGNING_DATA[] =
    "e9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080";

/* eth-account 0.14's documented EIP-1559 example (key 0x4c08..2318). */
static const char ETH_ACCOUNT_KEY[] =
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char ETH_ACCOUNT_ADDRESS[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
static const char EIP1559_PAYLOAD[] =
    "02f86f8205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
    "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
    "000000000000000000000000000000000000000000";
static const char EIP1559_SIGNED_TX[] =
    "02f8b28205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
    "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
    "00000000000000000000000000000000000000000001a06c38b2e120203461c37a7b1a90955f9fe12a44c2de898b2a"
    "6ba859567d4e2861a0027b9e7869127b2046f0e34c37ef06df68a3f397430c7a9bf757ff31d58b85d5";

/* eth-account's Account.sign_message example. */
static const char MESSAGE_KEY[] = "b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364";
static const char MESSAGE_TEXT[] = "I\xe2\x99\xa5SF"; /* "I♥SF" in UTF-8 */
static const char MESSAGE_SIGNATURE[] =
    "e6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb33e5bfbbf4d3e39b1a2fd816a7680c1"
    "9ebebaf3a141b239934ad43cb33fcec8ce1c";
static const char MESSAGE_ADDRESS[] = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E";

/* EIP-712 Example.js "Mail" (key = keccak256("cow")). */
static const char MAIL_DOMAIN_SEPARATOR[] =
    "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f";
static const char MAIL_STRUCT_HASH[] =
    "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e";
static const char MAIL_SIGNATURE[] =
    "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40f"
    "f007d72911b6f72307f996231605b915621c";
static const char MAIL_ADDRESS[] = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826";

/* ---- where the evidence encoding keeps things (core/src/attest/encoding.rs) */
#define EVIDENCE_CHAIN_ID_OFFSET 10
#define EVIDENCE_POLICY_HASH_OFFSET 38
#define EVIDENCE_TPM_IDENTITY_OFFSET 143
#define EVIDENCE_WALLET_SIGNATURE_OFFSET 144
/* After the fixed part (276 bytes), a 3-byte bitmap for PCRs 0-7, the
 * count, 8 PCR values and the attest length. */
#define EVIDENCE_ATTEST_OFFSET (276 + 3 + 1 + 8 * 32 + 2)

/* A self-signed P-256 root that enrolled nothing (fuzz/support/recorded). */
static const char UNRELATED_ROOT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBizCCATGgAwIBAgIBATAKBggqhkjOPQQDAjAsMSowKAYDVQQDDCFmbGFyZS13\n"
    "YWxsZXQgZnV6eiBlbnJvbGxtZW50IHJvb3QwIBcNOTkwMTAxMDAwMDAwWhgPMjEw\n"
    "MDAxMDEwMDAwMDBaMCwxKjAoBgNVBAMMIWZsYXJlLXdhbGxldCBmdXp6IGVucm9s\n"
    "bG1lbnQgcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCGiPSPMjaGywzG9\n"
    "WqVDVtdRFMN0Abd1yLbjlhtiYmM4TA3M0gX40drQHfs6FroISW0o+8fjxMV9f8nJ\n"
    "Sw6W+ZijQjBAMB0GA1UdDgQWBBQjfyFLpaqQoyG9rvzxGqmBFiITyDAPBgNVHRMB\n"
    "Af8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiBCAz2a\n"
    "Xbig/vvZeNpWOOG/ClkEFcF8t8PAF3JBSJkntwIhAKJ2sTay9K3nHVckWVqfggar\n"
    "D5f9aQS3FSwpImnUPLNN\n"
    "-----END CERTIFICATE-----\n";

static const char *main_tpm;
static const char *other_tpm;
static const char *scratch;

/* ---- helpers */

static int all_bytes(const void *buf, size_t len, uint8_t value) {
  const uint8_t *p = (const uint8_t *)buf;
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != value) return 0;
  return 1;
}

static void scratch_path(char *out, size_t cap, const char *name) {
  int n = snprintf(out, cap, "%s/%s", scratch, name);
  CHECK(n > 0 && (size_t)n < cap);
}

static wallet *open_on(const char *tcti, const char *dir_name) {
  char dir[1024];
  wallet *w = NULL;
  scratch_path(dir, sizeof dir, dir_name);
  CHECK_OK(wallet_open(tcti, dir, &w));
  return w;
}

static size_t unhex_or_fail(const char *hex, uint8_t *out, size_t cap) {
  size_t len = unhex(hex, out, cap);
  CHECK(len != (size_t)-1);
  return len == (size_t)-1 ? 0 : len;
}

static void check_address_is(const uint8_t address[20], const char *expected_checksum) {
  char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
  size_t len = 0;
  CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN && strcmp(text, expected_checksum) == 0);
}

static uint64_t commands_sent(const wallet *w) {
  uint64_t count = 0;
  CHECK_OK(wallet_tpm_commands_sent(w, &count));
  return count;
}

/* Signs `payload_hex` and checks the signed transaction recovers to
 * `address`; returns the signed length (the bytes are left in `raw`). */
static size_t sign_and_recover(const wallet *w, const char *payload_hex, const uint8_t address[20],
                               uint8_t *raw, size_t raw_cap) {
  uint8_t payload[512], sender[20];
  size_t payload_len = unhex_or_fail(payload_hex, payload, sizeof payload);
  size_t raw_len = 0, sender_len = 0;
  CHECK_OK(wallet_sign_transaction(w, payload, payload_len, raw, raw_cap, &raw_len));
  CHECK(raw_len <= payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD);
  CHECK_OK(wallet_recover_sender(raw, raw_len, sender, sizeof sender, &sender_len));
  CHECK(sender_len == 20 && memcmp(sender, address, 20) == 0);
  return raw_len;
}

/* The detail of the last core error must be there and mention `word`. */
static void check_last_error_mentions(const wallet *w, const char *word) {
  char text[512];
  size_t len = 0;
  CHECK_OK(wallet_last_error_message(w, text, sizeof text, &len));
  CHECK(len > 0 && len == strlen(text) && strstr(text, word) != NULL);
}

/* ---- opening */

static void test_open_errors(void) {
  char dir[1024], file[1024], missing_socket[1024];
  wallet *untouched = (wallet *)&untouched;
  FILE *f;

  scratch_path(dir, sizeof dir, "open-errors");
  CHECK_RESULT(wallet_open(main_tpm, NULL, &untouched), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_open(main_tpm, dir, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_open("bogus:thing", dir, &untouched), WALLET_TPM_INVALID_TCTI);
  CHECK_RESULT(wallet_open("", dir, &untouched), WALLET_TPM_INVALID_TCTI);
  CHECK_RESULT(wallet_open("swtpm:path=\xff\xfe", dir, &untouched), WALLET_INVALID_PARAMETER);

  /* Nobody listens on this socket. */
  scratch_path(missing_socket, sizeof missing_socket, "no-such-tpm.sock");
  {
    char tcti[1100];
    snprintf(tcti, sizeof tcti, "swtpm:path=%s", missing_socket);
    CHECK_RESULT(wallet_open(tcti, dir, &untouched), WALLET_TPM_CONNECT_FAILED);
  }

  /* The state path is a regular file. */
  scratch_path(file, sizeof file, "a-regular-file");
  f = fopen(file, "w");
  CHECK(f != NULL);
  if (f != NULL) fclose(f);
  CHECK_RESULT(wallet_open(main_tpm, file, &untouched), WALLET_STATE_NOT_A_DIRECTORY);

  /* The state directory is readable by others. */
  scratch_path(dir, sizeof dir, "open-to-others");
  CHECK(mkdir(dir, 0700) == 0 && chmod(dir, 0755) == 0);
  CHECK_RESULT(wallet_open(main_tpm, dir, &untouched), WALLET_STATE_INSECURE_PERMISSIONS);

  CHECK(untouched == (wallet *)&untouched);
  wallet_free(NULL);
}

/* ---- the TPM must prove itself: no silent fallback to an unverified TPM */

static void test_tpm_identity(void) {
  char dir[1024], empty_roots[1024], missing_roots[1024];
  wallet *w = NULL, *untouched = (wallet *)&untouched;
  uint8_t verified = 7, ek_name[WALLET_EK_NAME_LEN], address[20], nonce[32];
  uint8_t evidence[WALLET_EVIDENCE_MAX_LEN];
  size_t len = 0;
  const char *roots = getenv("FLARE_WALLET_TPM_ROOTS");
  const char *uncertified_tpm = getenv("WALLET_TEST_UNCERTIFIED_TPM");

  CHECK(roots != NULL && uncertified_tpm != NULL);
  if (roots == NULL || uncertified_tpm == NULL) return;
  memset(nonce, 0x42, sizeof nonce);

  /* A certified TPM proves itself under the roots of $FLARE_WALLET_TPM_ROOTS, or
   * of a path given explicitly. */
  w = open_on(main_tpm, "identity-verified");
  CHECK_OK(wallet_tpm_identity(w, &verified, ek_name));
  CHECK(verified == 1);
  CHECK(ek_name[0] == 0x00 && ek_name[1] == 0x0b); /* SHA-256 name algorithm */
  CHECK_RESULT(wallet_tpm_identity(w, NULL, ek_name), WALLET_NULL_PARAMETER);
  wallet_free(w);
  scratch_path(dir, sizeof dir, "identity-path");
  CHECK_OK(wallet_open_with_trust(main_tpm, dir, roots, 0, &w));
  wallet_free(w);

  /* Roots that trust nothing, unreadable roots, unknown flags. */
  scratch_path(empty_roots, sizeof empty_roots, "identity-empty-roots");
  CHECK(mkdir(empty_roots, 0700) == 0);
  CHECK_RESULT(wallet_open_with_trust(main_tpm, dir, empty_roots, 0, &untouched),
               WALLET_TPM_EK_CHAIN_INVALID);
  scratch_path(missing_roots, sizeof missing_roots, "no-such-roots.pem");
  CHECK_RESULT(wallet_open_with_trust(main_tpm, dir, missing_roots, 0, &untouched),
               WALLET_TRUST_ROOTS_INVALID);
  CHECK_RESULT(wallet_open_with_trust(main_tpm, dir, roots, 2, &untouched),
               WALLET_INVALID_PARAMETER);

  /* A TPM without an EK certificate is refused, with or without roots... */
  scratch_path(dir, sizeof dir, "identity-unverified");
  CHECK_RESULT(wallet_open(uncertified_tpm, dir, &untouched), WALLET_TPM_NO_EK_CERTIFICATE);
  CHECK_RESULT(wallet_open_with_trust(uncertified_tpm, dir, empty_roots, 0, &untouched),
               WALLET_TPM_NO_EK_CERTIFICATE);
  CHECK(strstr(wallet_result_message(WALLET_TPM_NO_EK_CERTIFICATE),
               "WALLET_OPEN_ALLOW_UNVERIFIED_TPM") != NULL);
  CHECK(untouched == (wallet *)&untouched);

  /* ...unless explicitly allowed: then it says so, and so does its evidence. */
  CHECK_OK(wallet_open_with_trust(uncertified_tpm, dir, NULL, WALLET_OPEN_ALLOW_UNVERIFIED_TPM, &w));
  CHECK_OK(wallet_tpm_identity(w, &verified, NULL));
  CHECK(verified == 0);
  CHECK_OK(wallet_create_account(w, 0, address, sizeof address, &len));
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 1, evidence, sizeof evidence, &len));
  /* Bit 0: verified; bit 7: the key lock is reported (none here). */
  CHECK(evidence[EVIDENCE_TPM_IDENTITY_OFFSET] == WALLET_KEY_LOCK_REPORTED);
  wallet_free(w);
  /* Reopened without the allowance, the same TPM is refused again. */
  CHECK_RESULT(wallet_open(uncertified_tpm, dir, &untouched), WALLET_TPM_NO_EK_CERTIFICATE);

  /* A verified TPM's evidence says verified. */
  w = open_on(main_tpm, "identity-verified-evidence");
  CHECK_OK(wallet_create_account(w, 0, address, sizeof address, &len));
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 1, evidence, sizeof evidence, &len));
  CHECK(evidence[EVIDENCE_TPM_IDENTITY_OFFSET] == (WALLET_KEY_LOCK_REPORTED | 1));
  wallet_free(w);
}

/* ---- enrollment of the attestation key, as Python's Vtpm.enroll */

static size_t read_file(const char *path, uint8_t *out, size_t cap) {
  FILE *f = fopen(path, "rb");
  size_t got = 0;
  CHECK(f != NULL);
  if (f == NULL) return 0;
  got = fread(out, 1, cap, f);
  CHECK(got > 0 && got < cap);
  fclose(f);
  return got;
}

static void test_enrollment(void) {
  wallet *w = open_on(main_tpm, "enrollment");
  uint8_t ek_public[WALLET_TPM_PUBLIC_MAX_LEN], ak_public[WALLET_TPM_PUBLIC_MAX_LEN];
  uint8_t ek_cert[4096], root_pem[4096], record[WALLET_ENROLLMENT_MAX_LEN], small[4];
  uint8_t evidence[WALLET_EVIDENCE_MAX_LEN], nonce[32], address[20];
  size_t ek_len = 0, ak_len = 0, cert_len, root_len, record_len = 0, len = 0, i;
  char command[4096], hex[2 * WALLET_TPM_PUBLIC_MAX_LEN + 1], dir[1024], path[1100];
  const char *python = getenv("FLARE_WALLET_PYTHON");
  const char *certify = getenv("WALLET_TEST_CERTIFY_EK");
  wallet_evidence_facts facts;

  CHECK(python != NULL && certify != NULL);
  if (python == NULL || certify == NULL) {
    wallet_free(w);
    return;
  }
  CHECK_OK(wallet_enrollment_request(w, ek_public, sizeof ek_public, &ek_len, ak_public,
                                     sizeof ak_public, &ak_len));
  /* TPMT_PUBLIC: the EK is the one verified at open, RSA (TPM_ALG_RSA 0x0001) on
   * swtpm, or ECC (TPM_ALG_ECC 0x0023); the AK is an ECC key. */
  CHECK(ek_len > 68 && ek_public[0] == 0x00 && (ek_public[1] == 0x01 || ek_public[1] == 0x23));
  CHECK(ak_len > 68 && ak_public[0] == 0x00 && ak_public[1] == 0x23);
  CHECK_RESULT(wallet_enrollment_request(w, small, sizeof small, &len, ak_public,
                                         sizeof ak_public, &ak_len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == ek_len);

  /* A vendor CA certifies the EK (tests/c/certify_ek.py). */
  for (i = 0; i < ek_len; i++) snprintf(hex + 2 * i, 3, "%02x", ek_public[i]);
  scratch_path(dir, sizeof dir, "enrollment-vendor");
  CHECK(mkdir(dir, 0700) == 0);
  CHECK(snprintf(command, sizeof command, "'%s' '%s' %s '%s'", python, certify, hex, dir) <
        (int)sizeof command);
  CHECK(system(command) == 0);
  snprintf(path, sizeof path, "%s/ek.der", dir);
  cert_len = read_file(path, ek_cert, sizeof ek_cert);
  snprintf(path, sizeof path, "%s/root.pem", dir);
  root_len = read_file(path, root_pem, sizeof root_pem);

  /* Roots that do not hold the vendor's CA refuse the certificate; so does no root. */
  CHECK_RESULT(wallet_enroll(w, ek_cert, cert_len, (const uint8_t *)UNRELATED_ROOT_PEM,
                             sizeof UNRELATED_ROOT_PEM - 1, record, sizeof record, &record_len),
               WALLET_ENROLLMENT_EK_CHAIN);
  CHECK_RESULT(wallet_enroll(w, ek_cert, cert_len, NULL, 0, record, sizeof record, &record_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_enroll(w, ek_cert, cert_len, (const uint8_t *)"not pem", 7, record,
                             sizeof record, &record_len),
               WALLET_TRUST_ROOTS_INVALID);
  CHECK_OK(wallet_enroll(w, ek_cert, cert_len, root_pem, root_len, record, sizeof record,
                         &record_len));
  CHECK(record_len > 8 && memcmp(record, "FLWENROL", 8) == 0);
  CHECK_RESULT(wallet_enroll(w, ek_cert, cert_len, root_pem, root_len, small, sizeof small, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == record_len);

  /* The record is the trust anchor a verifier pins: the wallet's evidence verifies
   * against it and the vendor's root, and says verified TPM. */
  CHECK_OK(wallet_create_account(w, 0, address, sizeof address, &len));
  memset(nonce, 0x5a, sizeof nonce);
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 14, evidence, sizeof evidence, &len));
  memset(&facts, 0, sizeof facts);
  CHECK_OK(wallet_verify_evidence(evidence, len, nonce, sizeof nonce, root_pem, root_len, record,
                                  record_len, NULL, 0, 0, 0, address, sizeof address, &facts));
  CHECK(facts.tpm_verified == 1);
  CHECK(facts.enrollment_method == 1);
  CHECK(memcmp(facts.address, address, 20) == 0);
  /* Another root does not verify it. */
  CHECK(wallet_verify_evidence(evidence, len, nonce, sizeof nonce,
                               (const uint8_t *)UNRELATED_ROOT_PEM, sizeof UNRELATED_ROOT_PEM - 1,
                               record, record_len, NULL, 0, 0, 0, NULL, 0, &facts) != WALLET_OK);
  wallet_free(w);
}

/* ---- enrollment of the AK the platform certifies: the record a verifier pins */

/* Called by test_platform_ak once the platform double has written the AK into NV;
 * `evidence` was quoted by that AK for `nonce`. */
static void test_platform_ak_enrollment(const uint8_t *platform_root, size_t platform_root_len,
                                        const uint8_t address[20], const uint8_t *evidence,
                                        size_t evidence_len, const uint8_t nonce[32]) {
  uint8_t roots[16384], record[WALLET_ENROLLMENT_MAX_LEN], small[4];
  size_t ek_roots_len, roots_len, record_len = 0, len = 0;
  const char *ek_roots_path = getenv("FLARE_WALLET_TPM_ROOTS");
  wallet_evidence_facts facts;
  wallet *w;

  CHECK(ek_roots_path != NULL);
  if (ek_roots_path == NULL) return;
  /* The verifier's roots: the EK CA (the TPM was verified at open) and the
   * platform's AK CA. */
  ek_roots_len = read_file(ek_roots_path, roots, sizeof roots);
  CHECK(ek_roots_len + platform_root_len < sizeof roots);
  if (ek_roots_len + platform_root_len >= sizeof roots) return;
  memcpy(roots + ek_roots_len, platform_root, platform_root_len);
  roots_len = ek_roots_len + platform_root_len;

  w = open_on(main_tpm, "platform-ak-enrollment");
  CHECK_OK(wallet_enroll_platform_ak(w, NULL, 0, roots, roots_len, record, sizeof record,
                                     &record_len));
  CHECK(record_len > 8 && memcmp(record, "FLWENROL", 8) == 0);
  /* A short buffer gets the record's length. */
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, roots, roots_len, small, sizeof small, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == record_len);
  /* Without the platform's AK CA the AK certificate does not chain. */
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, roots, ek_roots_len, record, sizeof record,
                                         &len),
               WALLET_ENROLLMENT_AK_CHAIN);
  check_last_error_mentions(w, "AK certificate");
  /* Another CA alone: the EK chain, checked first, does not verify either. */
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, (const uint8_t *)UNRELATED_ROOT_PEM,
                                         sizeof UNRELATED_ROOT_PEM - 1, record, sizeof record,
                                         &len),
               WALLET_ENROLLMENT_EK_CHAIN);
  /* Bad inputs, each with its own code. */
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, NULL, 0, record, sizeof record, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, (const uint8_t *)"not pem", 7, record,
                                         sizeof record, &len),
               WALLET_TRUST_ROOTS_INVALID);
  CHECK_RESULT(wallet_enroll_platform_ak(w, (const uint8_t *)"not pem", 7, roots, roots_len,
                                         record, sizeof record, &len),
               WALLET_AK_INTERMEDIATES_INVALID);
  CHECK_RESULT(wallet_enroll_platform_ak(w, NULL, 0, roots, roots_len, record, sizeof record,
                                         NULL),
               WALLET_NULL_PARAMETER);
  wallet_free(w);

  /* The record and the roots verify the platform AK's evidence: method "AK
   * certificate", the TPM verified through its EK chain, the account's address. */
  memset(&facts, 0, sizeof facts);
  CHECK_OK(wallet_verify_evidence(evidence, evidence_len, nonce, 32, roots, roots_len, record,
                                  record_len, NULL, 0, 0, 0, address, 20, &facts));
  CHECK(facts.enrollment_method == 2);
  CHECK(facts.tpm_verified == 1);
  CHECK(memcmp(facts.address, address, 20) == 0);
  /* Without the AK CA the record does not verify. */
  CHECK_RESULT(wallet_verify_evidence(evidence, evidence_len, nonce, 32, roots, ek_roots_len,
                                      record, record_len, NULL, 0, 0, 0, NULL, 0, &facts),
               WALLET_ENROLLMENT_AK_CHAIN);
  /* A record with one byte of its AK certificate changed is refused. */
  record[record_len - 40] ^= 0x01;
  CHECK(wallet_verify_evidence(evidence, evidence_len, nonce, 32, roots, roots_len, record,
                               record_len, NULL, 0, 0, 0, NULL, 0, &facts) != WALLET_OK);
}

/* ---- evidence quoted by the AK the platform certifies (GCE Shielded VM) */

static void test_platform_ak(void) {
  uint8_t evidence[WALLET_EVIDENCE_MAX_LEN], own[WALLET_EVIDENCE_MAX_LEN];
  uint8_t certificate[WALLET_AK_CERTIFICATE_MAX_LEN], root_pem[4096], nonce[32], address[20];
  uint8_t small[4];
  size_t len = 0, own_len = 0, cert_len = 0, root_len, small_len = 0, address_len = 0;
  char command[4096], dir[1024], path[1100];
  const char *python = getenv("FLARE_WALLET_PYTHON");
  const char *double_script = getenv("WALLET_TEST_GCE_PLATFORM");
  wallet_evidence_facts facts;
  wallet *w = open_on(main_tpm, "platform-ak");

  CHECK(python != NULL && double_script != NULL);
  if (python == NULL || double_script == NULL) {
    wallet_free(w);
    return;
  }
  memset(nonce, 0x3c, sizeof nonce);
  CHECK_OK(wallet_create_account(w, 0, address, sizeof address, &address_len));
  /* No platform AK in NV yet: refused with its own code. */
  CHECK_RESULT(wallet_attest_platform_ak(w, nonce, sizeof nonce, 14, evidence, sizeof evidence,
                                         &len, certificate, sizeof certificate, &cert_len),
               WALLET_ENROLLMENT_AK_TEMPLATE_MISSING);
  check_last_error_mentions(w, "AK template");
  wallet_free(w);

  /* The platform double writes GCE's AK template and an AK certificate into the
   * TPM's NV (tests/c/gce_platform_double.py); the wallet is closed meanwhile. */
  scratch_path(dir, sizeof dir, "platform-ak-ca");
  CHECK(mkdir(dir, 0700) == 0);
  CHECK(snprintf(command, sizeof command, "'%s' '%s' '%s' '%s'", python, double_script, main_tpm,
                 dir) < (int)sizeof command);
  CHECK(system(command) == 0);
  snprintf(path, sizeof path, "%s/root.pem", dir);
  root_len = read_file(path, root_pem, sizeof root_pem);

  w = open_on(main_tpm, "platform-ak");
  CHECK_OK(wallet_load_account(w, address, sizeof address, &address_len));
  CHECK_OK(wallet_attest_platform_ak(w, nonce, sizeof nonce, 14, evidence, sizeof evidence, &len,
                                     certificate, sizeof certificate, &cert_len));
  CHECK(len > 0 && cert_len > 100 && certificate[0] == 0x30);
  /* Short buffers get the lengths needed. */
  CHECK_RESULT(wallet_attest_platform_ak(w, nonce, sizeof nonce, 14, small, sizeof small,
                                         &small_len, certificate, sizeof certificate, &cert_len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(small_len == len);
  CHECK_RESULT(wallet_attest_platform_ak(w, nonce, sizeof nonce, 14, evidence, sizeof evidence,
                                         &len, small, sizeof small, &small_len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(small_len == cert_len);
  CHECK_RESULT(wallet_attest_platform_ak(w, nonce, sizeof nonce, 14, evidence, sizeof evidence,
                                         &len, certificate, sizeof certificate, NULL),
               WALLET_NULL_PARAMETER);

  /* The AK certificate and the platform CA's root verify the evidence: no enrollment. */
  memset(&facts, 0, sizeof facts);
  CHECK_OK(wallet_verify_evidence(evidence, len, nonce, sizeof nonce, root_pem, root_len, NULL, 0,
                                  certificate, cert_len, 0, WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM,
                                  address, sizeof address, &facts));
  CHECK(facts.enrollment_method == 2);
  CHECK(memcmp(facts.address, address, 20) == 0);
  /* The wallet's own AK is not the certified one. */
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 14, own, sizeof own, &own_len));
  CHECK_RESULT(wallet_verify_evidence(own, own_len, nonce, sizeof nonce, root_pem, root_len, NULL,
                                      0, certificate, cert_len, 0,
                                      WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM, NULL, 0, &facts),
               WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH);
  /* Another root does not verify the certificate. */
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, sizeof nonce,
                                      (const uint8_t *)UNRELATED_ROOT_PEM,
                                      sizeof UNRELATED_ROOT_PEM - 1, NULL, 0, certificate,
                                      cert_len, 0, WALLET_VERIFY_ACCEPT_UNVERIFIED_TPM, NULL, 0,
                                      &facts),
               WALLET_ENROLLMENT_AK_CHAIN);
  wallet_free(w);
  test_platform_ak_enrollment(root_pem, root_len, address, evidence, len, nonce);
}

/* ---- every EK certificate the TPM holds, each verified on its own */

static const wallet_ek_check *find_check(const wallet_ek_check *checks, size_t count,
                                         uint32_t template_id) {
  size_t i;
  for (i = 0; i < count; i++)
    if (checks[i].template_id == template_id) return &checks[i];
  return NULL;
}

static void test_endorsement_keys(void) {
  wallet_ek_check checks[WALLET_EK_CHECKS_MAX], small[1];
  const wallet_ek_check *l1, *h1, *h3;
  uint8_t roots[16384];
  size_t count = 0, len = 0, ek_roots_len, roots_len, i;
  char command[4096], dir[1024], path[1100];
  const char *ek_roots_path = getenv("FLARE_WALLET_TPM_ROOTS");
  const char *python = getenv("FLARE_WALLET_PYTHON");
  const char *foreign = getenv("WALLET_TEST_FOREIGN_EK_CERT");
  wallet *w;

  CHECK(ek_roots_path != NULL && python != NULL && foreign != NULL);
  if (ek_roots_path == NULL || python == NULL || foreign == NULL) return;
  ek_roots_len = read_file(ek_roots_path, roots, sizeof roots);

  /* swtpm_setup certifies the L-1 RSA 2048 and H-3 ECC P-384 EKs: both verify
   * under the roots of $FLARE_WALLET_TPM_ROOTS (NULL) and under the same roots
   * given as PEM. */
  w = open_on(main_tpm, "endorsement-keys");
  CHECK_OK(wallet_verify_endorsement_keys(w, NULL, 0, checks, WALLET_EK_CHECKS_MAX, &count));
  CHECK(count == 2);
  l1 = find_check(checks, count, WALLET_EK_TEMPLATE_L1_RSA_2048);
  h3 = find_check(checks, count, WALLET_EK_TEMPLATE_H3_ECC_P384);
  CHECK(l1 != NULL && l1->nv_index == 0x01c00002 && l1->result == WALLET_OK);
  CHECK(h3 != NULL && h3->nv_index == 0x01c00016 && h3->result == WALLET_OK);
  CHECK(count > 0 && checks[0].template_id == WALLET_EK_TEMPLATE_L1_RSA_2048);
  count = 0;
  CHECK_OK(wallet_verify_endorsement_keys(w, roots, ek_roots_len, checks, WALLET_EK_CHECKS_MAX,
                                          &count));
  CHECK(count == 2 && checks[0].result == WALLET_OK && checks[1].result == WALLET_OK);
  /* Another vendor's root refuses each, with the rule that refused. */
  CHECK_OK(wallet_verify_endorsement_keys(w, (const uint8_t *)UNRELATED_ROOT_PEM,
                                          sizeof UNRELATED_ROOT_PEM - 1, checks,
                                          WALLET_EK_CHECKS_MAX, &count));
  CHECK(count == 2);
  for (i = 0; i < count && i < WALLET_EK_CHECKS_MAX; i++)
    CHECK(checks[i].result == WALLET_TPM_EK_CHAIN_INVALID);
  /* A short array gets the number of checks; bad arguments their codes. */
  CHECK_RESULT(wallet_verify_endorsement_keys(w, NULL, 0, small, 1, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 2);
  CHECK_RESULT(wallet_verify_endorsement_keys(w, (const uint8_t *)"not pem", 7, checks,
                                              WALLET_EK_CHECKS_MAX, &len),
               WALLET_TRUST_ROOTS_INVALID);
  CHECK_RESULT(wallet_verify_endorsement_keys(w, NULL, 0, checks, WALLET_EK_CHECKS_MAX, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_endorsement_keys(w, NULL, 0, NULL, 1, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_endorsement_keys(w, NULL, 5, checks, WALLET_EK_CHECKS_MAX, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_endorsement_keys(NULL, NULL, 0, checks, WALLET_EK_CHECKS_MAX, &len),
               WALLET_NULL_PARAMETER);
  wallet_free(w);

  /* A certificate at the H-1 index over a key that is not the TPM's H-1 EK
   * (tests/c/foreign_ek_certificate.py): refused with its own code, while the
   * others still verify. */
  scratch_path(dir, sizeof dir, "foreign-ek-ca");
  CHECK(mkdir(dir, 0700) == 0);
  CHECK(snprintf(command, sizeof command, "'%s' '%s' '%s' '%s'", python, foreign, main_tpm, dir) <
        (int)sizeof command);
  CHECK(system(command) == 0);
  snprintf(path, sizeof path, "%s/root.pem", dir);
  roots_len = ek_roots_len + read_file(path, roots + ek_roots_len, sizeof roots - ek_roots_len);

  w = open_on(main_tpm, "endorsement-keys");
  /* Under the EK roots and the foreign CA's: it chains, but certifies another key. */
  CHECK_OK(wallet_verify_endorsement_keys(w, roots, roots_len, checks, WALLET_EK_CHECKS_MAX,
                                          &count));
  CHECK(count == 3);
  l1 = find_check(checks, count, WALLET_EK_TEMPLATE_L1_RSA_2048);
  h1 = find_check(checks, count, WALLET_EK_TEMPLATE_H1_RSA_2048);
  h3 = find_check(checks, count, WALLET_EK_TEMPLATE_H3_ECC_P384);
  CHECK(l1 != NULL && l1->result == WALLET_OK);
  CHECK(h1 != NULL && h1->nv_index == 0x01c00012 && h1->result == WALLET_TPM_EK_KEY_MISMATCH);
  CHECK(h3 != NULL && h3->result == WALLET_OK);
  /* Under the EK roots alone it does not chain. */
  CHECK_OK(wallet_verify_endorsement_keys(w, roots, ek_roots_len, checks, WALLET_EK_CHECKS_MAX,
                                          &count));
  h1 = find_check(checks, count, WALLET_EK_TEMPLATE_H1_RSA_2048);
  CHECK(count == 3 && h1 != NULL && h1->result == WALLET_TPM_EK_CHAIN_INVALID);
  wallet_free(w);
}

/* ---- an account created by the TPM, through its whole life */

static void test_before_any_account(const wallet *w) {
  uint8_t out[WALLET_EVIDENCE_MAX_LEN], payload[64];
  size_t payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t len = 777;
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_address(w, out, sizeof out, &len), WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_load_account(w, out, sizeof out, &len), WALLET_STATE_NO_ACCOUNT);
  check_last_error_mentions(w, "account");
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, out, sizeof out, &len),
               WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_sign_message(w, payload, 3, out, sizeof out, &len),
               WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_sign_typed_data_hash(w, payload, 32, payload, 32, out, sizeof out, &len),
               WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_attest(w, payload, 8, 1, out, sizeof out, &len), WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_backup(w, (char *)out, sizeof out, &len), WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_policy_hash(w, out, sizeof out, &len), WALLET_ACCOUNT_NOT_LOADED);
  CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));

  /* A short buffer is refused before the account is created. */
  CHECK_RESULT(wallet_create_account(w, 0, out, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20 && all_bytes(out, sizeof out, SENTINEL));
  CHECK_RESULT(wallet_load_account(w, out, sizeof out, &len), WALLET_STATE_NO_ACCOUNT);
}

static void test_signing_modes(const wallet *w, const uint8_t address[20]) {
  uint8_t strict_tx[400], strict_again[400], cached_tx[400], legacy_tx[400], payload[200];
  uint8_t strict_sig[65], cached_sig[65], strict_typed[65], cached_typed[65], hash_a[32], hash_b[32];
  size_t strict_len, again_len, cached_len, len = 0, payload_len;
  uint64_t before;
  wallet_transaction unsigned_tx, signed_tx;

  /* Strict: every signature unseals the key, so it costs TPM commands. */
  before = commands_sent(w);
  strict_len = sign_and_recover(w, EIP1559_PAYLOAD, address, strict_tx, sizeof strict_tx);
  CHECK(commands_sent(w) > before);
  before = commands_sent(w);
  again_len = sign_and_recover(w, EIP1559_PAYLOAD, address, strict_again, sizeof strict_again);
  CHECK(commands_sent(w) > before);
  /* RFC 6979: the same key and payload give the same bytes. */
  CHECK(again_len == strict_len && memcmp(strict_again, strict_tx, strict_len) == 0);

  /* What was signed is what the payload says. */
  payload_len = unhex_or_fail(EIP1559_PAYLOAD, payload, sizeof payload);
  CHECK_OK(wallet_decode_transaction(payload, payload_len, &unsigned_tx));
  CHECK_OK(wallet_decode_signed_transaction(strict_tx, strict_len, &signed_tx));
  CHECK(memcmp(unsigned_tx.signing_hash, signed_tx.signing_hash, 32) == 0);
  CHECK(signed_tx.tx_type == 2 && signed_tx.chain_id == 1337 && signed_tx.is_signed);

  memset(hash_a, 0x11, sizeof hash_a);
  memset(hash_b, 0x22, sizeof hash_b);
  CHECK_OK(wallet_sign_message(w, (const uint8_t *)MESSAGE_TEXT, strlen(MESSAGE_TEXT), strict_sig,
                               sizeof strict_sig, &len));
  CHECK(len == WALLET_SIGNATURE_LEN && (strict_sig[64] == 27 || strict_sig[64] == 28));
  CHECK_OK(wallet_sign_typed_data_hash(w, hash_a, 32, hash_b, 32, strict_typed,
                                       sizeof strict_typed, &len));
  CHECK(len == WALLET_SIGNATURE_LEN);
  CHECK(memcmp(strict_sig, strict_typed, 64) != 0);

  /* Cached: the first use unseals, later ones send nothing to the TPM, and
   * the signatures are those of the same key. */
  CHECK_OK(wallet_set_key_mode(w, WALLET_KEY_MODE_CACHED));
  cached_len = sign_and_recover(w, EIP1559_PAYLOAD, address, cached_tx, sizeof cached_tx);
  CHECK(cached_len == strict_len && memcmp(cached_tx, strict_tx, strict_len) == 0);
  before = commands_sent(w);
  cached_len = sign_and_recover(w, EIP1559_PAYLOAD, address, cached_tx, sizeof cached_tx);
  CHECK_OK(wallet_sign_message(w, (const uint8_t *)MESSAGE_TEXT, strlen(MESSAGE_TEXT), cached_sig,
                               sizeof cached_sig, &len));
  CHECK_OK(wallet_sign_typed_data_hash(w, hash_a, 32, hash_b, 32, cached_typed,
                                       sizeof cached_typed, &len));
  sign_and_recover(w, EIP155_SIGNING_DATA, address, legacy_tx, sizeof legacy_tx);
  CHECK(commands_sent(w) == before);
  CHECK(cached_len == strict_len && memcmp(cached_tx, strict_tx, strict_len) == 0);
  CHECK(memcmp(cached_sig, strict_sig, 65) == 0);
  CHECK(memcmp(cached_typed, strict_typed, 65) == 0);

  /* Back to strict: the cached key is gone, the next signature unseals. */
  CHECK_OK(wallet_set_key_mode(w, WALLET_KEY_MODE_STRICT));
  before = commands_sent(w);
  sign_and_recover(w, EIP155_SIGNING_DATA, address, legacy_tx, sizeof legacy_tx);
  CHECK(commands_sent(w) > before);

  /* A pre-EIP-155 payload is refused by the account's (default) policy
   * before the TPM is asked for anything. */
  {
    uint8_t pre[64], out[200];
    size_t pre_len = unhex_or_fail(PRE_EIP155_SIGNING_DATA, pre, sizeof pre);
    len = 777;
    memset(out, SENTINEL, sizeof out);
    before = commands_sent(w);
    CHECK_RESULT(wallet_sign_transaction(w, pre, pre_len, out, sizeof out, &len),
                 WALLET_POLICY_UNPROTECTED_NOT_ALLOWED);
    check_last_error_mentions(w, "allow_unprotected");
    CHECK(commands_sent(w) == before);
    CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));
  }
}

static void test_attestation(const wallet *w, const uint8_t address[20]) {
  uint8_t evidence[WALLET_EVIDENCE_MAX_LEN], second[WALLET_EVIDENCE_MAX_LEN];
  uint8_t tampered[WALLET_EVIDENCE_MAX_LEN + 1], nonce[32];
  static const uint8_t not_a_record[] = "FLWENROL but not a record";
  const uint8_t *roots = (const uint8_t *)UNRELATED_ROOT_PEM;
  size_t roots_len = sizeof UNRELATED_ROOT_PEM - 1;
  size_t len = 0, second_len = 0, query_len = 0;
  wallet_evidence_facts facts, untouched;
  uint32_t i;

  for (i = 0; i < sizeof nonce; i++) nonce[i] = (uint8_t)(0x30 + i);
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 1337, evidence, sizeof evidence, &len));
  CHECK(len > EVIDENCE_ATTEST_OFFSET && len <= WALLET_EVIDENCE_MAX_LEN);
  CHECK(memcmp(evidence, "FLWEVID\0\0\3", 10) == 0);
  /* The account facts sit at their documented offsets. */
  CHECK(evidence[EVIDENCE_CHAIN_ID_OFFSET + 6] == 0x05 &&
        evidence[EVIDENCE_CHAIN_ID_OFFSET + 7] == 0x39);
  CHECK(memcmp(evidence + EVIDENCE_CHAIN_ID_OFFSET + 8, address, 20) == 0);
  {
    uint8_t policy_hash[32];
    size_t hash_len = 0;
    CHECK_OK(wallet_policy_hash(w, policy_hash, sizeof policy_hash, &hash_len));
    CHECK(hash_len == 32 && !all_bytes(policy_hash, 32, 0));
    CHECK(memcmp(evidence + EVIDENCE_POLICY_HASH_OFFSET, policy_hash, 32) == 0);
  }
  /* Bit 0: verified TPM; the key lock rides in the same signed byte (bit 7
   * set: reported; bits 1 to 3: PIN, PCR, boot-once; bits 4 to 6 clear). */
  CHECK((evidence[EVIDENCE_TPM_IDENTITY_OFFSET] & WALLET_KEY_LOCK_REPORTED) != 0);
  CHECK((evidence[EVIDENCE_TPM_IDENTITY_OFFSET] & 0x70) == 0);

  /* Another attestation has the same length; a length query reports it. */
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 1337, second, sizeof second, &second_len));
  CHECK(second_len == len);
  CHECK_RESULT(wallet_attest(w, nonce, sizeof nonce, 1337, NULL, 0, &query_len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(query_len == len);

  /* No trust anchor, no verification: each way of leaving it out is refused,
   * and the facts stay untouched. */
  memset(&untouched, SENTINEL, sizeof untouched);
  facts = untouched;
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      address, 20, &facts),
               WALLET_ATTEST_NO_TRUST_ANCHOR);
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, roots, roots_len, NULL, 0, NULL,
                                      0, 0, 0, address, 20, &facts),
               WALLET_ATTEST_NO_TRUST_ANCHOR);
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, NULL, 0, not_a_record,
                                      sizeof not_a_record, NULL, 0, 0, 0, address, 20, &facts),
               WALLET_ATTEST_NO_TRUST_ANCHOR);
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, roots, roots_len, not_a_record,
                                      sizeof not_a_record, not_a_record, sizeof not_a_record, 0,
                                      0, address, 20, &facts),
               WALLET_ATTEST_NO_TRUST_ANCHOR);
  /* Roots that are not PEM certificates; a record that is not one. */
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, not_a_record,
                                      sizeof not_a_record, not_a_record, sizeof not_a_record,
                                      NULL, 0, 0, 0, address, 20, &facts),
               WALLET_TRUST_ROOTS_INVALID);
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, roots, roots_len, not_a_record,
                                      sizeof not_a_record, NULL, 0, 0, 0, address, 20, &facts),
               WALLET_ENROLLMENT_MALFORMED);
  /* An AK certificate that is not X.509 does not chain. */
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, roots, roots_len, NULL, 0,
                                      not_a_record, sizeof not_a_record, 0, 0, address, 20,
                                      &facts),
               WALLET_ENROLLMENT_AK_CHAIN);
  /* Unknown flags. */
  CHECK_RESULT(wallet_verify_evidence(evidence, len, nonce, 32, roots, roots_len, not_a_record,
                                      sizeof not_a_record, NULL, 0, 0, 2, address, 20, &facts),
               WALLET_INVALID_PARAMETER);

  /* The encoding is checked before anything else. */
  memcpy(tampered, evidence, len);
  tampered[0] ^= 0x01;
  CHECK_RESULT(wallet_verify_evidence(tampered, len, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      address, 20, &facts),
               WALLET_ATTEST_EVIDENCE_BAD_MAGIC);
  memcpy(tampered, evidence, len);
  tampered[9] = 2; /* version 2: no trust chain */
  CHECK_RESULT(wallet_verify_evidence(tampered, len, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      address, 20, &facts),
               WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN);
  memcpy(tampered, evidence, len);
  tampered[EVIDENCE_TPM_IDENTITY_OFFSET] = 7;
  CHECK_RESULT(wallet_verify_evidence(tampered, len, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      address, 20, &facts),
               WALLET_ATTEST_EVIDENCE_TPM_IDENTITY_INVALID);
  CHECK_RESULT(wallet_verify_evidence(evidence, len - 1, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0,
                                      0, address, 20, &facts),
               WALLET_ATTEST_EVIDENCE_TRUNCATED);
  memcpy(tampered, evidence, len);
  tampered[len] = 0;
  CHECK_RESULT(wallet_verify_evidence(tampered, len + 1, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0,
                                      0, address, 20, &facts),
               WALLET_ATTEST_EVIDENCE_TRAILING_BYTES);
  CHECK_RESULT(wallet_verify_evidence(NULL, 0, nonce, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0, address,
                                      20, &facts),
               WALLET_ATTEST_EVIDENCE_TRUNCATED);
  CHECK(memcmp(&facts, &untouched, sizeof facts) == 0);
}

/* Writes the backup into `text` (NUL-terminated) and returns its length. */
static size_t take_backup(const wallet *w, char *text, size_t cap) {
  size_t len = 0, needed = 0;
  memset(text, SENTINEL, cap);
  /* A length query gives the capacity needed, NUL included. */
  CHECK_RESULT(wallet_backup(w, NULL, 0, &needed), WALLET_BUFFER_TOO_SMALL);
  CHECK(needed > 1 && needed <= WALLET_BACKUP_MAX_LEN && needed <= cap);
  /* One byte short (no room for the NUL) is still short, and untouched. */
  CHECK_RESULT(wallet_backup(w, text, needed - 1, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == needed && all_bytes(text, cap, SENTINEL));
  CHECK_OK(wallet_backup(w, text, needed, &len));
  /* *out_len excludes the NUL. */
  CHECK(len == needed - 1 && text[len] == '\0' && strlen(text) == len);
  return len;
}

static void test_created_account(void) {
  uint8_t address[20], again[20], raw[400];
  char backup[WALLET_BACKUP_MAX_LEN];
  size_t len = 0, backup_len;
  wallet *w = NULL;
  char dir[1024];

  /* NULL picks $FLARE_WALLET_TPM, which the runner set to the main TPM. */
  scratch_path(dir, sizeof dir, "created");
  CHECK_OK(wallet_open(NULL, dir, &w));
  if (w == NULL) return;
  test_before_any_account(w);

  CHECK_OK(wallet_create_account(w, 0, address, sizeof address, &len));
  CHECK(len == 20 && !all_bytes(address, 20, 0));
  CHECK_OK(wallet_address(w, again, sizeof again, &len));
  CHECK(len == 20 && memcmp(again, address, 20) == 0);
  CHECK_RESULT(wallet_create_account(w, 0, again, sizeof again, &len),
               WALLET_STATE_ACCOUNT_EXISTS);
  {
    uint8_t key[32];
    unhex_or_fail(EIP155_KEY, key, sizeof key);
    CHECK_RESULT(wallet_import_key(w, key, 32, 0, again, sizeof again, &len),
                 WALLET_STATE_ACCOUNT_EXISTS);
  }

  test_signing_modes(w, address);
  test_attestation(w, address);
  backup_len = take_backup(w, backup, sizeof backup);
  wallet_free(w);

  /* Reopened: the account loads from the state directory. */
  w = open_on(main_tpm, "created");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, again, sizeof again, &len));
  CHECK(len == 20 && memcmp(again, address, 20) == 0);
  sign_and_recover(w, EIP1559_PAYLOAD, address, raw, sizeof raw);
  /* The account file does not change with use: the same backup. */
  {
    char later[WALLET_BACKUP_MAX_LEN];
    size_t later_len = take_backup(w, later, sizeof later);
    CHECK(later_len == backup_len && memcmp(later, backup, backup_len) == 0);
  }
  wallet_free(w);

  /* Restored into a fresh directory on the same TPM. */
  w = open_on(main_tpm, "restored");
  if (w == NULL) return;
  memset(again, SENTINEL, sizeof again);
  CHECK_RESULT(wallet_restore(w, backup, backup_len, again, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20 && all_bytes(again, sizeof again, SENTINEL));
  CHECK_OK(wallet_restore(w, backup, backup_len, again, sizeof again, &len));
  CHECK(len == 20 && memcmp(again, address, 20) == 0);
  sign_and_recover(w, EIP155_SIGNING_DATA, address, raw, sizeof raw);
  CHECK_RESULT(wallet_restore(w, backup, backup_len, again, sizeof again, &len),
               WALLET_RESTORE_STATE_NOT_EMPTY);
  wallet_free(w);
  w = open_on(main_tpm, "restored");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, again, sizeof again, &len));
  CHECK(memcmp(again, address, 20) == 0);
  wallet_free(w);

  /* Damaged backups; nothing is written to the directory. */
  w = open_on(main_tpm, "bad-restores");
  if (w == NULL) return;
  {
    static const char not_base64[] = "this is not base64!";
    char damaged[WALLET_BACKUP_MAX_LEN];
    CHECK_RESULT(wallet_restore(w, not_base64, strlen(not_base64), again, sizeof again, &len),
                 WALLET_BACKUP_NOT_BASE64);
    CHECK_RESULT(wallet_restore(w, NULL, 0, again, sizeof again, &len),
                 WALLET_BACKUP_TRUNCATED);
    /* The NUL is not part of the backup text. */
    CHECK_RESULT(wallet_restore(w, backup, backup_len + 1, again, sizeof again, &len),
                 WALLET_BACKUP_NOT_BASE64);
    /* One base64 digit changed in the sealed private blob: 'A' <-> 'B'
     * changes one bit and keeps the text canonical. The backup carries the
     * account file first (after the container's 14 header bytes), its private
     * blob at bytes 132..290: digit 268 is byte 201. */
    memcpy(damaged, backup, backup_len + 1);
    damaged[268] = damaged[268] == 'A' ? 'B' : 'A';
    CHECK_RESULT(wallet_restore(w, damaged, backup_len, again, sizeof again, &len),
                 WALLET_BACKUP_INTEGRITY_MISMATCH);
    check_last_error_mentions(w, "integrity");
    /* A backup cut short. */
    CHECK_RESULT(wallet_restore(w, backup, 40, again, sizeof again, &len),
                 WALLET_BACKUP_TRUNCATED);
    CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_STATE_NO_ACCOUNT);
  }
  wallet_free(w);

  /* Another TPM: neither the backup nor the account directory unseal. Both are
   * bound to the first TPM's endorsement key, which is checked first. */
  w = open_on(other_tpm, "other-tpm");
  if (w == NULL) return;
  CHECK_RESULT(wallet_restore(w, backup, backup_len, again, sizeof again, &len),
               WALLET_TPM_EK_CHANGED);
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_STATE_NO_ACCOUNT);
  wallet_free(w);
  w = open_on(other_tpm, "created");
  if (w == NULL) return;
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_TPM_EK_CHANGED);
  check_last_error_mentions(w, "endorsement key");
  wallet_free(w);
}

/* ---- imported published keys: the TPM path gives the published bytes */

static wallet *import_into(const char *dir_name, const uint8_t key[32], const char *address) {
  uint8_t imported[20];
  size_t len = 0;
  wallet *w = open_on(main_tpm, dir_name);
  if (w == NULL) return NULL;
  CHECK_OK(wallet_import_key(w, key, 32, 0, imported, sizeof imported, &len));
  CHECK(len == 20);
  check_address_is(imported, address);
  return w;
}

static void test_published_vectors(void) {
  uint8_t key[32], payload[200], raw[400], signature[65], domain[32], struct_hash[32];
  uint8_t default_policy_hash[32];
  size_t payload_len, len = 0;
  int mode;
  wallet *w;

  memset(default_policy_hash, 0, sizeof default_policy_hash);
  unhex_or_fail(EIP155_KEY, key, sizeof key);
  w = import_into("eip155", key, EIP155_ADDRESS);
  payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
  for (mode = 0; w != NULL && mode < 2; mode++) {
    CHECK_OK(wallet_set_key_mode(w, mode == 0 ? WALLET_KEY_MODE_STRICT : WALLET_KEY_MODE_CACHED));
    CHECK_OK(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &len));
    CHECK_HEX(raw, len, EIP155_SIGNED_TX);
  }
  if (w != NULL) CHECK_OK(wallet_policy_hash(w, default_policy_hash, 32, &len));
  wallet_free(w);

  unhex_or_fail(ETH_ACCOUNT_KEY, key, sizeof key);
  w = import_into("eth-account", key, ETH_ACCOUNT_ADDRESS);
  /* Another account with the default policy: the same policy hash. */
  if (w != NULL) {
    uint8_t other_hash[32];
    CHECK_OK(wallet_policy_hash(w, other_hash, sizeof other_hash, &len));
    CHECK(memcmp(other_hash, default_policy_hash, 32) == 0 && !all_bytes(other_hash, 32, 0));
  }
  payload_len = unhex_or_fail(EIP1559_PAYLOAD, payload, sizeof payload);
  for (mode = 0; w != NULL && mode < 2; mode++) {
    CHECK_OK(wallet_set_key_mode(w, mode == 0 ? WALLET_KEY_MODE_STRICT : WALLET_KEY_MODE_CACHED));
    CHECK_OK(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &len));
    CHECK_HEX(raw, len, EIP1559_SIGNED_TX);
  }
  wallet_free(w);

  unhex_or_fail(MESSAGE_KEY, key, sizeof key);
  w = import_into("message", key, MESSAGE_ADDRESS);
  for (mode = 0; w != NULL && mode < 2; mode++) {
    CHECK_OK(wallet_set_key_mode(w, mode == 0 ? WALLET_KEY_MODE_STRICT : WALLET_KEY_MODE_CACHED));
    CHECK_OK(wallet_sign_message(w, (const uint8_t *)MESSAGE_TEXT, strlen(MESSAGE_TEXT),
                                 signature, sizeof signature, &len));
    CHECK_HEX(signature, len, MESSAGE_SIGNATURE);
  }
  wallet_free(w);

  keccak256_ref((const uint8_t *)"cow", 3, key);
  w = import_into("mail", key, MAIL_ADDRESS);
  unhex_or_fail(MAIL_DOMAIN_SEPARATOR, domain, sizeof domain);
  unhex_or_fail(MAIL_STRUCT_HASH, struct_hash, sizeof struct_hash);
  for (mode = 0; w != NULL && mode < 2; mode++) {
    CHECK_OK(wallet_set_key_mode(w, mode == 0 ? WALLET_KEY_MODE_STRICT : WALLET_KEY_MODE_CACHED));
    CHECK_OK(wallet_sign_typed_data_hash(w, domain, 32, struct_hash, 32, signature,
                                         sizeof signature, &len));
    CHECK_HEX(signature, len, MAIL_SIGNATURE);
  }
  wallet_free(w);

  /* Bad keys are refused and leave no account behind. */
  w = open_on(main_tpm, "bad-imports");
  if (w == NULL) return;
  memset(key, 0, sizeof key);
  CHECK_RESULT(wallet_import_key(w, key, 32, 0, raw, sizeof raw, &len),
               WALLET_SIGNER_INVALID_SECRET_KEY);
  unhex_or_fail("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", key,
                sizeof key);
  CHECK_RESULT(wallet_import_key(w, key, 32, 0, raw, sizeof raw, &len),
               WALLET_SIGNER_INVALID_SECRET_KEY);
  CHECK_RESULT(wallet_import_key(w, key, 31, 0, raw, sizeof raw, &len),
               WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH);
  CHECK_RESULT(wallet_load_account(w, raw, sizeof raw, &len), WALLET_STATE_NO_ACCOUNT);
  wallet_free(w);
}

/* ---- an account bound to PCRs */

static void test_pcr_bound_account(void) {
  uint8_t address[20], again[20], raw[400];
  size_t len = 0;
  wallet *w = open_on(main_tpm, "pcr-bound");
  if (w == NULL) return;
  CHECK_RESULT(wallet_create_account(w, 1u << 24, address, sizeof address, &len),
               WALLET_TPM_INVALID_PCR_SELECTION);
  CHECK_RESULT(wallet_load_account(w, address, sizeof address, &len), WALLET_STATE_NO_ACCOUNT);
  CHECK_OK(wallet_create_account(w, (1u << 0) | (1u << 7) | (1u << 16), address, sizeof address,
                                 &len));
  sign_and_recover(w, EIP1559_PAYLOAD, address, raw, sizeof raw);
  wallet_free(w);
  w = open_on(main_tpm, "pcr-bound");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, again, sizeof again, &len));
  CHECK(memcmp(again, address, 20) == 0);
  sign_and_recover(w, EIP155_SIGNING_DATA, address, raw, sizeof raw);
  wallet_free(w);
}

/* A PIN-locked account: it loads only once the PIN is set, a wrong PIN is
 * WALLET_SEAL_WRONG_PIN, and bad lock arguments are refused before the TPM. */
static void test_pin_locked_account(void) {
  static const uint8_t PIN[] = "2718";
  static const uint8_t WRONG[] = "3141";
  uint8_t address[20], again[20], raw[400];
  size_t len = 0;
  wallet *w = open_on(main_tpm, "pin-locked");
  if (w == NULL) return;
  CHECK_RESULT(wallet_create_account_locked(w, 0, WALLET_KEY_LOCK_PIN, NULL, 0, address,
                                            sizeof address, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_create_account_locked(w, 0, WALLET_KEY_LOCK_PCR, NULL, 0, address,
                                            sizeof address, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_OK(wallet_create_account_locked(w, 0, WALLET_KEY_LOCK_PIN, PIN, sizeof PIN - 1, address,
                                        sizeof address, &len));
  sign_and_recover(w, EIP1559_PAYLOAD, address, raw, sizeof raw);
  wallet_free(w);
  w = open_on(main_tpm, "pin-locked");
  if (w == NULL) return;
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_SEAL_PIN_REQUIRED);
  CHECK_OK(wallet_set_pin(w, WRONG, sizeof WRONG - 1));
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_SEAL_WRONG_PIN);
  CHECK_OK(wallet_set_pin(w, PIN, sizeof PIN - 1));
  CHECK_OK(wallet_load_account(w, again, sizeof again, &len));
  CHECK(memcmp(again, address, 20) == 0);
  sign_and_recover(w, EIP155_SIGNING_DATA, address, raw, sizeof raw);
  wallet_free(w);
}

/* ---- NULL arguments and short buffers of every wallet function */

static void test_null_and_short_buffers(void) {
  uint8_t key[32], payload[64], out[WALLET_EVIDENCE_MAX_LEN], hash[32], evidence[8];
  size_t payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t len = 777;
  uint64_t count = 777;
  wallet_evidence_facts facts;
  wallet *w;

  unhex_or_fail(EIP155_KEY, key, sizeof key);
  w = open_on(main_tpm, "eip155");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, out, sizeof out, &len));
  {
    /* No core error on this handle yet: the detail is empty. */
    char text[8];
    memset(text, SENTINEL, sizeof text);
    CHECK_OK(wallet_last_error_message(w, text, sizeof text, &len));
    CHECK(len == 0 && text[0] == '\0');
  }
  memset(hash, 0x33, sizeof hash);
  memset(evidence, 0x44, sizeof evidence);
  memset(out, SENTINEL, sizeof out);
  memset(&facts, SENTINEL, sizeof facts);
  len = 777;

  /* A NULL handle. */
  CHECK_RESULT(wallet_create_account(NULL, 0, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_key(NULL, key, 32, 0, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_load_account(NULL, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_address(NULL, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_set_key_mode(NULL, WALLET_KEY_MODE_CACHED), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_transaction(NULL, payload, payload_len, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_message(NULL, payload, 3, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_typed_data_hash(NULL, hash, 32, hash, 32, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_attest(NULL, hash, 32, 1, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_backup(NULL, (char *)out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_restore(NULL, "AAAA", 4, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_hash(NULL, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_tpm_commands_sent(NULL, &count), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_last_error_message(NULL, (char *)out, sizeof out, &len),
               WALLET_NULL_PARAMETER);

  /* A NULL input with a length. */
  CHECK_RESULT(wallet_import_key(w, NULL, 32, 0, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_transaction(w, NULL, payload_len, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_message(w, NULL, 3, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_typed_data_hash(w, NULL, 32, hash, 32, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_typed_data_hash(w, hash, 32, NULL, 32, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_attest(w, NULL, 32, 1, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_restore(w, NULL, 4, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(NULL, 8, hash, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0, NULL, 0,
                                      &facts),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(evidence, 8, NULL, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      NULL, 0, &facts),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(evidence, 8, hash, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      NULL, 20, &facts),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(evidence, 8, hash, 32, NULL, 5, NULL, 0, NULL, 0, 0, 0,
                                      NULL, 0, &facts),
               WALLET_NULL_PARAMETER);

  /* A NULL output with a capacity, or no place for the length. */
  CHECK_RESULT(wallet_create_account(w, 0, NULL, 20, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_create_account(w, 0, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_key(w, key, 32, 0, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_load_account(w, NULL, 20, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_address(w, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, NULL, 200, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, out, sizeof out, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_message(w, payload, 3, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_sign_typed_data_hash(w, hash, 32, hash, 32, NULL, 65, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_attest(w, hash, 32, 1, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_backup(w, NULL, 100, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_backup(w, (char *)out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_restore(w, "AAAA", 4, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_hash(w, NULL, 32, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_hash(w, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_tpm_commands_sent(w, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_last_error_message(w, NULL, 10, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(evidence, 8, hash, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0,
                                      NULL, 0, NULL),
               WALLET_NULL_PARAMETER);

  /* Wrong fixed lengths and unknown values. */
  CHECK_RESULT(wallet_set_key_mode(w, 2), WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_sign_typed_data_hash(w, hash, 31, hash, 32, out, sizeof out, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_verify_evidence(evidence, 8, hash, 32, NULL, 0, NULL, 0, NULL, 0, 0, 0, key,
                                      19, &facts),
               WALLET_INVALID_PARAMETER);

  /* An output overlapping an input. */
  memcpy(out, payload, payload_len);
  CHECK_RESULT(wallet_sign_transaction(w, out, payload_len, out + 4, 200, &len),
               WALLET_INVALID_PARAMETER);
  memset(out, SENTINEL, sizeof out);

  /* Nothing was written by any of them. */
  CHECK(len == 777 && count == 777);
  CHECK(all_bytes(out, sizeof out, SENTINEL));
  CHECK(all_bytes(&facts, sizeof facts, SENTINEL));

  /* Short buffers: the length needed, the buffer untouched. */
  CHECK_RESULT(wallet_address(w, out, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20);
  CHECK_RESULT(wallet_load_account(w, out, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20);
  len = 0;
  CHECK_RESULT(wallet_sign_message(w, payload, 3, out, 64, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_SIGNATURE_LEN);
  len = 0;
  CHECK_RESULT(wallet_sign_typed_data_hash(w, hash, 32, hash, 32, NULL, 0, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_SIGNATURE_LEN);
  len = 0;
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, out, 10, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 110); /* the EIP-155 example's signed length */
  len = 0;
  CHECK_RESULT(wallet_import_key(w, key, 32, 0, out, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20);
  len = 0;
  CHECK_RESULT(wallet_policy_hash(w, out, 31, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 32);
  {
    char text[8];
    CHECK_RESULT(wallet_create_account(w, 0, out, sizeof out, &len), WALLET_STATE_ACCOUNT_EXISTS);
    memset(text, SENTINEL, sizeof text);
    CHECK_RESULT(wallet_last_error_message(w, text, sizeof text, &len), WALLET_BUFFER_TOO_SMALL);
    CHECK(len > sizeof text && all_bytes(text, sizeof text, SENTINEL));
  }
  CHECK(all_bytes(out, sizeof out, SENTINEL));
  CHECK_RESULT(wallet_tpm_commands_sent(w, &count), WALLET_OK);
  CHECK(count > 0 && count != 777);
  wallet_free(w);
}

/* ---- one handle, several threads */

#define THREADS 4
#define SIGNATURES_PER_THREAD 3

struct thread_job {
  const wallet *w;
  int failures;
};

static void *sign_in_thread(void *arg) {
  struct thread_job *job = (struct thread_job *)arg;
  uint8_t payload[64], raw[200], expected[200];
  size_t payload_len = unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t expected_len = unhex(EIP155_SIGNED_TX, expected, sizeof expected);
  int i;
  for (i = 0; i < SIGNATURES_PER_THREAD; i++) {
    size_t len = 0;
    uint32_t rc = wallet_sign_transaction(job->w, payload, payload_len, raw, sizeof raw, &len);
    if (rc != WALLET_OK || len != expected_len || memcmp(raw, expected, len) != 0) {
      job->failures++;
    }
  }
  return NULL;
}

static void test_threads(void) {
  pthread_t threads[THREADS];
  struct thread_job jobs[THREADS];
  uint8_t address[20];
  uint64_t before;
  size_t len = 0;
  int i;
  wallet *w = open_on(main_tpm, "eip155");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, address, sizeof address, &len));
  before = commands_sent(w);
  for (i = 0; i < THREADS; i++) {
    jobs[i].w = w;
    jobs[i].failures = 0;
    CHECK(pthread_create(&threads[i], NULL, sign_in_thread, &jobs[i]) == 0);
  }
  for (i = 0; i < THREADS; i++) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK(jobs[i].failures == 0);
  }
  /* Strict mode: every one of the signatures unsealed the key. */
  CHECK(commands_sent(w) >= before + THREADS * SIGNATURES_PER_THREAD);
  wallet_free(w);
}

int main(void) {
  main_tpm = getenv("FLARE_WALLET_TPM");
  other_tpm = getenv("WALLET_TEST_OTHER_TPM");
  scratch = getenv("WALLET_TEST_DIR");
  if (main_tpm == NULL || other_tpm == NULL || scratch == NULL) {
    fprintf(stderr, "test_wallet needs FLARE_WALLET_TPM, WALLET_TEST_OTHER_TPM and "
                    "WALLET_TEST_DIR: run it through tests/c/run.sh\n");
    return 2;
  }
  test_open_errors();
  test_tpm_identity();
  test_enrollment();
  test_platform_ak();
  test_endorsement_keys();
  test_created_account();
  test_published_vectors();
  test_pcr_bound_account();
  test_pin_locked_account();
  test_null_and_short_buffers();
  test_threads();
  return check_summary("test_wallet");
}
