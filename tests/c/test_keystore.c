/*
 * Web3 Secret Storage keystores from C, against two real software TPMs
 * (swtpm) that tests/c/run.sh starts for each run of this program:
 *
 *   FLARE_WALLET_TPM      the TPM whose account is exported
 *   WALLET_TEST_OTHER_TPM another TPM, where keystores are imported
 *   WALLET_TEST_DIR       an empty scratch directory, mode 0700
 *   FLARE_WALLET_PYTHON   a Python with eth-account (the project venv)
 *
 * Keystores of a published key (EIP-155's example) written by eth-account
 * with cheap KDF settings import on the other TPM, which signs the
 * published transaction byte for byte. An account without owners exports
 * nothing (an owner-approved export is tests/c/test_admin.c's).
 * Keystores written by eth-account import to the key they were made from
 * (eth-account's sign_message example, checked by its signature). Every
 * way a keystore can be wrong (password, tampering, absurd KDF
 * parameters, broken JSON) has its own code, and imports nothing.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SENTINEL 0xa5

/* EIP-155 "Example" (tests/c/README.md). */
static const char EIP155_KEY[] = "4646464646464646464646464646464646464646464646464646464646464646";
static const char EIP155_ADDRESS[] = "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F";
static const char EIP155_ADDRESS_LOWER[] = "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f";
static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";

/* eth-account's Account.sign_message example (tests/c/README.md). */
static const char MESSAGE_KEY[] = "b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364";
static const char MESSAGE_TEXT[] = "I\xe2\x99\xa5SF"; /* "I♥SF" in UTF-8 */
static const char MESSAGE_SIGNATURE[] =
    "e6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb33e5bfbbf4d3e39b1a2fd816a7680c1"
    "9ebebaf3a141b239934ad43cb33fcec8ce1c";
static const char MESSAGE_ADDRESS[] = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E";

static const char PASSWORD[] = "correct horse battery st\xc3\xa4ple"; /* UTF-8, one non-ASCII */

/* Cheap settings: scrypt n = 1024 (1 MiB), pbkdf2 c = 1000. */
static const wallet_kdf_params CHEAP_SCRYPT = {WALLET_KEYSTORE_KDF_SCRYPT, 0, 8, 1, 1024};

static const char *main_tpm;
static const char *other_tpm;
static const char *scratch;
static const char *python;

typedef struct {
  char text[1024];
  size_t len;
} keystore_text;

/* Copies the line `line` into `k`. */
static void keystore_from(keystore_text *k, const char *line) {
  size_t n = strlen(line);
  CHECK(n < sizeof k->text);
  if (n >= sizeof k->text) n = sizeof k->text - 1;
  memcpy(k->text, line, n);
  k->text[n] = '\0';
  k->len = n;
}

/* What the export tests leave for the import tests. */
static keystore_text cheap_scrypt, cheap_pbkdf2;

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

static wallet *open_on(const char *tcti, const char *name) {
  char dir[1024];
  wallet *w = NULL;
  scratch_path(dir, sizeof dir, name);
  CHECK_OK(wallet_open(tcti, dir, &w));
  return w;
}

static void check_address_is(const uint8_t address[20], const char *expected_checksum) {
  char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
  size_t len = 0;
  CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN && strcmp(text, expected_checksum) == 0);
}

static void check_last_error_mentions(const wallet *w, const char *word) {
  char text[1024];
  size_t len = 0;
  CHECK_OK(wallet_last_error_message(w, text, sizeof text, &len));
  if (strstr(text, word) == NULL) {
    CHECK(!"the last error message names what it should");
    fprintf(stderr, "  message: %s\n  expected it to mention: %s\n", text, word);
  }
}

static void check_contains(const char *text, const char *word) {
  if (strstr(text, word) == NULL) {
    CHECK(!"the keystore holds what it should");
    fprintf(stderr, "  keystore: %s\n  expected it to hold: %s\n", text, word);
  }
}

