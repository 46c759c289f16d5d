/*
 * The signing policy from C: its JSON form and canonical encoding, the
 * in-memory signer checked against a policy, and TPM-backed accounts
 * created, imported and changed with a policy, against a real software TPM
 * (swtpm) that tests/c/run.sh starts for each run of this program:
 *
 *   FLARE_WALLET_TPM      the TPM
 *   WALLET_TEST_DIR       an empty scratch directory, mode 0700
 *
 * Oracles: the encoding layout documented in core/src/policy.rs, written
 * out by hand below; SHA-256 from sha256_ref.h (checked against FIPS 180-4
 * examples first); the EIP-155 example transaction (tests/c/README.md);
 * amounts computed by hand from the example's fields.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sha256_ref.h"

#define SENTINEL 0xa5

/* ---- published vectors (sources in tests/c/README.md) */

/* EIP-155 "Example": key 0x46..46; nonce 9, gas price 20 gwei, gas 21000,
 * to 0x35..35, value 1 ether, chain 1. Its worst-case fee is
 * 21000 * 20 gwei = 420000000000000 wei, so value + fee is
 * 1000420000000000000 wei. */
static const char EIP155_KEY[] = "4646464646464646464646464646464646464646464646464646464646464646";
static const char EIP155_ADDRESS[] = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";
static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";
/* The same with value 1 ether + 1 wei (the last byte of the value). */
static const char EIP155_ONE_WEI_MORE[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000180018080";
/* The same without chainId, 0, 0: pre-EIP-155, unprotected. */
static const char PRE_EIP155_SIGNING_DATA[] =
    "e9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080";
/* A legacy call, written here field by field: [nonce 0, gas price 1,
 * gas 100000, to USDT, value 0, data = the selector a9059cbb, chain 1, 0, 0]. */
static const char USDT_CALL[] =
    "e48001830186a094dac17f958d2ee523a2206206994597c13d831ec78084a9059cbb018080";
#define USDT "0xdAC17F958D2ee523a2206206994597C13D831ec7"

/* The canonical encodings of two policies, from the layout in
 * core/src/policy.rs: magic "FLWPLCY\0", version 2; chain_ids (presence,
 * count, u64 each); max_value_wei, max_fee_wei, recipients_allow
 * (presence); recipients_deny (count); allow_contract_creation (bool);
 * selectors (count); delegations_allow (presence); allow_unprotected,
 * allow_messages (bools); typed_data_domains, daily_limit_wei (presence);
 * allow_raw_hashes (bool). */
static const char DEFAULT_POLICY[] = "464c57504c435900"
                                     "0002"
                                     "00"
                                     "00"
                                     "00"
                                     "00"
                                     "0000"
                                     "01"
                                     "0000"
                                     "00"
                                     "00"
                                     "01"
                                     "00"
                                     "00"
                                     "00";
static const char CHAIN_14_POLICY[] = "464c57504c435900"
                                      "0002"
                                      "01"
                                      "0001"
                                      "000000000000000e"
                                      "00"
                                      "00"
                                      "00"
                                      "0000"
                                      "01"
                                      "0000"
                                      "00"
                                      "00"
                                      "01"
                                      "00"
                                      "00"
                                      "00";

static const char *main_tpm;
static const char *scratch;

/* ---- helpers */

static int all_bytes(const void *buf, size_t len, uint8_t value) {
  const uint8_t *p = (const uint8_t *)buf;
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != value) return 0;
  return 1;
}

static size_t unhex_or_fail(const char *hex, uint8_t *out, size_t cap) {
  size_t len = unhex(hex, out, cap);
  CHECK(len != (size_t)-1);
  return len == (size_t)-1 ? 0 : len;
}

static void scratch_path(char *out, size_t cap, const char *name) {
  int n = snprintf(out, cap, "%s/%s", scratch, name);
  CHECK(n > 0 && (size_t)n < cap);
}

static wallet *open_dir(const char *name) {
  char dir[1024];
  wallet *w = NULL;
  scratch_path(dir, sizeof dir, name);
  CHECK_OK(wallet_open(main_tpm, dir, &w));
  return w;
}

/* A policy's canonical encoding from its JSON form. */
typedef struct {
  uint8_t bytes[WALLET_POLICY_MAX_LEN];
  size_t len;
} policy_buf;

