/*
 * Owner authority from C: accounts with owners, admin requests approved by
 * M of N owners (EIP-712), each refusal with its code, ownerless accounts,
 * and the hash-chained audit log, against a real software TPM (swtpm) that
 * tests/c/run.sh starts for each run of this program:
 *
 *   FLARE_WALLET_TPM        the TPM
 *   WALLET_TEST_OTHER_TPM   a second TPM (an exported key is imported there)
 *   WALLET_TEST_DIR         an empty scratch directory, mode 0700
 *   FLARE_WALLET_CAST       Foundry's cast, which signs a request as an owner
 *
 * Owners are in-memory signers (wallet_signer_*). Oracles: the EIP-712
 * digest of one request rebuilt here from its definition with the
 * reference Keccak (keccak_ref.h); the EIP-155 example transaction
 * (tests/c/README.md); an exported keystore imported on another TPM.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/valgrind.h>

#include "check.h"
#include "keccak_ref.h"

#define SENTINEL 0xa5

/* EIP-155 "Example": key 0x46..46, 1 ether to 0x35..35 on chain 1. */
static const char EIP155_KEY[] = "4646464646464646464646464646464646464646464646464646464646464646";
static const char EIP155_ADDRESS[] = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";
static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";

static const char CAPPED[] = "{\"chain_ids\": [1], \"max_value_wei\": \"1000\"}";
static const char RAISED[] = "{\"chain_ids\": [1], \"max_value_wei\": \"2000000000000000000\"}";
static const char PASSWORD[] = "owner-approved export";
/* The weakest KDF an export accepts. */
static const wallet_kdf_params EXPORT_PBKDF2 = {WALLET_KEYSTORE_KDF_PBKDF2, 600000, 0, 0, 0};
static const wallet_kdf_params WEAK_PBKDF2 = {WALLET_KEYSTORE_KDF_PBKDF2, 599999, 0, 0, 0};
#define FAR_DEADLINE 4102444800u /* 2100-01-01 */

static const char *main_tpm;
static const char *other_tpm;
static const char *scratch;
static const char *cast;
static int full_cost; /* the export KDF runs (not under valgrind) */

/* Three owners and one stranger. */
static wallet_signer *owner[3];
static wallet_signer *stranger;
static uint8_t owner_addresses[3 * 20];

typedef struct {
  uint8_t bytes[WALLET_POLICY_MAX_LEN];
  size_t len;
} policy_buf;

typedef struct {
  char text[WALLET_ADMIN_REQUEST_MAX_LEN];
  size_t len;
} request_text;

/* ---- helpers */

static int all_bytes(const void *buf, size_t len, uint8_t value) {
  const uint8_t *p = (const uint8_t *)buf;
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != value) return 0;
  return 1;
}

static size_t unhex_or_fail(const char *hex, uint8_t *out, size_t cap) {
  size_t n = unhex(hex, out, cap);
  CHECK(n > 0);
  return n;
}

static wallet *open_on(const char *tcti, const char *name) {
  char dir[1024];
  wallet *w = NULL;
  CHECK(snprintf(dir, sizeof dir, "%s/%s", scratch, name) < (int)sizeof dir);
  CHECK_OK(wallet_open(tcti, dir, &w));
  return w;
}

static policy_buf policy_from(const char *json) {
  policy_buf p;
  p.len = 0;
  CHECK_OK(wallet_policy_from_json(json, strlen(json), p.bytes, sizeof p.bytes, &p.len));
  return p;
}

static void check_address_is(const uint8_t address[20], const char *expected_checksum) {
  char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
  size_t len = 0;
  CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
  CHECK(strcmp(text, expected_checksum) == 0);
}

/* An owner's approval of `r`: its signature over the request's EIP-712
 * digest, from the two hashes the ABI gives. */
static void approve(const wallet_signer *signer, const request_text *r, uint8_t out[65]) {
  uint8_t hashes[64];
  size_t len = 0;
  CHECK_OK(wallet_admin_request_eip712_hashes(r->text, r->len, hashes, sizeof hashes, &len));
  CHECK(len == 64);
  CHECK_OK(wallet_signer_sign_typed_data_hash(signer, hashes, 32, hashes + 32, 32, out, 65, &len));
  CHECK(len == 65);
}

static request_text request_policy(const wallet *w, const policy_buf *p, uint64_t deadline) {
  request_text r;
  r.len = 0;
  CHECK_OK(wallet_admin_request_replace_policy(w, p->bytes, p->len, deadline, r.text,
                                               sizeof r.text, &r.len));
  CHECK(r.len > 0 && r.len == strlen(r.text));
  return r;
}