/* `text` with the first `from` replaced by `to`, in `out`. */
static void replaced(const char *text, const char *from, const char *to, char *out, size_t cap) {
  const char *at = strstr(text, from);
  CHECK(at != NULL);
  if (at == NULL) {
    snprintf(out, cap, "%s", text);
    return;
  }
  CHECK(snprintf(out, cap, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) <
        (int)cap);
}

static uint64_t commands_sent(const wallet *w) {
  uint64_t count = 0;
  CHECK_OK(wallet_tpm_commands_sent(w, &count));
  return count;
}

/* Runs `$FLARE_WALLET_PYTHON -c script args` and returns its output (at
 * most cap - 1 bytes, NUL-terminated), or NULL. */
static char *run_python(const char *script, const char *args, char *out, size_t cap) {
  char command[4096];
  FILE *p;
  size_t got;
  CHECK(snprintf(command, sizeof command, "'%s' -c '%s' %s", python, script, args) <
        (int)sizeof command);
  p = popen(command, "r");
  CHECK(p != NULL);
  if (p == NULL) return NULL;
  got = fread(out, 1, cap - 1, p);
  out[got] = '\0';
  CHECK(pclose(p) == 0);
  return out;
}

/* ---- export */

/* The cheap keystores the import tests read, written by eth-account for
 * the EIP-155 key in the compact JSON form (an export by this library
 * needs the owners' approval and a KDF at least scrypt n = 2^17 or pbkdf2
 * c = 600000: tests/c/test_admin.c exports and imports one). */
static void make_cheap_keystores(void) {
  char output[4096], args[256], *newline;
  CHECK(snprintf(args, sizeof args, "%s \"$(printf \"%s\")\"", EIP155_KEY,
                 "correct horse battery st\\303\\244ple") < (int)sizeof args);
  if (run_python("import json, sys\n"
                 "from eth_account import Account\n"
                 "key, pw = bytes.fromhex(sys.argv[1]), sys.argv[2]\n"
                 "for kdf, n in ((\"scrypt\", 1024), (\"pbkdf2\", 1000)):\n"
                 "    k = Account.encrypt(key, pw, kdf=kdf, iterations=n)\n"
                 "    k[\"address\"] = k[\"address\"].lower()\n"
                 "    print(json.dumps(k, separators=(\",\", \":\")))\n",
                 args, output, sizeof output) == NULL)
    return;
  newline = strchr(output, '\n');
  CHECK(newline != NULL);
  if (newline == NULL) return;
  *newline = '\0';
  keystore_from(&cheap_scrypt, output);
  CHECK(strchr(newline + 1, '\n') != NULL);
  if (strchr(newline + 1, '\n') == NULL) return;
  *strchr(newline + 1, '\n') = '\0';
  keystore_from(&cheap_pbkdf2, newline + 1);
  check_contains(cheap_scrypt.text, EIP155_ADDRESS_LOWER);
  check_contains(cheap_scrypt.text, "\"kdf\":\"scrypt\"");
  check_contains(cheap_scrypt.text, "\"n\":1024");
  check_contains(cheap_pbkdf2.text, "\"kdf\":\"pbkdf2\"");
  check_contains(cheap_pbkdf2.text, "\"c\":1000");
}

/* The export functions on an account without owners: the key never
 * leaves; the argument checks come first, each with its code. */