static policy_buf policy_from(const char *json) {
  policy_buf p;
  p.len = 0;
  CHECK_OK(wallet_policy_from_json(json, strlen(json), p.bytes, sizeof p.bytes, &p.len));
  CHECK(p.len > 0 && p.len <= WALLET_POLICY_MAX_LEN);
  return p;
}

static void check_sha256_is(const policy_buf *p, const uint8_t hash[32]) {
  uint8_t expected[32];
  sha256_ref(p->bytes, p->len, expected);
  CHECK(memcmp(hash, expected, 32) == 0);
}

/* `json` is refused with `code`, nothing is written, and the description
 * mentions `word`. */
static void check_json_refused(const char *json, size_t json_len, uint32_t code,
                               const char *word) {
  uint8_t out[64];
  char text[1024];
  size_t len = 777, text_len = 0;
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_policy_from_json(json, json_len, out, sizeof out, &len), code);
  CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));
  CHECK_OK(wallet_policy_json_error_message(json, json_len, text, sizeof text, &text_len));
  CHECK(text_len > 0 && text_len == strlen(text));
  if (strstr(text, word) == NULL) {
    CHECK(!"the JSON error message names what it should");
    fprintf(stderr, "  message: %s\n  expected it to mention: %s\n", text, word);
  }
}

/* The detail of the last core error on `w` mentions `word`. */
static void check_last_error_mentions(const wallet *w, const char *word) {
  char text[1024];
  size_t len = 0;
  CHECK_OK(wallet_last_error_message(w, text, sizeof text, &len));
  CHECK(len == strlen(text));
  if (strstr(text, word) == NULL) {
    CHECK(!"the last error message names what it should");
    fprintf(stderr, "  message: %s\n  expected it to mention: %s\n", text, word);
  }
}

static void check_address_is(const uint8_t address[20], const char *expected_checksum) {
  char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
  size_t len = 0;
  CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN && strcmp(text, expected_checksum) == 0);
}

/* ---- the SHA-256 oracle itself (FIPS 180-4 / NIST examples) */