/* Executes a policy replacement; on a refusal checks that nothing was
 * written. */
static void execute_policy(const wallet *w, const request_text *r, const uint8_t *approvals,
                           size_t count, const policy_buf *p, uint32_t code) {
  uint8_t hash[32];
  size_t len = 777;
  memset(hash, SENTINEL, sizeof hash);
  CHECK_RESULT(wallet_execute_replace_policy(w, r->text, r->len, approvals, count, p->bytes, p->len,
                                             hash, sizeof hash, &len),
               code);
  if (code == WALLET_OK) {
    uint8_t expected[32];
    CHECK(len == 32);
    CHECK_OK(wallet_policy_encoding_hash(p->bytes, p->len, expected, sizeof expected, &len));
    CHECK(memcmp(hash, expected, 32) == 0);
  } else {
    CHECK(len == 777 && all_bytes(hash, sizeof hash, SENTINEL));
  }
}

static uint64_t admin_nonce(const wallet *w) {
  uint64_t nonce = 777;
  CHECK_OK(wallet_admin_nonce(w, &nonce));
  return nonce;
}

static void sign_eip155(const wallet *w, uint32_t code) {
  uint8_t payload[64], raw[200];
  size_t payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload), len = 0;
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &len), code);
  if (code == WALLET_OK) CHECK_HEX(raw, len, EIP155_SIGNED_TX);
}

/* Replaces every occurrence of `from` in `text` (same length) with `to`. */
static void replace_all(char *text, const char *from, const char *to) {
  char *at = text;
  size_t n = strlen(from);
  CHECK(strlen(to) == n);
  while ((at = strstr(at, from)) != NULL) {
    memcpy(at, to, n);
    at += n;
  }
}

/* The offset of `needle` in `hay`, or `len` if absent. */
static size_t find(const uint8_t *hay, size_t len, const char *needle) {
  size_t n = strlen(needle), i;
  for (i = 0; i + n <= len; i++)
    if (memcmp(hay + i, needle, n) == 0) return i;
  return len;
}

/* The approval `cast wallet sign --data` gives for the request JSON with
 * the key 0x1111...11 (owner 0): the request is what an EIP-712 tool signs. */
static int cast_approval(const request_text *r, uint8_t out[65]) {
  char path[1024], command[2048], output[256];
  FILE *f;
  size_t got;
  CHECK(snprintf(path, sizeof path, "%s/request.json", scratch) < (int)sizeof path);
  f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return 0;
  CHECK(fwrite(r->text, 1, r->len, f) == r->len);
  CHECK(fclose(f) == 0);
  CHECK(snprintf(command, sizeof command,
                 "'%s' wallet sign --data --from-file '%s' --private-key 0x%s", cast, path,
                 "1111111111111111111111111111111111111111111111111111111111111111") <
        (int)sizeof command);
  f = popen(command, "r");
  CHECK(f != NULL);
  if (f == NULL) return 0;
  got = fread(output, 1, sizeof output - 1, f);
  output[got] = '\0';
  CHECK(pclose(f) == 0);
  CHECK(got >= 132 && output[0] == '0' && output[1] == 'x');
  if (got < 132) return 0;
  output[132] = '\0';
  return unhex(output + 2, out, 65) == 65;
}

/* ---- the EIP-712 digest, rebuilt from its definition */

static void keccak_str(const char *s, uint8_t out[32]) { keccak256_ref((const uint8_t *)s, strlen(s), out); }

static void be64_word(uint64_t v, uint8_t out[32]) {
  int i;
  memset(out, 0, 32);
  for (i = 0; i < 8; i++) out[31 - i] = (uint8_t)(v >> (8 * i));
}