static void test_export(void) {
  uint8_t key[32], address[20];
  char out[WALLET_KEYSTORE_MAX_LEN + 8];
  size_t len = 0;
  uint64_t before;
  wallet *w;

  /* No account yet. */
  w = open_on(main_tpm, "exporter");
  if (w == NULL) return;
  CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), WALLET_KEYSTORE_KDF_SCRYPT,
                                      out, sizeof out, &len),
               WALLET_ACCOUNT_NOT_LOADED);
  CHECK(unhex_or_fail(EIP155_KEY, key, sizeof key) == 32);
  CHECK_OK(wallet_import_key(w, key, 32, 0, address, sizeof address, &len));
  check_address_is(address, EIP155_ADDRESS);

  /* Ownerless: every setting is refused, and nothing is written. */
  {
    const wallet_kdf_params strong = {WALLET_KEYSTORE_KDF_PBKDF2, 600000, 0, 0, 0};
    uint32_t kdfs[2] = {WALLET_KEYSTORE_KDF_SCRYPT, WALLET_KEYSTORE_KDF_PBKDF2};
    size_t i;
    for (i = 0; i < 2; i++) {
      len = 777;
      memset(out, SENTINEL, sizeof out);
      CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), kdfs[i], out, sizeof out,
                                          &len),
                   WALLET_AUTHORITY_OWNERLESS);
      CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));
    }
    CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, strlen(PASSWORD), &CHEAP_SCRYPT,
                                                    out, sizeof out, &len),
                 WALLET_AUTHORITY_OWNERLESS);
    CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, strlen(PASSWORD), &strong, out,
                                                    sizeof out, &len),
                 WALLET_AUTHORITY_OWNERLESS);
    CHECK(all_bytes(out, sizeof out, SENTINEL));
  }

  /* A short buffer or a length query gets the bound, before any TPM or KDF
   * work, and nothing written. */
  before = commands_sent(w);
  len = 0;
  CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), WALLET_KEYSTORE_KDF_SCRYPT,
                                      NULL, 0, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_KEYSTORE_MAX_LEN);
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), WALLET_KEYSTORE_KDF_SCRYPT,
                                      out, WALLET_KEYSTORE_MAX_LEN - 1, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(all_bytes(out, sizeof out, SENTINEL));
  CHECK(commands_sent(w) == before);

  /* Arguments and parameters, each with its own code; the limit named. */
  CHECK_RESULT(wallet_export_keystore(w, PASSWORD, strlen(PASSWORD), 7, out, sizeof out, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_export_keystore(w, NULL, 3, WALLET_KEYSTORE_KDF_SCRYPT, out, sizeof out,
                                      &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_export_keystore(NULL, PASSWORD, 3, WALLET_KEYSTORE_KDF_SCRYPT, out,
                                      sizeof out, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, 3, NULL, out, sizeof out, &len),
               WALLET_NULL_PARAMETER);
  {
    struct {
      wallet_kdf_params params;
      uint32_t code;
      const char *named;
    } bad[] = {
        {{WALLET_KEYSTORE_KDF_SCRYPT, 0, 8, 1, 1000}, WALLET_KEYSTORE_INVALID_KDF_PARAM,
         "power of two"},
        {{WALLET_KEYSTORE_KDF_SCRYPT, 0, 0, 1, 1024}, WALLET_KEYSTORE_INVALID_KDF_PARAM, "at least 1"},
        {{WALLET_KEYSTORE_KDF_SCRYPT, 0, 1, 1, 1u << 21}, WALLET_KEYSTORE_LIMIT_SCRYPT_N, "2^20"},
        {{WALLET_KEYSTORE_KDF_SCRYPT, 0, 8, 1, 1u << 20}, WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY,
         "512 MiB"},
        {{WALLET_KEYSTORE_KDF_SCRYPT, 0, 8, 5, 1u << 18}, WALLET_KEYSTORE_LIMIT_SCRYPT_WORK, "1 GiB"},
        {{WALLET_KEYSTORE_KDF_PBKDF2, 0, 0, 0, 0}, WALLET_KEYSTORE_INVALID_KDF_PARAM, "at least 1"},
        {{WALLET_KEYSTORE_KDF_PBKDF2, 10000001, 0, 0, 0}, WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS,
         "10000000"},
        {{9, 1000, 8, 1, 1024}, WALLET_INVALID_PARAMETER, NULL},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      len = 777;
      memset(out, SENTINEL, sizeof out);
      CHECK_RESULT(wallet_export_keystore_with_params(w, PASSWORD, strlen(PASSWORD),
                                                      &bad[i].params, out, sizeof out, &len),
                   bad[i].code);
      CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));
      if (bad[i].named != NULL) check_last_error_mentions(w, bad[i].named);
    }
  }
  wallet_free(w);
}

/* ---- import */

/* Imports `json` with the password into a fresh state directory `name` on
 * the other TPM; expects `code`, and on success the address. Returns the
 * wallet, to be freed. */