static void test_sha256_reference(void) {
  uint8_t hash[32];
  const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256_ref((const uint8_t *)"abc", 3, hash);
  CHECK_HEX(hash, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sha256_ref((const uint8_t *)"", 0, hash);
  CHECK_HEX(hash, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha256_ref((const uint8_t *)two_blocks, strlen(two_blocks), hash);
  CHECK_HEX(hash, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ---- the JSON form and the encoding */

static void test_json_and_encoding(void) {
  policy_buf p, again;
  uint8_t hash[32], out[64];
  char text[8192];
  size_t len = 0, text_len = 0, needed = 0;
  const char *full =
      "{\"chain_ids\": [14, 114], \"max_value_wei\": \"2000000000000000000\","
      " \"max_fee_wei\": 10000000000000000,"
      " \"daily_limit_wei\": "
      "115792089237316195423570985008687907853269984665640564039457584007913129639935,"
      " \"recipients_allow\": [\"" USDT "\"], \"recipients_deny\": [],"
      " \"delegations_allow\": null, \"allow_contract_creation\": false,"
      " \"allow_unprotected\": false, \"allow_messages\": true,"
      " \"selectors\": {\"" USDT "\": [\"0xa9059cbb\", \"0x095ea7b3\"]},"
      " \"typed_data_domains\": [{\"chain_id\": 14, \"verifying_contract\": \"" USDT "\"}]}";

  /* The encodings are the documented layout, byte for byte. */
  p = policy_from("{}");
  CHECK_HEX(p.bytes, p.len, DEFAULT_POLICY);
  p = policy_from("{\"chain_ids\": [14], \"max_value_wei\": null}");
  CHECK_HEX(p.bytes, p.len, CHAIN_14_POLICY);
  CHECK_OK(wallet_policy_encoding_hash(p.bytes, p.len, hash, sizeof hash, &len));
  CHECK(len == WALLET_HASH_LEN);
  check_sha256_is(&p, hash);

  /* Every key; the JSON written back reads to the same encoding. */
  p = policy_from(full);
  CHECK_OK(wallet_policy_to_json(p.bytes, p.len, text, sizeof text, &text_len));
  CHECK(text_len == strlen(text));
  CHECK(strstr(text, "\"max_value_wei\": \"2000000000000000000\"") != NULL);
  CHECK(strstr(text, "\"max_fee_wei\": \"10000000000000000\"") != NULL);
  CHECK(strstr(text, "\"delegations_allow\": null") != NULL);
  CHECK(strstr(text, "\"0x095ea7b3\"") != NULL);
  again = policy_from(text);
  CHECK(again.len == p.len && memcmp(again.bytes, p.bytes, p.len) == 0);

  /* A valid policy has no error message. */
  text_len = 777;
  CHECK_OK(wallet_policy_json_error_message(full, strlen(full), text, sizeof text, &text_len));
  CHECK(text_len == 0 && text[0] == '\0');

  /* Length queries and short buffers: the length needed, nothing written. */
  CHECK_RESULT(wallet_policy_from_json(full, strlen(full), NULL, 0, &needed),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(needed == p.len);
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_policy_from_json(full, strlen(full), out, sizeof out, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == p.len && all_bytes(out, sizeof out, SENTINEL));
  CHECK_RESULT(wallet_policy_to_json(p.bytes, p.len, NULL, 0, &needed), WALLET_BUFFER_TOO_SMALL);
  CHECK_OK(wallet_policy_to_json(p.bytes, p.len, text, sizeof text, &text_len));
  CHECK(needed == text_len + 1);
  CHECK_RESULT(wallet_policy_encoding_hash(p.bytes, p.len, out, 31, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 32 && all_bytes(out, sizeof out, SENTINEL));

  /* One code per way the JSON can be wrong; the message names the key. */
  {
    static const char *refused[][2] = {
        {"{\"chain_ids\": [1], \"\xff\": 1}", "not UTF-8"},
        {"{\n\"chain_ids\": [1,]\n}", "syntax error at line 2, column 17"},
        {"[]", "must be an object"},
        {"{\"max_value_wei\": 1, \"max_value_wei\": 2}", "\"max_value_wei\" appears twice"},
        {"{\"max_value\": 1}", "unknown key \"max_value\""},
    };
    static const uint32_t codes[] = {
        WALLET_POLICY_JSON_NOT_UTF8,      WALLET_POLICY_JSON_SYNTAX,
        WALLET_POLICY_JSON_NOT_AN_OBJECT, WALLET_POLICY_JSON_DUPLICATE_KEY,
        WALLET_POLICY_JSON_UNKNOWN_KEY,
    };
    size_t i;
    for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
      check_json_refused(refused[i][0], strlen(refused[i][0]), codes[i], refused[i][1]);
  }
  {
    static const char *bad[][2] = {
        {"{\"recipients_allow\": [\"" USDT "\", \"0x1234\"]}",
         "recipients_allow[1]: expected an address"},
        {"{\"recipients_deny\": [\"0xDac17F958D2ee523a2206206994597C13D831ec7\"]}",
         "recipients_deny[0]: expected a valid EIP-55 checksum"},
        {"{\"max_value_wei\": "
         "115792089237316195423570985008687907853269984665640564039457584007913129639936}",
         "max_value_wei: expected a wei amount"},
        {"{\"max_fee_wei\": -1}", "max_fee_wei: expected a wei amount"},
        {"{\"daily_limit_wei\": \"0x\"}", "daily_limit_wei: expected a wei amount"},
        {"{\"chain_ids\": [0]}", "chain_ids[0]: expected a chain id"},
        {"{\"allow_messages\": \"yes\"}", "allow_messages: expected true, false or null"},
        {"{\"selectors\": {\"" USDT "\": [\"0xa9059c\"]}}",
         "selectors[\"" USDT "\"][0]: expected a 4-byte function selector"},
        {"{\"typed_data_domains\": [{\"chain_id\": 1}]}",
         "typed_data_domains[0]: expected an object with exactly the keys chain_id and "
         "verifying_contract"},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
      check_json_refused(bad[i][0], strlen(bad[i][0]), WALLET_POLICY_JSON_INVALID_VALUE,
                         bad[i][1]);
  }
  {
    const char *twice = "{\"selectors\": {\"" USDT "\": [], "
                        "\"0xdac17f958d2ee523a2206206994597c13d831ec7\": []}}";
    check_json_refused(twice, strlen(twice), WALLET_POLICY_JSON_DUPLICATE_SELECTOR_CONTRACT,
                       "twice");
  }
  {
    char many[512];
    size_t at = 0;
    int id;
    at += (size_t)snprintf(many + at, sizeof many - at, "{\"chain_ids\": [");
    for (id = 1; id <= 33; id++)
      at += (size_t)snprintf(many + at, sizeof many - at, "%s%d", id > 1 ? "," : "", id);
    at += (size_t)snprintf(many + at, sizeof many - at, "]}");
    CHECK(at < sizeof many);
    check_json_refused(many, at, WALLET_POLICY_TOO_MANY_ENTRIES, "more than 32");
  }
  {
    /* Just over the length limit, whatever it holds. */
    size_t long_len = WALLET_POLICY_JSON_MAX_LEN + 1;
    char *long_json = (char *)malloc(long_len);
    CHECK(long_json != NULL);
    if (long_json != NULL) {
      memset(long_json, ' ', long_len);
      long_json[0] = '{';
      long_json[long_len - 1] = '}';
      check_json_refused(long_json, long_len, WALLET_POLICY_JSON_TOO_LONG, "262144");
      free(long_json);
    }
  }

  /* Malformed encodings, each with its own code. */
  p = policy_from("{}");
  memcpy(again.bytes, p.bytes, p.len);
  again.bytes[0] ^= 1;
  CHECK_RESULT(wallet_policy_encoding_hash(again.bytes, p.len, hash, 32, &len),
               WALLET_POLICY_BAD_MAGIC);
  CHECK_RESULT(wallet_policy_to_json(p.bytes, p.len - 1, text, sizeof text, &len),
               WALLET_POLICY_TRUNCATED);
  memcpy(again.bytes, p.bytes, p.len);
  again.bytes[p.len] = 0;
  CHECK_RESULT(wallet_policy_encoding_hash(again.bytes, p.len + 1, hash, 32, &len),
               WALLET_POLICY_TRAILING_BYTES);
  memcpy(again.bytes, p.bytes, p.len);
  again.bytes[8] = 0x00, again.bytes[9] = 0x04; /* version 4: after the newest */
  CHECK_RESULT(wallet_policy_encoding_hash(again.bytes, p.len, hash, 32, &len),
               WALLET_POLICY_UNSUPPORTED_VERSION);
  memcpy(again.bytes, p.bytes, p.len);
  again.bytes[10] = 2; /* the chain_ids presence byte */
  CHECK_RESULT(wallet_policy_encoding_hash(again.bytes, p.len, hash, 32, &len),
               WALLET_POLICY_INVALID_FLAG);

  /* NULL, and an output over the input. */
  CHECK_RESULT(wallet_policy_from_json(NULL, 2, out, sizeof out, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_from_json("{}", 2, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_json_error_message("{}", 2, text, sizeof text, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_to_json(NULL, 5, text, sizeof text, &len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_policy_encoding_hash(p.bytes, p.len, NULL, 32, &len),
               WALLET_NULL_PARAMETER);
  {
    char in_place[64] = "{\"chain_ids\": [1]}";
    CHECK_RESULT(wallet_policy_from_json(in_place, strlen(in_place), (uint8_t *)in_place,
                                         sizeof in_place, &len),
                 WALLET_INVALID_PARAMETER);
  }
}

/* ---- the in-memory signer, checked against a policy */

/* Signs `payload_hex` under the policy in `json` and expects `code`; on
 * success the signed bytes are left in `raw` and their length returned. */
static size_t sign_with(const wallet_signer *s, const char *json, const char *payload_hex,
                        uint32_t code, uint8_t *raw, size_t raw_cap) {
  policy_buf p = policy_from(json);
  uint8_t payload[256];
  size_t payload_len = unhex_or_fail(payload_hex, payload, sizeof payload);
  size_t len = 777;
  memset(raw, SENTINEL, raw_cap);
  CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, p.bytes, p.len, payload,
                                                          payload_len, raw, raw_cap, &len),
               code);
  if (code != WALLET_OK) {
    CHECK(len == 777 && all_bytes(raw, raw_cap, SENTINEL));
    return 0;
  }
  return len;
}

static void test_signer_with_policy(void) {
  uint8_t key[32], raw[256], sender[20], payload[64];
  size_t len, sender_len = 0, payload_len;
  wallet_signer *s = NULL;
  wallet_transaction call;

  CHECK(unhex_or_fail(EIP155_KEY, key, sizeof key) == 32);
  CHECK_OK(wallet_signer_from_bytes(key, 32, &s));
  if (s == NULL) return;

  /* Allowed: the published signed transaction, byte for byte. */
  len = sign_with(s, "{\"chain_ids\": [1]}", EIP155_SIGNING_DATA, WALLET_OK, raw, sizeof raw);
  CHECK_HEX(raw, len, EIP155_SIGNED_TX);
  sign_with(s, "{\"chain_ids\": [5, 14]}", EIP155_SIGNING_DATA, WALLET_POLICY_CHAIN_ID_NOT_ALLOWED,
            raw, sizeof raw);

  /* The value cap: at the cap signs, one wei above does not. */
  const char *cap = "{\"max_value_wei\": \"1000000000000000000\"}";
  sign_with(s, cap, EIP155_SIGNING_DATA, WALLET_OK, raw, sizeof raw);
  sign_with(s, cap, EIP155_ONE_WEI_MORE, WALLET_POLICY_VALUE_ABOVE_CAP, raw, sizeof raw);

  /* The fee cap and the daily limit, at their edges. */
  sign_with(s, "{\"max_fee_wei\": 420000000000000}", EIP155_SIGNING_DATA, WALLET_OK, raw,
            sizeof raw);
  sign_with(s, "{\"max_fee_wei\": 419999999999999}", EIP155_SIGNING_DATA,
            WALLET_POLICY_MAX_FEE_ABOVE_CAP, raw, sizeof raw);
  sign_with(s, "{\"daily_limit_wei\": \"1000420000000000000\"}", EIP155_SIGNING_DATA, WALLET_OK,
            raw, sizeof raw);
  sign_with(s, "{\"daily_limit_wei\": \"0xde234b086323fff\"}", /* 1000419999999999999 */
            EIP155_SIGNING_DATA, WALLET_POLICY_DAILY_LIMIT_EXCEEDED, raw, sizeof raw);

  /* Recipients. */
  sign_with(s, "{\"recipients_deny\": [\"0x3535353535353535353535353535353535353535\"]}",
            EIP155_SIGNING_DATA, WALLET_POLICY_RECIPIENT_DENIED, raw, sizeof raw);
  sign_with(s, "{\"recipients_allow\": [\"" USDT "\"]}", EIP155_SIGNING_DATA,
            WALLET_POLICY_RECIPIENT_NOT_ALLOWED, raw, sizeof raw);

  /* Selectors, on a call whose fields the decoder confirms first. */
  payload_len = unhex_or_fail(USDT_CALL, payload, sizeof payload);
  CHECK_OK(wallet_decode_transaction(payload, payload_len, &call));
  CHECK(call.tx_type == 0 && call.chain_id == 1 && call.has_to && call.input_len == 4);
  sign_with(s, "{\"selectors\": {\"" USDT "\": [\"0x095ea7b3\"]}}", USDT_CALL,
            WALLET_POLICY_SELECTOR_NOT_ALLOWED, raw, sizeof raw);
  len = sign_with(s, "{\"selectors\": {\"" USDT "\": [\"0xa9059cbb\"]}}", USDT_CALL, WALLET_OK, raw,
                  sizeof raw);
  CHECK_OK(wallet_recover_sender(raw, len, sender, sizeof sender, &sender_len));
  check_address_is(sender, EIP155_ADDRESS);

  /* Unprotected: the policy decides (the plain signer always refuses). */
  sign_with(s, "{}", PRE_EIP155_SIGNING_DATA, WALLET_POLICY_UNPROTECTED_NOT_ALLOWED, raw,
            sizeof raw);
  len = sign_with(s, "{\"allow_unprotected\": true, \"chain_ids\": [5]}", PRE_EIP155_SIGNING_DATA,
                  WALLET_OK, raw, sizeof raw);
  CHECK_OK(wallet_recover_sender(raw, len, sender, sizeof sender, &sender_len));
  check_address_is(sender, EIP155_ADDRESS);
  payload_len = unhex_or_fail(PRE_EIP155_SIGNING_DATA, payload, sizeof payload);
  CHECK_RESULT(wallet_signer_sign_transaction(s, payload, payload_len, raw, sizeof raw, &len),
               WALLET_TX_UNPROTECTED);

  /* A malformed policy, NULL, a short buffer, an output over an input. */
  {
    policy_buf p = policy_from("{}");
    size_t untouched = 777;
    payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
    p.bytes[0] ^= 1;
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, p.bytes, p.len, payload,
                                                            payload_len, raw, sizeof raw, &len),
                 WALLET_POLICY_BAD_MAGIC);
    p.bytes[0] ^= 1;
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, NULL, 0, payload, payload_len, raw,
                                                            sizeof raw, &len),
                 WALLET_POLICY_TRUNCATED);
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, NULL, 5, payload, payload_len, raw,
                                                            sizeof raw, &len),
                 WALLET_NULL_PARAMETER);
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(NULL, p.bytes, p.len, payload,
                                                            payload_len, raw, sizeof raw, &len),
                 WALLET_NULL_PARAMETER);
    memset(raw, SENTINEL, sizeof raw);
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, p.bytes, p.len, payload,
                                                            payload_len, raw, 10, &untouched),
                 WALLET_BUFFER_TOO_SMALL);
    CHECK(untouched == 110 && all_bytes(raw, sizeof raw, SENTINEL)); /* f86c: 2 + 108 bytes */
    CHECK_RESULT(wallet_signer_sign_transaction_with_policy(s, p.bytes, p.len, payload,
                                                            payload_len, p.bytes, sizeof p.bytes,
                                                            &len),
                 WALLET_INVALID_PARAMETER);
  }
  wallet_signer_free(s);
}