static void test_digest_against_reference(const wallet *w, const uint8_t address[20]) {
  policy_buf p = policy_from(RAISED);
  request_text r = request_policy(w, &p, 1234567890u);
  uint8_t buf[32 * 5], domain[32], st[32], digest_in[66], expected[32], got[32], hashes[64];
  size_t len = 0;

  /* domainSeparator = keccak(typeHash || keccak(name) || keccak(version) || uint256(wallet)) */
  keccak_str("EIP712Domain(string name,string version,address verifyingContract)", buf);
  keccak_str("flare-wallet", buf + 32);
  keccak_str("1", buf + 64);
  memset(buf + 96, 0, 12);
  memcpy(buf + 108, address, 20);
  keccak256_ref(buf, 128, domain);
  /* hashStruct = keccak(typeHash || keccak(action) || paramsHash || uint256(nonce) ||
   * uint256(deadline)); for replace_policy paramsHash is the policy hash. */
  keccak_str("AdminRequest(string action,bytes32 paramsHash,uint64 nonce,uint64 deadline)", buf);
  keccak_str("replace_policy", buf + 32);
  CHECK_OK(wallet_policy_encoding_hash(p.bytes, p.len, buf + 64, 32, &len));
  be64_word(admin_nonce(w), buf + 96);
  be64_word(1234567890u, buf + 128);
  keccak256_ref(buf, 160, st);
  digest_in[0] = 0x19;
  digest_in[1] = 0x01;
  memcpy(digest_in + 2, domain, 32);
  memcpy(digest_in + 34, st, 32);
  keccak256_ref(digest_in, 66, expected);

  CHECK_OK(wallet_admin_request_digest(r.text, r.len, got, sizeof got, &len));
  CHECK(len == 32 && memcmp(got, expected, 32) == 0);
  CHECK_OK(wallet_admin_request_eip712_hashes(r.text, r.len, hashes, sizeof hashes, &len));
  CHECK(len == 64 && memcmp(hashes, domain, 32) == 0 && memcmp(hashes + 32, st, 32) == 0);
  /* What cast and MetaMask take. */
  CHECK(strstr(r.text, "\"primaryType\":\"AdminRequest\"") != NULL);
  CHECK(strstr(r.text, "\"action\":\"replace_policy\"") != NULL);
  CHECK(strstr(r.text, EIP155_ADDRESS) != NULL);
  /* Arguments. */
  CHECK_RESULT(wallet_admin_request_digest(NULL, 3, got, sizeof got, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_admin_request_digest(r.text, r.len, got, 31, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK_RESULT(wallet_admin_request_digest("{}", 2, got, sizeof got, &len),
               WALLET_AUTHORITY_JSON_MISSING_FIELD);
  CHECK_RESULT(wallet_admin_request_digest("{", 1, got, sizeof got, &len),
               WALLET_AUTHORITY_JSON_SYNTAX);
}

/* ---- 2 of 3 owners */

static void test_owners_raise_a_cap(void) {
  uint8_t key[32], address[20], owners_out[WALLET_MAX_OWNERS * 20], approvals[4 * 65];
  uint8_t hash[32];
  char json_out[WALLET_KEYSTORE_MAX_LEN + 8];
  size_t len = 0;
  uint32_t threshold = 0;
  policy_buf capped = policy_from(CAPPED), raised = policy_from(RAISED);
  policy_buf everything = policy_from("{}");
  request_text r, expired, other, export_request;
  wallet *w = open_on(main_tpm, "owned");
  if (w == NULL) return;
  /* An account with owners names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));

  CHECK(unhex_or_fail(EIP155_KEY, key, sizeof key) == 32);
  /* Owner-set errors, nothing created. */
  CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len,
                                             owner_addresses, 0, 1, address, 20, &len),
               WALLET_AUTHORITY_NO_OWNERS);
  CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len,
                                             owner_addresses, 3, 4, address, 20, &len),
               WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE);
  CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len,
                                             owner_addresses, 17, 1, address, 20, &len),
               WALLET_AUTHORITY_TOO_MANY_OWNERS);
  {
    uint8_t twice[40];
    memcpy(twice, owner_addresses, 20);
    memcpy(twice + 20, owner_addresses, 20);
    CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len, twice, 2,
                                               1, address, 20, &len),
                 WALLET_AUTHORITY_DUPLICATE_OWNER);
    memset(twice, 0, 20);
    CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len, twice, 1,
                                               1, address, 20, &len),
                 WALLET_AUTHORITY_ZERO_OWNER);
  }
  CHECK_RESULT(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len, NULL, 3, 2,
                                             address, 20, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_owners(w, owners_out, sizeof owners_out, &len, &threshold),
               WALLET_ACCOUNT_NOT_LOADED);

  CHECK_OK(wallet_import_key_with_owners(w, key, 32, 0, capped.bytes, capped.len, owner_addresses,
                                         3, 2, address, sizeof address, &len));
  check_address_is(address, EIP155_ADDRESS);
  CHECK_OK(wallet_owners(w, owners_out, sizeof owners_out, &len, &threshold));
  CHECK(len == 60 && threshold == 2);
  {
    /* Sorted ascending; the same three. */
    int i, j, found = 0;
    CHECK(memcmp(owners_out, owners_out + 20, 20) < 0 && memcmp(owners_out + 20, owners_out + 40, 20) < 0);
    for (i = 0; i < 3; i++)
      for (j = 0; j < 3; j++) found += memcmp(owners_out + 20 * i, owner_addresses + 20 * j, 20) == 0;
    CHECK(found == 3);
  }
  CHECK(admin_nonce(w) == 0);
  test_digest_against_reference(w, address);

  /* The cap refuses the transfer. */
  sign_eip155(w, WALLET_POLICY_VALUE_ABOVE_CAP);

  /* The agent alone: no entry point loosens the policy or exports. */
  CHECK_RESULT(wallet_replace_policy(w, raised.bytes, raised.len, hash, sizeof hash, &len),
               WALLET_AUTHORITY_NO_APPROVALS);
  CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, strlen(PASSWORD), &WEAK_PBKDF2,
                                                  json_out, sizeof json_out, &len),
               WALLET_EXPORT_WEAK_KDF);
  CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), WALLET_KEYSTORE_KDF_PBKDF2,
                                      json_out, sizeof json_out, &len),
               WALLET_EXPORT_WEAK_KDF);
  CHECK_RESULT(wallet_export_keystore_with_params(w, "", 0, &EXPORT_PBKDF2, json_out,
                                                  sizeof json_out, &len),
               WALLET_EXPORT_EMPTY_PASSWORD);
  r = request_policy(w, &raised, FAR_DEADLINE);
  execute_policy(w, &r, NULL, 0, &raised, WALLET_AUTHORITY_NO_APPROVALS);
  approve(owner[0], &r, approvals);
  execute_policy(w, &r, approvals, 1, &raised, WALLET_AUTHORITY_TOO_FEW_APPROVALS);
  /* A stranger, a second approval by the same owner. */
  approve(stranger, &r, approvals + 65);
  execute_policy(w, &r, approvals, 2, &raised, WALLET_AUTHORITY_NOT_OWNER);
  approve(owner[0], &r, approvals + 65);
  execute_policy(w, &r, approvals, 2, &raised, WALLET_AUTHORITY_DUPLICATE_SIGNER);
  /* Tampered params: the approved request, another policy. */
  approve(owner[2], &r, approvals + 65);
  execute_policy(w, &r, approvals, 2, &everything, WALLET_AUTHORITY_PARAMS_MISMATCH);
  /* A malformed approval. */
  {
    uint8_t bad[130];
    memcpy(bad, approvals, 130);
    bad[65 + 64] = 9;
    execute_policy(w, &r, bad, 2, &raised, WALLET_AUTHORITY_MALFORMED_SIGNATURE);
  }
  /* Expired. */
  expired = request_policy(w, &raised, 1);
  approve(owner[0], &expired, approvals + 2 * 65);
  approve(owner[1], &expired, approvals + 3 * 65);
  execute_policy(w, &expired, approvals + 2 * 65, 2, &raised, WALLET_AUTHORITY_EXPIRED);
  /* Another wallet's request (its verifyingContract), approved as such. */
  other = r;
  replace_all(other.text, EIP155_ADDRESS, "0x3535353535353535353535353535353535353535");
  {
    uint8_t other_approvals[130];
    approve(owner[0], &other, other_approvals);
    approve(owner[1], &other, other_approvals + 65);
    execute_policy(w, &other, other_approvals, 2, &raised, WALLET_AUTHORITY_WRONG_WALLET);
  }
  /* The wrong action: an approved export request used to replace the policy. */
  CHECK_RESULT(wallet_admin_request_export_keystore(w, "", 0, &EXPORT_PBKDF2, FAR_DEADLINE,
                                                    export_request.text, sizeof export_request.text,
                                                    &export_request.len),
               WALLET_EXPORT_EMPTY_PASSWORD);
  CHECK_RESULT(wallet_admin_request_export_keystore(w, PASSWORD, strlen(PASSWORD), &WEAK_PBKDF2,
                                                    FAR_DEADLINE, export_request.text,
                                                    sizeof export_request.text, &export_request.len),
               WALLET_EXPORT_WEAK_KDF);
  {
    /* A request of another action, written here (its params are not
     * checked before the action is). */
    request_text wrong = r;
    uint8_t wrong_approvals[130];
    replace_all(wrong.text, "\"replace_policy\"", "\"replace_owners\"");
    approve(owner[0], &wrong, wrong_approvals);
    approve(owner[1], &wrong, wrong_approvals + 65);
    execute_policy(w, &wrong, wrong_approvals, 2, &raised, WALLET_AUTHORITY_WRONG_ACTION);
  }
  CHECK(admin_nonce(w) == 0);
  sign_eip155(w, WALLET_POLICY_VALUE_ABOVE_CAP);

  /* Owner 0 signs with cast instead: the same approval. */
  {
    uint8_t from_cast[65];
    CHECK(cast_approval(&r, from_cast));
    CHECK(memcmp(from_cast, approvals, 65) == 0);
    memcpy(approvals, from_cast, 65);
  }

  /* Two of three owners: the cap is raised and the refused transfer signs. */
  execute_policy(w, &r, approvals, 2, &raised, WALLET_OK);
  CHECK(admin_nonce(w) == 1);
  sign_eip155(w, WALLET_OK);
  /* The same approvals again: replayed. */
  execute_policy(w, &r, approvals, 2, &raised, WALLET_AUTHORITY_REPLAYED);
  /* A request for a nonce not yet current. */
  {
    request_text ahead = request_policy(w, &capped, FAR_DEADLINE);
    uint8_t ahead_approvals[130];
    replace_all(ahead.text, "\"nonce\":\"1\"", "\"nonce\":\"5\"");
    replace_all(ahead.text, "\"nonce\":1,", "\"nonce\":5,");
    approve(owner[0], &ahead, ahead_approvals);
    approve(owner[1], &ahead, ahead_approvals + 65);
    execute_policy(w, &ahead, ahead_approvals, 2, &capped, WALLET_AUTHORITY_NONCE_NOT_CURRENT);
  }

  /* Replacing the owners: the stranger alone, threshold 1. */
  {
    uint8_t stranger_address[20], new_hash[32], a[130];
    request_text ro;
    CHECK_OK(wallet_signer_address(stranger, stranger_address, 20, &len));
    ro.len = 0;
    CHECK_OK(wallet_admin_request_replace_owners(w, stranger_address, 1, 1, FAR_DEADLINE, ro.text,
                                                 sizeof ro.text, &ro.len));
    CHECK(strstr(ro.text, "\"replace_owners\"") != NULL);
    approve(owner[1], &ro, a);
    approve(owner[2], &ro, a + 65);
    len = 777;
    CHECK_RESULT(wallet_execute_replace_owners(w, ro.text, ro.len, a, 2, owner_addresses, 1, 1,
                                               new_hash, sizeof new_hash, &len),
                 WALLET_AUTHORITY_PARAMS_MISMATCH);
    CHECK(len == 777);
    CHECK_OK(wallet_execute_replace_owners(w, ro.text, ro.len, a, 2, stranger_address, 1, 1,
                                           new_hash, sizeof new_hash, &len));
    CHECK(len == 32);
    CHECK_OK(wallet_owners(w, owners_out, sizeof owners_out, &len, &threshold));
    CHECK(len == 20 && threshold == 1 && memcmp(owners_out, stranger_address, 20) == 0);
    CHECK(admin_nonce(w) == 2);
    /* The old owners no longer count. */
    r = request_policy(w, &capped, FAR_DEADLINE);
    approve(owner[0], &r, a);
    approve(owner[1], &r, a + 65);
    execute_policy(w, &r, a, 2, &capped, WALLET_AUTHORITY_NOT_OWNER);
    approve(stranger, &r, a);
    execute_policy(w, &r, a, 1, &capped, WALLET_OK);
    sign_eip155(w, WALLET_POLICY_VALUE_ABOVE_CAP);
  }

  /* An owner-approved export: it imports on another TPM as the same key. */
  if (full_cost) {
    uint8_t a[65], imported[20];
    char keystore[WALLET_KEYSTORE_MAX_LEN];
    wallet *again;
    export_request.len = 0;
    CHECK_OK(wallet_admin_request_export_keystore(w, PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2,
                                                  FAR_DEADLINE, export_request.text,
                                                  sizeof export_request.text, &export_request.len));
    CHECK(strstr(export_request.text, PASSWORD) == NULL);
    CHECK(strstr(export_request.text, "\"export_keystore\"") != NULL);
    approve(stranger, &export_request, a);
    /* Another password than the approved one. */
    CHECK_RESULT(wallet_execute_export_keystore(w, export_request.text, export_request.len, a, 1,
                                                "another password", 16, &EXPORT_PBKDF2, keystore,
                                                sizeof keystore, &len),
                 WALLET_AUTHORITY_PARAMS_MISMATCH);
    CHECK_RESULT(wallet_execute_export_keystore(w, export_request.text, export_request.len, a, 1,
                                                PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2,
                                                keystore, sizeof keystore - 1, &len),
                 WALLET_BUFFER_TOO_SMALL);
    CHECK_OK(wallet_execute_export_keystore(w, export_request.text, export_request.len, a, 1,
                                            PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2, keystore,
                                            sizeof keystore, &len));
    CHECK(len == strlen(keystore) && strstr(keystore, "\"c\":600000") != NULL);
    CHECK(admin_nonce(w) == 4);
    /* Replayed. */
    CHECK_RESULT(wallet_execute_export_keystore(w, export_request.text, export_request.len, a, 1,
                                                PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2,
                                                keystore, sizeof keystore, &len),
                 WALLET_AUTHORITY_REPLAYED);
    again = open_on(other_tpm, "exported-imported");
    if (again != NULL) {
      CHECK_OK(wallet_import_keystore(again, keystore, strlen(keystore), PASSWORD,
                                      strlen(PASSWORD), 0, imported, sizeof imported, &len));
      check_address_is(imported, EIP155_ADDRESS);
      wallet_free(again);
    }
  }

  /* The audit log: it verifies against the head, and an edit is found. */
  {
    static uint8_t log[256 * 1024];
    uint8_t head[32];
    size_t log_len = 0, i, at;
    uint32_t code;
    CHECK_OK(wallet_audit_log(w, log, sizeof log, &log_len));
    CHECK(log_len > 0 && log[log_len - 1] == '\n');
    CHECK_OK(wallet_audit_head(w, head, sizeof head, &len));
    CHECK(len == 32 && !all_bytes(head, 32, 0));
    CHECK_OK(wallet_verify_audit_log(log, log_len, head, 32));
    CHECK(find(log, log_len, "replace_policy") < log_len);
    CHECK(find(log, log_len, "replace_owners") < log_len);
    /* Every line but the last: drop it from the end. */
    for (i = log_len - 1; i > 0 && log[i - 1] != '\n'; i--) {
    }
    CHECK_RESULT(wallet_verify_audit_log(log, i, head, 32), WALLET_AUDIT_HEAD_MISMATCH);
    /* Someone else's head. */
    head[0] ^= 1;
    CHECK_RESULT(wallet_verify_audit_log(log, log_len, head, 32), WALLET_AUDIT_HEAD_MISMATCH);
    head[0] ^= 1;
    CHECK_RESULT(wallet_verify_audit_log(log, log_len, head, 31), WALLET_INVALID_PARAMETER);
    CHECK_RESULT(wallet_verify_audit_log(NULL, 3, head, 32), WALLET_NULL_PARAMETER);
    /* An edited line: "replace_policy" made "replace_polics". */
    at = find(log, log_len, "replace_policy");
    if (at < log_len) {
      log[at + 13] = 's';
      code = wallet_verify_audit_log(log, log_len, head, 32);
      CHECK(code == WALLET_AUDIT_ENTRY_HASH_MISMATCH || code == WALLET_AUDIT_MALFORMED);
      log[at + 13] = 'y';
    }
    CHECK_OK(wallet_verify_audit_log(log, log_len, head, 32));
  }
  wallet_free(w);
}