static wallet *import_into(const char *name, const char *json, size_t json_len,
                           const char *password, uint32_t code, const char *expected_address) {
  uint8_t address[20];
  size_t len = 777;
  wallet *w = open_on(other_tpm, name);
  if (w == NULL) return NULL;
  memset(address, SENTINEL, sizeof address);
  CHECK_RESULT(wallet_import_keystore(w, json, json_len, password, strlen(password), 0, address,
                                      sizeof address, &len),
               code);
  if (code == WALLET_OK) {
    CHECK(len == 20);
    check_address_is(address, expected_address);
  } else {
    CHECK(len == 777 && all_bytes(address, sizeof address, SENTINEL));
  }
  return w;
}

static void check_signs_published_transaction(const wallet *w) {
  uint8_t payload[64], raw[200];
  size_t payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t len = 0;
  CHECK_OK(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &len));
  CHECK_HEX(raw, len, EIP155_SIGNED_TX);
}

static void test_import_ours(void) {
  uint8_t address[20], raw[200], payload[64], hash[32], encoded[WALLET_POLICY_MAX_LEN];
  size_t len = 0, payload_len, encoded_len = 0;
  const char *chain5 = "{\"chain_ids\": [5]}";
  wallet *w;

  /* Our cheap scrypt file, on another TPM: the same key. */
  w = import_into("imported-scrypt", cheap_scrypt.text, cheap_scrypt.len, PASSWORD, WALLET_OK,
                  EIP155_ADDRESS);
  if (w == NULL) return;
  check_signs_published_transaction(w);
  /* A second import into the same directory is refused before any KDF. */
  CHECK_RESULT(wallet_import_keystore(w, cheap_scrypt.text, cheap_scrypt.len, PASSWORD,
                                      strlen(PASSWORD), 0, address, sizeof address, &len),
               WALLET_STATE_ACCOUNT_EXISTS);
  wallet_free(w);

  /* The pbkdf2 file, with a policy bound at import. */
  CHECK_OK(wallet_policy_from_json(chain5, strlen(chain5), encoded, sizeof encoded, &encoded_len));
  w = open_on(other_tpm, "imported-pbkdf2");
  if (w == NULL) return;
  /* An account with a policy names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));
  {
    uint8_t bad[WALLET_POLICY_MAX_LEN];
    memcpy(bad, encoded, encoded_len);
    bad[0] ^= 1;
    CHECK_RESULT(wallet_import_keystore_with_policy(w, cheap_pbkdf2.text, cheap_pbkdf2.len,
                                                    PASSWORD, strlen(PASSWORD), 0, bad,
                                                    encoded_len, address, sizeof address, &len),
                 WALLET_POLICY_BAD_MAGIC);
  }
  CHECK_OK(wallet_import_keystore_with_policy(w, cheap_pbkdf2.text, cheap_pbkdf2.len, PASSWORD,
                                              strlen(PASSWORD), 0, encoded, encoded_len, address,
                                              sizeof address, &len));
  check_address_is(address, EIP155_ADDRESS);
  payload_len = unhex_or_fail(EIP155_SIGNING_DATA, payload, sizeof payload);
  CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &len),
               WALLET_POLICY_CHAIN_ID_NOT_ALLOWED);
  {
    uint8_t expected[32];
    CHECK_OK(wallet_policy_hash(w, hash, sizeof hash, &len));
    CHECK_OK(wallet_policy_encoding_hash(encoded, encoded_len, expected, sizeof expected, &len));
    CHECK(memcmp(hash, expected, 32) == 0);
  }
  wallet_free(w);

}

static void test_import_eth_account(void) {
  char output[4096], args[256];
  char *scrypt_json, *pbkdf2_json, *newline;
  uint8_t signature[65];
  size_t len = 0;
  wallet *w;

  CHECK(snprintf(args, sizeof args, "%s", MESSAGE_KEY) < (int)sizeof args);
  if (run_python("import json, sys\n"
                 "from eth_account import Account\n"
                 "key = bytes.fromhex(sys.argv[1])\n"
                 "print(json.dumps(Account.encrypt(key, \"pw\", kdf=\"scrypt\", iterations=1024)))\n"
                 "print(json.dumps(Account.encrypt(key, \"pw\", kdf=\"pbkdf2\", iterations=1000)))\n",
                 args, output, sizeof output) == NULL)
    return;
  scrypt_json = output;
  newline = strchr(scrypt_json, '\n');
  CHECK(newline != NULL);
  if (newline == NULL) return;
  *newline = '\0';
  pbkdf2_json = newline + 1;
  newline = strchr(pbkdf2_json, '\n');
  CHECK(newline != NULL);
  if (newline == NULL) return;
  *newline = '\0';
  check_contains(scrypt_json, "\"kdf\": \"scrypt\"");
  check_contains(pbkdf2_json, "\"kdf\": \"pbkdf2\"");

  /* Each imports to eth-account's example key: its documented signature. */
  w = import_into("eth-account-scrypt", scrypt_json, strlen(scrypt_json), "pw", WALLET_OK,
                  MESSAGE_ADDRESS);
  if (w != NULL) {
    CHECK_OK(wallet_sign_message(w, (const uint8_t *)MESSAGE_TEXT, strlen(MESSAGE_TEXT),
                                 signature, sizeof signature, &len));
    CHECK_HEX(signature, len, MESSAGE_SIGNATURE);
  }
  wallet_free(w);
  w = import_into("eth-account-pbkdf2", pbkdf2_json, strlen(pbkdf2_json), "pw", WALLET_OK,
                  MESSAGE_ADDRESS);
  wallet_free(w);
}