/* ---- TPM-backed accounts with a policy */

static void sign_on(const wallet *w, const char *payload_hex, uint32_t code, uint8_t *raw,
                    size_t raw_cap, size_t *raw_len) {
  uint8_t payload[256];
  size_t payload_len = unhex_or_fail(payload_hex, payload, sizeof payload);
  size_t len = 777;
  memset(raw, SENTINEL, raw_cap);
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, raw, raw_cap, &len), code);
  if (code == WALLET_OK)
    *raw_len = len;
  else
    CHECK(len == 777 && all_bytes(raw, raw_cap, SENTINEL));
}

static void check_account_policy_is(const wallet *w, const policy_buf *expected) {
  policy_buf got;
  uint8_t hash[32];
  size_t len = 0;
  CHECK_OK(wallet_account_policy(w, got.bytes, sizeof got.bytes, &got.len));
  CHECK(got.len == expected->len && memcmp(got.bytes, expected->bytes, got.len) == 0);
  CHECK_OK(wallet_policy_hash(w, hash, sizeof hash, &len));
  CHECK(len == 32);
  check_sha256_is(expected, hash);
}

/* The accounts below have one owner, an in-memory signer; a policy changes
 * only with its approval (tests/c/test_admin.c tests the owners in full). */
static wallet_signer *owner;
static uint8_t owner_address[20];