/* ---- an account without owners */

static void test_ownerless(void) {
  uint8_t address[20], hash[32], owners_out[20], a[65];
  char text[WALLET_KEYSTORE_MAX_LEN];
  size_t len = 0;
  uint32_t threshold = 777;
  policy_buf raised = policy_from(RAISED);
  request_text r;
  wallet *w = open_on(main_tpm, "ownerless");
  if (w == NULL) return;
  /* An account with a policy names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));
  CHECK_OK(wallet_create_account_with_policy(w, 0, raised.bytes, raised.len, address,
                                             sizeof address, &len));
  CHECK_OK(wallet_owners(w, owners_out, sizeof owners_out, &len, &threshold));
  CHECK(len == 0 && threshold == 0);
  CHECK(admin_nonce(w) == 0);
  CHECK_RESULT(wallet_admin_request_replace_policy(w, raised.bytes, raised.len, FAR_DEADLINE, text,
                                                   sizeof text, &len),
               WALLET_AUTHORITY_OWNERLESS);
  CHECK_RESULT(wallet_admin_request_replace_owners(w, owner_addresses, 3, 2, FAR_DEADLINE, text,
                                                   sizeof text, &len),
               WALLET_AUTHORITY_OWNERLESS);
  CHECK_RESULT(wallet_admin_request_export_keystore(w, PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2,
                                                    FAR_DEADLINE, text, sizeof text, &len),
               WALLET_AUTHORITY_OWNERLESS);
  CHECK_RESULT(wallet_replace_policy(w, raised.bytes, raised.len, hash, sizeof hash, &len),
               WALLET_AUTHORITY_OWNERLESS);
  CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, strlen(PASSWORD), &EXPORT_PBKDF2,
                                                  text, sizeof text, &len),
               WALLET_AUTHORITY_OWNERLESS);
  /* A request written for it anyway, approved by would-be owners. */
  {
    uint8_t *p;
    char hex[41];
    size_t i;
    r.len = (size_t)snprintf(
        r.text, sizeof r.text,
        "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\","
        "\"type\":\"string\"},{\"name\":\"verifyingContract\",\"type\":\"address\"}],"
        "\"AdminRequest\":[{\"name\":\"action\",\"type\":\"string\"},{\"name\":\"paramsHash\","
        "\"type\":\"bytes32\"},{\"name\":\"nonce\",\"type\":\"uint64\"},{\"name\":\"deadline\","
        "\"type\":\"uint64\"}]},\"primaryType\":\"AdminRequest\",\"domain\":{\"name\":\"flare-"
        "wallet\",\"version\":\"1\",\"verifyingContract\":\"0x");
    p = address;
    for (i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", p[i]);
    r.len += (size_t)snprintf(r.text + r.len, sizeof r.text - r.len,
                              "%s\"},\"message\":{\"action\":\"replace_policy\",\"paramsHash\":"
                              "\"0x%064d\",\"nonce\":0,\"deadline\":%u}}",
                              hex, 0, FAR_DEADLINE);
    len = 0;
    if (wallet_admin_request_digest(r.text, r.len, hash, sizeof hash, &len) == WALLET_OK) {
      approve(owner[0], &r, a);
      execute_policy(w, &r, a, 1, &raised, WALLET_AUTHORITY_OWNERLESS);
      CHECK_RESULT(wallet_execute_replace_owners(w, r.text, r.len, a, 1, owner_addresses, 3, 2,
                                                 hash, sizeof hash, &len),
                   WALLET_AUTHORITY_OWNERLESS);
      CHECK_RESULT(wallet_execute_export_keystore(w, r.text, r.len, a, 1, PASSWORD,
                                                  strlen(PASSWORD), &EXPORT_PBKDF2, text,
                                                  sizeof text, &len),
                   WALLET_AUTHORITY_OWNERLESS);
    } else {
      fprintf(stderr, "test_admin: hand-written request refused: %s\n", r.text);
      CHECK(0);
    }
  }
  wallet_free(w);
}

/* ---- the key lock is named; owners change the PIN */

static void test_key_lock_choice_and_change_pin(void) {
  static const uint8_t OLD_PIN[] = "4321", NEW_PIN[] = "8765", WRONG[] = "0000";
  uint8_t address[20], again[20], approvals[2 * 65], file[4096], current[4096];
  size_t len = 0, file_len, current_len;
  char path[1024];
  FILE *f;
  policy_buf capped = policy_from(CAPPED);
  request_text r;
  wallet *w = open_on(main_tpm, "change-pin");
  if (w == NULL) return;

  /* Not chosen: refused, with the choices named. */
  CHECK_RESULT(wallet_create_account_with_owners(w, 0, capped.bytes, capped.len, owner_addresses,
                                                 3, 2, address, sizeof address, &len),
               WALLET_KEY_LOCK_NOT_CHOSEN);
  {
    char message[1024];
    size_t message_len = 0;
    CHECK_OK(wallet_last_error_message(w, message, sizeof message, &message_len));
    CHECK(strstr(message, "none") != NULL && strstr(message, "boot-once") != NULL);
  }
  CHECK_RESULT(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE | WALLET_KEY_LOCK_PIN, OLD_PIN, 4),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_set_key_lock(w, WALLET_KEY_LOCK_PIN, NULL, 0), WALLET_INVALID_PARAMETER);
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_PIN, OLD_PIN, 4));
  CHECK_OK(wallet_create_account_with_owners(w, 0, capped.bytes, capped.len, owner_addresses, 3, 2,
                                             address, sizeof address, &len));
  CHECK(snprintf(path, sizeof path, "%s/change-pin/account.flwseal", scratch) < (int)sizeof path);
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL) return;
  file_len = fread(file, 1, sizeof file, f);
  fclose(f);

  /* The request commits to the key lock, not to a PIN. */
  r.len = 0;
  CHECK_OK(wallet_admin_request_change_pin(w, FAR_DEADLINE, r.text, sizeof r.text, &r.len));
  CHECK(strstr(r.text, "\"change_pin\"") != NULL);
  CHECK(strstr(r.text, "4321") == NULL && strstr(r.text, "8765") == NULL);
  approve(owner[0], &r, approvals);
  approve(owner[2], &r, approvals + 65);
  /* One approval of a 2-of-3 account, then a wrong current PIN: refused. */
  CHECK_RESULT(wallet_change_pin(w, r.text, r.len, approvals, 1, NULL, 0, NEW_PIN, 4),
               WALLET_AUTHORITY_TOO_FEW_APPROVALS);
  CHECK_RESULT(wallet_change_pin(w, r.text, r.len, approvals, 2, WRONG, 4, NEW_PIN, 4),
               WALLET_SEAL_WRONG_PIN);
  CHECK(admin_nonce(w) == 0);
  CHECK_OK(wallet_change_pin(w, r.text, r.len, approvals, 2, NULL, 0, NEW_PIN, 4));
  CHECK(admin_nonce(w) == 1);
  wallet_free(w);

  /* The old PIN no longer unseals; the new one does. */
  w = open_on(main_tpm, "change-pin");
  if (w == NULL) return;
  CHECK_OK(wallet_set_pin(w, OLD_PIN, 4));
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_SEAL_WRONG_PIN);
  CHECK_OK(wallet_set_pin(w, NEW_PIN, 4));
  CHECK_OK(wallet_load_account(w, again, sizeof again, &len));
  CHECK(memcmp(again, address, 20) == 0);
  wallet_free(w);

  /* The old account file, copied back, is refused as rolled back. */
  f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL) return;
  current_len = fread(current, 1, sizeof current, f);
  fclose(f);
  f = fopen(path, "wb");
  CHECK(f != NULL && fwrite(file, 1, file_len, f) == file_len);
  if (f != NULL) fclose(f);
  w = open_on(main_tpm, "change-pin");
  if (w == NULL) return;
  CHECK_OK(wallet_set_pin(w, OLD_PIN, 4));
  CHECK_RESULT(wallet_load_account(w, again, sizeof again, &len), WALLET_ACCOUNT_ROLLED_BACK);
  wallet_free(w);
  f = fopen(path, "wb");
  CHECK(f != NULL && fwrite(current, 1, current_len, f) == current_len);
  if (f != NULL) fclose(f);
}