static void test_import_refused(void) {
  char edited[2 * WALLET_KEYSTORE_MAX_LEN];
  uint8_t address[20];
  size_t len = 0;
  const char *ks = cheap_scrypt.text;
  wallet *w = open_on(other_tpm, "refused");
  if (w == NULL) return;

#define REFUSED(json, json_len, password, code, named)                                          \
  do {                                                                                          \
    size_t untouched = 777;                                                                     \
    memset(address, SENTINEL, sizeof address);                                                  \
    CHECK_RESULT(wallet_import_keystore(w, (json), (json_len), (password), strlen(password), 0, \
                                        address, sizeof address, &untouched),                   \
                 (code));                                                                       \
    CHECK(untouched == 777 && all_bytes(address, sizeof address, SENTINEL));                    \
    check_last_error_mentions(w, (named));                                                      \
  } while (0)

  REFUSED(ks, cheap_scrypt.len, "wrong password", WALLET_KEYSTORE_WRONG_PASSWORD,
          "wrong password");
  {
    /* The empty password, as (NULL, 0). */
    size_t untouched = 777;
    CHECK_RESULT(wallet_import_keystore(w, ks, cheap_scrypt.len, NULL, 0, 0, address,
                                        sizeof address, &untouched),
                 WALLET_KEYSTORE_WRONG_PASSWORD);
  }
  /* One hex digit changed in the ciphertext, or in the MAC. */
  {
    char digit[2] = {0, 0}, changed[2] = {0, 0};
    const char *at = strstr(ks, "\"ciphertext\":\"");
    CHECK(at != NULL);
    if (at != NULL) {
      char from[32], to[32];
      digit[0] = at[14];
      changed[0] = digit[0] == '0' ? '1' : '0';
      snprintf(from, sizeof from, "\"ciphertext\":\"%s", digit);
      snprintf(to, sizeof to, "\"ciphertext\":\"%s", changed);
      replaced(ks, from, to, edited, sizeof edited);
      REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_WRONG_PASSWORD, "MAC");
    }
    at = strstr(ks, "\"mac\":\"");
    CHECK(at != NULL);
    if (at != NULL) {
      char from[32], to[32];
      digit[0] = at[7];
      changed[0] = digit[0] == '0' ? '1' : '0';
      snprintf(from, sizeof from, "\"mac\":\"%s", digit);
      snprintf(to, sizeof to, "\"mac\":\"%s", changed);
      replaced(ks, from, to, edited, sizeof edited);
      REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_WRONG_PASSWORD, "MAC");
    }
  }
  /* Absurd KDF parameters: refused before any derivation, the limit named. */
  replaced(ks, "\"n\":1024", "\"n\":1073741824", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_LIMIT_SCRYPT_N, "n=2^30");
  replaced(ks, "\"r\":8", "\"r\":8388608", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY, "512 MiB");
  replaced(ks, "\"p\":1", "\"p\":100000", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_LIMIT_SCRYPT_WORK, "1 GiB");
  replaced(ks, "\"n\":1024", "\"n\":1000", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_INVALID_KDF_PARAM, "power of two");
  replaced(cheap_pbkdf2.text, "\"c\":1000", "\"c\":100000000", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS,
          "c=100000000");
  /* The file itself. */
  REFUSED(ks, cheap_scrypt.len / 2, PASSWORD, WALLET_KEYSTORE_JSON_TRUNCATED, "truncated");
  REFUSED("not a keystore", 14, PASSWORD, WALLET_KEYSTORE_JSON_SYNTAX, "line 1, column 2");
  REFUSED("{\"version\":3,\xff}", 15, PASSWORD, WALLET_KEYSTORE_JSON_SYNTAX, "line 1, column 14");
  replaced(ks, "\"version\":3", "\"version\":4", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_UNSUPPORTED_VERSION, "version 4");
  replaced(ks, "\"mac\"", "\"mak\"", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_MISSING_FIELD, "crypto.mac");
  replaced(ks, "\"kdf\":\"scrypt\"", "\"kdf\":\"argon2\"", edited, sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_UNSUPPORTED_KDF, "scrypt and pbkdf2");
  replaced(ks, EIP155_ADDRESS_LOWER, "35353535353535353535353535353535353535ff", edited,
           sizeof edited);
  REFUSED(edited, strlen(edited), PASSWORD, WALLET_KEYSTORE_ADDRESS_MISMATCH, "address");