static void make_owner(void) {
  uint8_t key[32];
  size_t len = 0;
  memset(key, 0x77, sizeof key);
  CHECK_OK(wallet_signer_from_bytes(key, 32, &owner));
  CHECK_OK(wallet_signer_address(owner, owner_address, 20, &len));
}

/* Replaces the policy of `w` as its owner approves it; writes the new hash. */
static void owner_replaces_policy(const wallet *w, const policy_buf *p, uint8_t hash[32]) {
  char request[WALLET_ADMIN_REQUEST_MAX_LEN];
  uint8_t hashes[64], approval[65];
  size_t request_len = 0, len = 0;
  /* The agent alone cannot. */
  CHECK_RESULT(wallet_replace_policy(w, p->bytes, p->len, hash, 32, &len),
               WALLET_AUTHORITY_NO_APPROVALS);
  CHECK_OK(wallet_admin_request_replace_policy(w, p->bytes, p->len, 4102444800u, request,
                                               sizeof request, &request_len));
  CHECK_OK(wallet_admin_request_eip712_hashes(request, request_len, hashes, sizeof hashes, &len));
  CHECK_OK(wallet_signer_sign_typed_data_hash(owner, hashes, 32, hashes + 32, 32, approval,
                                              sizeof approval, &len));
  CHECK_OK(wallet_execute_replace_policy(w, request, request_len, approval, 1, p->bytes, p->len,
                                         hash, 32, &len));
  CHECK(len == 32);
}