/* ---- arguments */

static void test_arguments(void) {
  uint8_t out[64];
  size_t len = 0;
  uint64_t nonce;
  uint32_t threshold;
  CHECK_RESULT(wallet_admin_nonce(NULL, &nonce), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_owners(NULL, out, sizeof out, &len, &threshold), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_audit_head(NULL, out, 32, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_audit_log(NULL, out, 32, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_execute_replace_policy(NULL, "{}", 2, NULL, 0, NULL, 0, out, 32, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_admin_request_eip712_hashes("{}", 2, out, sizeof out, NULL),
               WALLET_NULL_PARAMETER);
  /* The empty log verifies only against the genesis head. */
  memset(out, 0, 32);
  CHECK_OK(wallet_verify_audit_log(NULL, 0, out, 32));
  out[0] = 1;
  CHECK_RESULT(wallet_verify_audit_log(NULL, 0, out, 32), WALLET_AUDIT_EMPTY);
  CHECK_RESULT(wallet_verify_audit_log((const uint8_t *)"x", 1, out, 32), WALLET_AUDIT_NOT_TEXT);
}

int main(void) {
  int i;
  size_t len;
  main_tpm = getenv("FLARE_WALLET_TPM");
  other_tpm = getenv("WALLET_TEST_OTHER_TPM");
  scratch = getenv("WALLET_TEST_DIR");
  cast = getenv("FLARE_WALLET_CAST");
  if (main_tpm == NULL || other_tpm == NULL || scratch == NULL || cast == NULL) {
    fprintf(stderr, "test_admin needs FLARE_WALLET_TPM, WALLET_TEST_OTHER_TPM, "
                    "WALLET_TEST_DIR and FLARE_WALLET_CAST: run it through tests/c/run.sh\n");
    return 2;
  }
  full_cost = !RUNNING_ON_VALGRIND;
  for (i = 0; i < 3; i++) {
    uint8_t key[32];
    memset(key, 0x11 * (i + 1), sizeof key);
    CHECK_OK(wallet_signer_from_bytes(key, 32, &owner[i]));
    CHECK_OK(wallet_signer_address(owner[i], owner_addresses + 20 * i, 20, &len));
  }
  {
    uint8_t key[32];
    memset(key, 0x44, sizeof key);
    CHECK_OK(wallet_signer_from_bytes(key, 32, &stranger));
  }
  test_arguments();
  test_owners_raise_a_cap();
  test_ownerless();
  test_key_lock_choice_and_change_pin();
  for (i = 0; i < 3; i++) wallet_signer_free(owner[i]);
  wallet_signer_free(stranger);
  return check_summary("test_admin");
}