#undef REFUSED

  /* Arguments. */
  CHECK_RESULT(wallet_import_keystore(w, NULL, 10, PASSWORD, 3, 0, address, 20, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_keystore(w, ks, cheap_scrypt.len, NULL, 3, 0, address, 20, &len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_keystore(w, ks, cheap_scrypt.len, PASSWORD, 3, 0, address, 20, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_import_keystore(w, ks, cheap_scrypt.len, PASSWORD, 3, 0, address, 19, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == 20);
  CHECK_RESULT(wallet_import_keystore(w, ks, cheap_scrypt.len, PASSWORD, 3, 1u << 24, address, 20,
                                      &len),
               WALLET_TPM_INVALID_PCR_SELECTION);
  memcpy(edited, ks, cheap_scrypt.len);
  CHECK_RESULT(wallet_import_keystore(w, edited, cheap_scrypt.len, PASSWORD, strlen(PASSWORD), 0,
                                      (uint8_t *)edited + 4, 20, &len),
               WALLET_INVALID_PARAMETER);

  /* Nothing of all this was imported. */
  CHECK_RESULT(wallet_load_account(w, address, sizeof address, &len), WALLET_STATE_NO_ACCOUNT);
  wallet_free(w);
}

int main(void) {
  main_tpm = getenv("FLARE_WALLET_TPM");
  other_tpm = getenv("WALLET_TEST_OTHER_TPM");
  scratch = getenv("WALLET_TEST_DIR");
  python = getenv("FLARE_WALLET_PYTHON");
  if (main_tpm == NULL || other_tpm == NULL || scratch == NULL || python == NULL) {
    fprintf(stderr, "test_keystore needs FLARE_WALLET_TPM, WALLET_TEST_OTHER_TPM, "
                    "WALLET_TEST_DIR and FLARE_WALLET_PYTHON: run it through tests/c/run.sh\n");
    return 2;
  }
  make_cheap_keystores();
  test_export();
  test_import_ours();
  test_import_eth_account();
  test_import_refused();
  return check_summary("test_keystore");
}