static void test_created_account_with_policy(void) {
  /* Two transfers of the example cost 2 * 1000420000000000000 wei: the
   * limit lets one through, not two. */
  policy_buf strict = policy_from("{\"chain_ids\": [1], \"allow_messages\": false,"
                                  " \"max_value_wei\": \"1000000000000000000\","
                                  " \"daily_limit_wei\": \"2000839999999999999\"}");
  policy_buf relaxed = policy_from("{\"chain_ids\": [1]}");
  uint8_t address[20], raw[256], sender[20], sig[65], hash[32], nonce[16];
  uint8_t evidence[WALLET_EVIDENCE_MAX_LEN];
  size_t len = 0, raw_len = 0, sender_len = 0, evidence_len = 0;
  wallet *w = open_dir("created-with-policy");
  if (w == NULL) return;
  /* An account with a policy names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));

  /* Before any account. */
  CHECK_RESULT(wallet_account_policy(w, raw, sizeof raw, &len), WALLET_ACCOUNT_NOT_LOADED);
  CHECK_RESULT(wallet_replace_policy(w, relaxed.bytes, relaxed.len, hash, 32, &len),
               WALLET_ACCOUNT_NOT_LOADED);

  /* A malformed policy creates nothing. */
  {
    policy_buf bad = strict;
    bad.bytes[0] ^= 1;
    CHECK_RESULT(wallet_create_account_with_policy(w, 0, bad.bytes, bad.len, address, 20, &len),
                 WALLET_POLICY_BAD_MAGIC);
    check_last_error_mentions(w, "magic");
    CHECK_RESULT(wallet_load_account(w, address, 20, &len), WALLET_STATE_NO_ACCOUNT);
    CHECK_RESULT(wallet_create_account_with_policy(w, 0, strict.bytes, strict.len, address, 19,
                                                   &len),
                 WALLET_BUFFER_TOO_SMALL);
    CHECK(len == 20);
    CHECK_RESULT(wallet_create_account_with_policy(w, 1u << 24, strict.bytes, strict.len, address,
                                                   20, &len),
                 WALLET_TPM_INVALID_PCR_SELECTION);
  }

  CHECK_OK(wallet_create_account_with_owners(w, 0, strict.bytes, strict.len, owner_address, 1, 1,
                                             address, 20, &len));
  CHECK(len == 20);
  check_account_policy_is(w, &strict);

  /* The rules, with the values the refusal names. */
  sign_on(w, EIP155_ONE_WEI_MORE, WALLET_POLICY_VALUE_ABOVE_CAP, raw, sizeof raw, &raw_len);
  check_last_error_mentions(
      w, "value 1000000000000000001 wei exceeds max_value_wei 1000000000000000000");
  sign_on(w, EIP155_SIGNING_DATA, WALLET_OK, raw, sizeof raw, &raw_len);
  CHECK_OK(wallet_recover_sender(raw, raw_len, sender, sizeof sender, &sender_len));
  CHECK(sender_len == 20 && memcmp(sender, address, 20) == 0);
  sign_on(w, EIP155_SIGNING_DATA, WALLET_POLICY_DAILY_LIMIT_EXCEEDED, raw, sizeof raw, &raw_len);
  check_last_error_mentions(w, "daily_limit_wei 2000839999999999999");
  check_last_error_mentions(w, "1000420000000000000 wei spent");
  CHECK_RESULT(wallet_sign_message(w, (const uint8_t *)"hi", 2, sig, sizeof sig, &len),
               WALLET_POLICY_MESSAGES_NOT_ALLOWED);
  check_last_error_mentions(w, "allow_messages is false");

  /* Replacing: checked first, then in force at once. */
  {
    policy_buf bad = relaxed;
    bad.bytes[bad.len - 1] = 7;
    CHECK_RESULT(wallet_replace_policy(w, bad.bytes, bad.len, hash, 32, &len),
                 WALLET_POLICY_INVALID_FLAG);
    CHECK_RESULT(wallet_replace_policy(w, relaxed.bytes, relaxed.len, hash, 31, &len),
                 WALLET_BUFFER_TOO_SMALL);
    CHECK(len == 32);
    CHECK_RESULT(wallet_replace_policy(w, relaxed.bytes, relaxed.len, NULL, 32, &len),
                 WALLET_NULL_PARAMETER);
    check_account_policy_is(w, &strict);
  }
  owner_replaces_policy(w, &relaxed, hash);
  check_sha256_is(&relaxed, hash);
  check_account_policy_is(w, &relaxed);
  CHECK_OK(wallet_sign_message(w, (const uint8_t *)"hi", 2, sig, sizeof sig, &len));
  sign_on(w, EIP155_ONE_WEI_MORE, WALLET_OK, raw, sizeof raw, &raw_len);

  /* The evidence carries the new policy's hash. */
  memset(nonce, 0x42, sizeof nonce);
  CHECK_OK(wallet_attest(w, nonce, sizeof nonce, 1, evidence, sizeof evidence, &evidence_len));
  /* The policy hash sits at offset 38 of the evidence encoding (after the
   * magic, version, chain id and address). */
  check_sha256_is(&relaxed, evidence + 38);
  wallet_free(w);

  /* The replaced policy is the one stored with the account. */
  w = open_dir("created-with-policy");
  if (w == NULL) return;
  CHECK_OK(wallet_load_account(w, raw, 20, &len));
  CHECK(memcmp(raw, address, 20) == 0);
  check_account_policy_is(w, &relaxed);
  CHECK_RESULT(wallet_account_policy(w, NULL, 0, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == relaxed.len);
  wallet_free(w);
}

static void test_imported_key_with_policy(void) {
  policy_buf deny = policy_from("{\"recipients_deny\": [\"0x3535353535353535353535353535353535353535\"]}");
  policy_buf open_policy = policy_from("{}");
  uint8_t key[32], address[20], raw[256], hash[32];
  size_t len = 0, raw_len = 0;
  wallet *w = open_dir("imported-with-policy");
  if (w == NULL) return;
  /* An account with a policy names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));
  CHECK(unhex_or_fail(EIP155_KEY, key, sizeof key) == 32);

  CHECK_RESULT(wallet_import_key_with_policy(w, key, 31, 0, deny.bytes, deny.len, address, 20,
                                             &len),
               WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH);
  CHECK_RESULT(wallet_import_key_with_policy(w, key, 32, 0, NULL, 3, address, 20, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_key_with_policy(w, key, 32, 0, deny.bytes, deny.len, key, 32, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_OK(wallet_import_key_with_owners(w, key, 32, 0, deny.bytes, deny.len, owner_address, 1, 1,
                                         address, 20, &len));
  check_address_is(address, EIP155_ADDRESS);
  check_account_policy_is(w, &deny);
  sign_on(w, EIP155_SIGNING_DATA, WALLET_POLICY_RECIPIENT_DENIED, raw, sizeof raw, &raw_len);
  check_last_error_mentions(w, "recipient 0x3535353535353535353535353535353535353535 is on "
                               "recipients_deny");

  /* Back to the default policy: the published transaction, byte for byte. */
  owner_replaces_policy(w, &open_policy, hash);
  check_sha256_is(&open_policy, hash);
  sign_on(w, EIP155_SIGNING_DATA, WALLET_OK, raw, sizeof raw, &raw_len);
  CHECK_HEX(raw, raw_len, EIP155_SIGNED_TX);
  wallet_free(w);

  /* The account functions without a policy make a plain wallet: {} that
   * also signs raw hashes. */
  w = open_dir("imported-default");
  if (w == NULL) return;
  CHECK_OK(wallet_import_key(w, key, 32, 0, address, 20, &len));
  {
    policy_buf plain = policy_from("{\"allow_raw_hashes\": true}");
    check_account_policy_is(w, &plain);
  }
  wallet_free(w);
}

int main(void) {
  main_tpm = getenv("FLARE_WALLET_TPM");
  scratch = getenv("WALLET_TEST_DIR");
  if (main_tpm == NULL || scratch == NULL) {
    fprintf(stderr, "test_policy needs FLARE_WALLET_TPM and WALLET_TEST_DIR: run it through "
                    "tests/c/run.sh\n");
    return 2;
  }
  test_sha256_reference();
  test_json_and_encoding();
  test_signer_with_policy();
  make_owner();
  test_created_account_with_policy();
  test_imported_key_with_policy();
  wallet_signer_free(owner);
  return check_summary("test_policy");
}
