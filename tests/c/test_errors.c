/*
 * The C ABI conventions, checked from the caller's side: result messages,
 * NULL arguments, short buffers and length queries, outputs left untouched
 * on every failure, bad keys, malformed and hostile transactions, and
 * overlapping buffers.
 */
#include "check.h"

#define SENTINEL 0xa5

static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";
/* eth-account's documented EIP-1559 example, signed (see test_signer.c). */
static const char EIP1559_SIGNED_TX[] =
    "02f8b28205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
    "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
    "00000000000000000000000000000000000000000001a06c38b2e120203461c37a7b1a90955f9fe12a44c2de898b2a"
    "6ba859567d4e2861a0027b9e7869127b2046f0e34c37ef06df68a3f397430c7a9bf757ff31d58b85d5";
/* secp256k1 group order n. */
static const char CURVE_ORDER[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
static const char CURVE_ORDER_MINUS_1[] =
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140";

static int all_bytes(const void *buf, size_t len, uint8_t value) {
  const uint8_t *p = (const uint8_t *)buf;
  size_t i;
  for (i = 0; i < len; i++)
    if (p[i] != value) return 0;
  return 1;
}

static wallet_signer *make_signer(void) {
  uint8_t key[32];
  wallet_signer *signer = NULL;
  memset(key, 0x46, sizeof key);
  CHECK_OK(wallet_signer_from_bytes(key, sizeof key, &signer));
  return signer;
}

static void test_messages(void) {
  /* Every code the header declares; the list must follow the header. */
  static const uint32_t codes[] = {
      WALLET_NULL_PARAMETER, WALLET_PANIC, WALLET_BUFFER_TOO_SMALL, WALLET_INVALID_PARAMETER,
      WALLET_RANDOM_FAILED, WALLET_UNKNOWN_ERROR, WALLET_HANDLE_POISONED,
      WALLET_RLP_INPUT_TOO_SHORT, WALLET_RLP_LEADING_ZERO, WALLET_RLP_NON_CANONICAL_SINGLE_BYTE,
      WALLET_RLP_NON_CANONICAL_LENGTH, WALLET_RLP_LENGTH_OVERFLOW, WALLET_RLP_TRAILING_BYTES,
      WALLET_RLP_UNEXPECTED_LIST, WALLET_RLP_UNEXPECTED_STRING, WALLET_RLP_INTEGER_OVERFLOW,
      WALLET_RLP_UNEXPECTED_LENGTH, WALLET_RLP_OTHER, WALLET_TX_EMPTY_INPUT,
      WALLET_TX_UNSUPPORTED_TYPE, WALLET_TX_TOO_FEW_FIELDS, WALLET_TX_TOO_MANY_FIELDS,
      WALLET_TX_CHAIN_ID_ZERO, WALLET_TX_CHAIN_ID_TOO_LARGE, WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER,
      WALLET_TX_INVALID_V, WALLET_TX_INVALID_Y_PARITY, WALLET_TX_INVALID_SIGNATURE,
      WALLET_TX_RECOVERY_FAILED, WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED, WALLET_TX_TOO_LARGE,
      WALLET_TX_INTRINSIC_GAS_TOO_LOW, WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR,
      WALLET_TX_NONCE_TOO_LARGE, WALLET_TX_INIT_CODE_TOO_LARGE,
      WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE, WALLET_TX_FEE_COST_OVERFLOW, WALLET_TX_NO_BLOBS,
      WALLET_TX_TOO_MANY_BLOBS, WALLET_TX_INVALID_BLOB_VERSION, WALLET_TX_EMPTY_AUTHORIZATION_LIST,
      WALLET_TX_UNPROTECTED, WALLET_TX_OTHER, WALLET_SIGNER_INVALID_SECRET_KEY,
      WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH, WALLET_SIGNER_INVALID_PUBLIC_KEY,
      WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE, WALLET_SIGNER_HIGH_S,
      WALLET_SIGNER_INVALID_RECOVERY_BYTE, WALLET_SIGNER_RECOVERY_FAILED,
      WALLET_SIGNER_SIGNING_FAILED, WALLET_SIGNER_INVALID_ADDRESS_LENGTH,
      WALLET_SIGNER_INVALID_ADDRESS_HEX, WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM,
      WALLET_SIGNER_OTHER, WALLET_TPM_INVALID_TCTI, WALLET_TPM_NO_DEFAULT_TPM,
      WALLET_TPM_CONNECT_FAILED, WALLET_TPM_TIMEOUT, WALLET_TPM_CONNECTION_LOST,
      WALLET_TPM_IO_ERROR, WALLET_TPM_TRANSPORT_COMMAND_TOO_LARGE, WALLET_TPM_RESPONSE_TOO_LARGE,
      WALLET_TPM_RESPONSE_TRUNCATED, WALLET_TPM_INJECTED_FAILURE, WALLET_TPM_COMMAND_FAILED,
      WALLET_TPM_MALFORMED_RESPONSE, WALLET_TPM_RESPONSE_HMAC_MISMATCH,
      WALLET_TPM_COMMAND_TOO_LARGE, WALLET_TPM_INVALID_PCR_SELECTION, WALLET_TPM_INVALID_SRK_POINT,
      WALLET_TPM_OTHER, WALLET_SEAL_SRK_NAME_MISMATCH, WALLET_SEAL_PCR_MISMATCH,
      WALLET_SEAL_INVALID_SEALED_OBJECT, WALLET_SEAL_UNSEAL_MISMATCH, WALLET_SEAL_NO_VALID_SCALAR,
      WALLET_BACKUP_BAD_MAGIC, WALLET_BACKUP_UNSUPPORTED_VERSION, WALLET_BACKUP_UNKNOWN_FLAGS,
      WALLET_BACKUP_TRUNCATED, WALLET_BACKUP_LENGTH_OVER_BOUND, WALLET_BACKUP_EMPTY_FIELD,
      WALLET_BACKUP_TRAILING_BYTES, WALLET_BACKUP_INTEGRITY_MISMATCH, WALLET_STATE_NOT_A_DIRECTORY,
      WALLET_STATE_INSECURE_PERMISSIONS, WALLET_STATE_NOT_A_REGULAR_FILE,
      WALLET_STATE_ACCOUNT_EXISTS, WALLET_STATE_NO_ACCOUNT, WALLET_STATE_FILE_TOO_LARGE,
      WALLET_STATE_IO_ERROR, WALLET_STATE_POLICY_FILE_TOO_LARGE, WALLET_CLOSED,
      WALLET_ACCOUNT_NOT_LOADED, WALLET_BACKUP_NOT_BASE64, WALLET_RESTORE_STATE_NOT_EMPTY,
      WALLET_ACCOUNT_ADDRESS_MISMATCH, WALLET_ACCOUNT_POLICY_BINDING_MISMATCH,
      WALLET_ACCOUNT_POLICY_UNBOUND, WALLET_STORAGE_OTHER, WALLET_ATTEST_EVIDENCE_BAD_MAGIC,
      WALLET_ATTEST_EVIDENCE_UNSUPPORTED_VERSION, WALLET_ATTEST_EVIDENCE_TRUNCATED,
      WALLET_ATTEST_EVIDENCE_LENGTH_OUT_OF_BOUNDS, WALLET_ATTEST_EVIDENCE_PCR_COUNT_MISMATCH,
      WALLET_ATTEST_EVIDENCE_TRAILING_BYTES, WALLET_ATTEST_PCR_INDEX_OUT_OF_RANGE,
      WALLET_ATTEST_UNSUPPORTED_PCR_BANK, WALLET_ATTEST_AK_NOT_ENROLLED,
      WALLET_ATTEST_AK_PUBLIC_MALFORMED, WALLET_ATTEST_AK_NOT_ECC, WALLET_ATTEST_AK_NAME_ALG,
      WALLET_ATTEST_AK_ATTRIBUTES, WALLET_ATTEST_AK_PARAMETERS, WALLET_ATTEST_AK_SCHEME,
      WALLET_ATTEST_AK_CURVE, WALLET_ATTEST_AK_POINT_INVALID, WALLET_ATTEST_AK_SIGNATURE_MALFORMED,
      WALLET_ATTEST_AK_SIGNATURE_INVALID, WALLET_ATTEST_QUOTE_MALFORMED,
      WALLET_ATTEST_QUOTE_BAD_MAGIC, WALLET_ATTEST_NOT_A_QUOTE, WALLET_ATTEST_CHALLENGE_MISMATCH,
      WALLET_ATTEST_PCR_SELECTION_MISMATCH, WALLET_ATTEST_PCR_DIGEST_MISMATCH,
      WALLET_ATTEST_WALLET_SIGNATURE_MALFORMED, WALLET_ATTEST_WALLET_SIGNATURE_MISMATCH,
      WALLET_ATTEST_ADDRESS_MISMATCH, WALLET_ATTEST_CHAIN_ID_MISMATCH,
      WALLET_ATTEST_POLICY_HASH_MISMATCH, WALLET_ATTEST_PCR_NOT_QUOTED,
      WALLET_ATTEST_PCR_VALUE_MISMATCH, WALLET_ATTEST_OTHER, WALLET_POLICY_CHAIN_ID_NOT_ALLOWED,
      WALLET_POLICY_UNPROTECTED_NOT_ALLOWED, WALLET_POLICY_CONTRACT_CREATION_NOT_ALLOWED,
      WALLET_POLICY_RECIPIENT_DENIED, WALLET_POLICY_RECIPIENT_NOT_ALLOWED,
      WALLET_POLICY_SELECTOR_NOT_ALLOWED, WALLET_POLICY_MISSING_SELECTOR,
      WALLET_POLICY_DELEGATION_NOT_ALLOWED, WALLET_POLICY_VALUE_ABOVE_CAP,
      WALLET_POLICY_MAX_FEE_ABOVE_CAP, WALLET_POLICY_MESSAGES_NOT_ALLOWED,
      WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED, WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE,
      WALLET_POLICY_DAILY_LIMIT_EXCEEDED, WALLET_POLICY_BAD_MAGIC,
      WALLET_POLICY_UNSUPPORTED_VERSION, WALLET_POLICY_TRUNCATED, WALLET_POLICY_INVALID_FLAG,
      WALLET_POLICY_TOO_MANY_ENTRIES, WALLET_POLICY_UNSORTED, WALLET_POLICY_DUPLICATE,
      WALLET_POLICY_CHAIN_ID_OUT_OF_RANGE, WALLET_POLICY_TRAILING_BYTES,
      WALLET_POLICY_SPEND_LEDGER_MALFORMED, WALLET_POLICY_AUDIT_LOG_MALFORMED, WALLET_POLICY_OTHER,
  };
  const char *unknown = wallet_result_message(12345);
  size_t i, j;
  CHECK(unknown != NULL && strlen(unknown) > 0);
  CHECK(wallet_result_message(UINT32_MAX) == unknown);
  CHECK(strcmp(wallet_result_message(WALLET_OK), "success") == 0);
  CHECK(WALLET_OK == 0);
  for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *message = wallet_result_message(codes[i]);
    CHECK(message != NULL && strlen(message) > 5);
    CHECK(strcmp(message, unknown) != 0);
    /* Distinct codes have distinct descriptions. */
    for (j = 0; j < i; j++) CHECK(strcmp(message, wallet_result_message(codes[j])) != 0);
    /* Static: the same pointer every time. */
    CHECK(message == wallet_result_message(codes[i]));
  }
  /* The blocks are where the documentation says. */
  CHECK(WALLET_BUFFER_TOO_SMALL / 100 == 1);
  CHECK(WALLET_RLP_LEADING_ZERO / 100 == 2);
  CHECK(WALLET_TX_CHAIN_ID_ZERO / 100 == 3);
  CHECK(WALLET_SIGNER_INVALID_SECRET_KEY / 100 == 4);
  CHECK(WALLET_TPM_CONNECT_FAILED / 100 == 5);
  CHECK(WALLET_SEAL_SRK_NAME_MISMATCH / 100 == 6 && WALLET_STATE_NO_ACCOUNT / 100 == 6);
  CHECK(WALLET_ATTEST_CHALLENGE_MISMATCH / 100 == 7);
  CHECK(WALLET_POLICY_UNPROTECTED_NOT_ALLOWED / 100 == 8);
}

static void test_null_arguments(void) {
  wallet_signer *signer = make_signer();
  wallet_signer *untouched = (wallet_signer *)&untouched;
  uint8_t key[32], payload[64], out[200], raw[200];
  size_t out_len = 777;
  size_t payload_len = unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t raw_len = unhex(EIP155_SIGNED_TX, raw, sizeof raw);
  wallet_transaction tx;
  memset(key, 0x46, sizeof key);
  memset(out, SENTINEL, sizeof out);

  /* Constructors: no input, no place for the handle. */
  CHECK_RESULT(wallet_signer_from_bytes(NULL, 32, &untouched), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_from_bytes(key, 32, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_generate(NULL), WALLET_NULL_PARAMETER);
  CHECK(untouched == (wallet_signer *)&untouched);

  /* A NULL handle. */
  CHECK_RESULT(wallet_signer_address(NULL, out, sizeof out, &out_len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_transaction(NULL, payload, payload_len, out, sizeof out, &out_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_message(NULL, payload, 3, out, sizeof out, &out_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(
      wallet_signer_sign_typed_data_hash(NULL, key, 32, key, 32, out, sizeof out, &out_len),
      WALLET_NULL_PARAMETER);

  /* A NULL input with a length. */
  CHECK_RESULT(wallet_signer_sign_transaction(signer, NULL, payload_len, out, sizeof out, &out_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_message(signer, NULL, 3, out, sizeof out, &out_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(
      wallet_signer_sign_typed_data_hash(signer, NULL, 32, key, 32, out, sizeof out, &out_len),
      WALLET_NULL_PARAMETER);
  CHECK_RESULT(
      wallet_signer_sign_typed_data_hash(signer, key, 32, NULL, 32, out, sizeof out, &out_len),
      WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_decode_transaction(NULL, 5, &tx), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_decode_signed_transaction(NULL, 5, &tx), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_recover_sender(NULL, 5, out, sizeof out, &out_len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_address_checksum(NULL, 20, (char *)out, sizeof out, &out_len),
               WALLET_NULL_PARAMETER);

  /* A NULL output buffer with a capacity, or no place for the length. */
  CHECK_RESULT(wallet_signer_address(signer, NULL, 20, &out_len), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_address(signer, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, payload_len, NULL, 200, &out_len),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, payload_len, out, sizeof out, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_message(signer, payload, 3, out, sizeof out, NULL),
               WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_decode_transaction(payload, payload_len, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_decode_signed_transaction(raw, raw_len, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_recover_sender(raw, raw_len, out, sizeof out, NULL), WALLET_NULL_PARAMETER);
  CHECK_RESULT(wallet_address_checksum(key, 20, NULL, 43, &out_len), WALLET_NULL_PARAMETER);

  /* Nothing was written by any of them. */
  CHECK(out_len == 777);
  CHECK(all_bytes(out, sizeof out, SENTINEL));

  /* _free(NULL) is a no-op. */
  wallet_signer_free(NULL);
  wallet_signer_free(signer);
}

static void test_empty_input_may_be_null(void) {
  /* (NULL, 0) is the empty message, and signs like any other empty buffer. */
  wallet_signer *signer = make_signer();
  uint8_t from_null[WALLET_SIGNATURE_LEN], from_buffer[WALLET_SIGNATURE_LEN], empty[1] = {0};
  size_t len = 0;
  CHECK_OK(wallet_signer_sign_message(signer, NULL, 0, from_null, sizeof from_null, &len));
  CHECK(len == WALLET_SIGNATURE_LEN);
  CHECK_OK(wallet_signer_sign_message(signer, empty, 0, from_buffer, sizeof from_buffer, &len));
  CHECK(memcmp(from_null, from_buffer, sizeof from_null) == 0);
  /* An empty transaction is an error of its own, not a NULL pointer. */
  CHECK_RESULT(wallet_signer_sign_transaction(signer, NULL, 0, from_null, sizeof from_null, &len),
               WALLET_TX_EMPTY_INPUT);
  wallet_signer_free(signer);
}

static void test_short_buffers(void) {
  wallet_signer *signer = make_signer();
  uint8_t payload[64], out[200], full[200], raw[200];
  char text[64];
  size_t payload_len = unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t raw_len = unhex(EIP155_SIGNED_TX, raw, sizeof raw);
  size_t len = 0, full_len = 0;

  /* Address: 19 bytes are one too few. */
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_signer_address(signer, out, 19, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_ADDRESS_LEN);
  CHECK(all_bytes(out, sizeof out, SENTINEL));

  /* Message signature: 64 are one too few; (NULL, 0) asks for the length. */
  CHECK_RESULT(wallet_signer_sign_message(signer, payload, 3, out, 64, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_SIGNATURE_LEN);
  CHECK(all_bytes(out, sizeof out, SENTINEL));
  len = 0;
  CHECK_RESULT(wallet_signer_sign_message(signer, payload, 3, NULL, 0, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_SIGNATURE_LEN);

  /* Transaction: query the length, then sign into exactly that much. */
  len = 0;
  CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, payload_len, NULL, 0, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == raw_len);
  CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, payload_len, out, len - 1, &len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(len == raw_len);
  CHECK(all_bytes(out, sizeof out, SENTINEL));
  CHECK_OK(wallet_signer_sign_transaction(signer, payload, payload_len, out, len, &full_len));
  CHECK(full_len == raw_len && memcmp(out, raw, raw_len) == 0);
  CHECK(out[raw_len] == SENTINEL);

  /* The documented bound is always enough. */
  CHECK_OK(wallet_signer_sign_transaction(signer, payload, payload_len, full,
                                          payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD, &full_len));
  CHECK(full_len == raw_len);

  /* Sender: 20 bytes. */
  memset(out, SENTINEL, sizeof out);
  CHECK_RESULT(wallet_recover_sender(raw, raw_len, out, 10, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_ADDRESS_LEN);
  CHECK(all_bytes(out, sizeof out, SENTINEL));

  /* Checksum string: 42 characters need 43 bytes with the NUL. */
  memset(text, SENTINEL, sizeof text);
  CHECK_RESULT(wallet_address_checksum(raw, 20, text, 42, &len), WALLET_BUFFER_TOO_SMALL);
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN + 1);
  CHECK(all_bytes(text, sizeof text, SENTINEL));
  CHECK_OK(wallet_address_checksum(raw, 20, text, 43, &len));
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN && text[42] == '\0' && strlen(text) == 42);
  CHECK(text[0] == '0' && text[1] == 'x');
  wallet_signer_free(signer);
}

static void test_bad_keys(void) {
  uint8_t key[33];
  wallet_signer *signer = (wallet_signer *)&signer;
  memset(key, 0x46, sizeof key);
  CHECK_RESULT(wallet_signer_from_bytes(key, 31, &signer), WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH);
  CHECK_RESULT(wallet_signer_from_bytes(key, 33, &signer), WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH);
  CHECK_RESULT(wallet_signer_from_bytes(key, 0, &signer), WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH);
  memset(key, 0, sizeof key);
  CHECK_RESULT(wallet_signer_from_bytes(key, 32, &signer), WALLET_SIGNER_INVALID_SECRET_KEY);
  CHECK(unhex(CURVE_ORDER, key, 32) == 32);
  CHECK_RESULT(wallet_signer_from_bytes(key, 32, &signer), WALLET_SIGNER_INVALID_SECRET_KEY);
  memset(key, 0xff, 32);
  CHECK_RESULT(wallet_signer_from_bytes(key, 32, &signer), WALLET_SIGNER_INVALID_SECRET_KEY);
  /* The handle was not written by any failure. */
  CHECK(signer == (wallet_signer *)&signer);
  /* n - 1 is the largest valid key. */
  CHECK(unhex(CURVE_ORDER_MINUS_1, key, 32) == 32);
  CHECK_OK(wallet_signer_from_bytes(key, 32, &signer));
  CHECK(signer != (wallet_signer *)&signer);
  wallet_signer_free(signer);
}

struct bad_payload {
  const char *hex;
  uint32_t expected;
};

static void test_malformed_transactions(void) {
  /* Each input is a small edit of a valid payload; the comment says which. */
  static const struct bad_payload cases[] = {
      /* type byte 0x05: no such transaction type */
      {"05c0", WALLET_TX_UNSUPPORTED_TYPE},
      /* type 0x7f, the largest typed prefix, is not supported either */
      {"7fc0", WALLET_TX_UNSUPPORTED_TYPE},
      /* the EIP-155 payload with one byte cut off */
      {"ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a7640000800180",
       WALLET_RLP_INPUT_TOO_SHORT},
      /* the EIP-155 payload with a byte appended */
      {"ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008001808000",
       WALLET_RLP_TRAILING_BYTES},
      /* nonce 9 written as 0x8109 (a single byte in a string header) */
      {"ed81098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080",
       WALLET_RLP_NON_CANONICAL_SINGLE_BYTE},
      /* gas price with a leading zero byte */
      {"ed09860004a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080",
       WALLET_RLP_LEADING_ZERO},
      /* chain id 0 in the EIP-155 slot */
      {"ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080808080",
       WALLET_TX_CHAIN_ID_ZERO},
      /* [chainId, 1, 0]: the EIP-155 placeholder must be zero */
      {"ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080010180",
       WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER},
      /* a 19-byte recipient */
      {"eb098504a817c8008252089335353535353535353535353535353535353535880de0b6b3a764000080018080",
       WALLET_RLP_UNEXPECTED_LENGTH},
      /* an EIP-1559 payload with an empty field list */
      {"02c0", WALLET_TX_TOO_FEW_FIELDS},
      /* a bare string, not a list */
      {"8180", WALLET_RLP_UNEXPECTED_STRING},
      /* a list header announcing 2^64 - 1 payload bytes */
      {"ffffffffffffffffff", WALLET_RLP_INPUT_TOO_SHORT},
  };
  wallet_signer *signer = make_signer();
  uint8_t payload[256], out[300], raw[200];
  size_t i, len = 0;
  size_t raw_len = unhex(EIP155_SIGNED_TX, raw, sizeof raw);
  wallet_transaction tx;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t payload_len = unhex(cases[i].hex, payload, sizeof payload);
    int failures_before = check_failures;
    CHECK(payload_len != (size_t)-1);
    memset(out, SENTINEL, sizeof out);
    memset(&tx, SENTINEL, sizeof tx);
    len = 777;
    CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, payload_len, out, sizeof out, &len),
                 cases[i].expected);
    /* The decoder a host uses to inspect a payload agrees with the signer. */
    CHECK_RESULT(wallet_decode_transaction(payload, payload_len, &tx), cases[i].expected);
    CHECK(len == 777);
    CHECK(all_bytes(out, sizeof out, SENTINEL));
    CHECK(all_bytes(&tx, sizeof tx, SENTINEL));
    if (check_failures != failures_before)
      fprintf(stderr, "  (in malformed payload %u: %s)\n", (unsigned)i, cases[i].hex);
  }

  /* A pre-EIP-155 legacy payload (the EIP-155 example without chainId, 0,
   * 0) decodes, so a host can see it has no chain id, but is never signed:
   * its signature would be valid on every chain. */
  {
    size_t pre_len = unhex(
        "e9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080",
        payload, sizeof payload);
    memset(out, SENTINEL, sizeof out);
    len = 777;
    CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, pre_len, out, sizeof out, &len),
                 WALLET_TX_UNPROTECTED);
    CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, pre_len, NULL, 0, &len),
                 WALLET_TX_UNPROTECTED);
    CHECK(len == 777 && all_bytes(out, sizeof out, SENTINEL));
    CHECK_OK(wallet_decode_transaction(payload, pre_len, &tx));
    CHECK(tx.tx_type == 0 && !tx.has_chain_id && tx.chain_id == 0 && tx.nonce == 9);
  }

  /* A signed transaction is not a signing payload, and the reverse. Typed:
   * three fields too many. Legacy: the 32-byte r sits where the EIP-155
   * placeholder 0 must be. */
  {
    size_t signed_len = unhex(EIP1559_SIGNED_TX, payload, sizeof payload);
    CHECK_RESULT(wallet_signer_sign_transaction(signer, payload, signed_len, out, sizeof out, &len),
                 WALLET_TX_TOO_MANY_FIELDS);
  }
  CHECK_RESULT(wallet_signer_sign_transaction(signer, raw, raw_len, out, sizeof out, &len),
               WALLET_RLP_INTEGER_OVERFLOW);
  /* An EIP-155 payload read as signed: its chain id 1 is not a valid v. */
  unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  CHECK_RESULT(wallet_decode_signed_transaction(payload, 45, &tx), WALLET_TX_INVALID_V);

  /* The signed EIP-155 example with s replaced by n - s (the high form). */
  {
    uint8_t high_s[200];
    uint8_t order[32];
    int k, borrow = 0;
    memcpy(high_s, raw, raw_len);
    CHECK(unhex(CURVE_ORDER, order, 32) == 32);
    for (k = 31; k >= 0; k--) {
      int d = (int)order[k] - (int)raw[raw_len - 32 + (size_t)k] - borrow;
      borrow = d < 0;
      high_s[raw_len - 32 + (size_t)k] = (uint8_t)(d + (borrow ? 256 : 0));
    }
    CHECK_RESULT(wallet_recover_sender(high_s, raw_len, out, sizeof out, &len),
                 WALLET_TX_INVALID_SIGNATURE);
    CHECK_RESULT(wallet_decode_signed_transaction(high_s, raw_len, &tx),
                 WALLET_TX_INVALID_SIGNATURE);
  }
  wallet_signer_free(signer);
}

static void test_bad_lengths_and_overlap(void) {
  wallet_signer *signer = make_signer();
  uint64_t storage[40]; /* aligned, so it can pose as any output type */
  uint8_t *buf = (uint8_t *)storage;
  uint8_t hash[64];
  size_t len = 0, payload_len;
  wallet_transaction tx;
  memset(hash, 1, sizeof hash);
  CHECK_RESULT(
      wallet_signer_sign_typed_data_hash(signer, hash, 31, hash, 32, buf, sizeof storage, &len),
      WALLET_INVALID_PARAMETER);
  CHECK_RESULT(
      wallet_signer_sign_typed_data_hash(signer, hash, 32, hash, 33, buf, sizeof storage, &len),
      WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_address_checksum(hash, 19, (char *)buf, sizeof storage, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_transaction(signer, hash, SIZE_MAX, buf, sizeof storage, &len),
               WALLET_INVALID_PARAMETER);

  /* Signing in place (output over the input) is refused, not corrupted. */
  payload_len = unhex(EIP155_SIGNING_DATA, buf, sizeof storage);
  CHECK_RESULT(wallet_signer_sign_transaction(signer, buf, payload_len, buf, sizeof storage, &len),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(
      wallet_signer_sign_transaction(signer, buf, payload_len, buf + 10, sizeof storage - 10, &len),
      WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_signer_sign_message(signer, buf, 10, buf + 5, 65, &len),
               WALLET_INVALID_PARAMETER);
  /* ... including the length slot. */
  CHECK_RESULT(wallet_signer_sign_message(signer, buf, 16, buf + 100, 65, (size_t *)(void *)buf),
               WALLET_INVALID_PARAMETER);
  CHECK_RESULT(wallet_decode_transaction(buf, sizeof storage, (wallet_transaction *)(void *)buf),
               WALLET_INVALID_PARAMETER);
  /* Right next to each other is fine. */
  CHECK_OK(wallet_signer_sign_transaction(signer, buf, payload_len, buf + payload_len,
                                          sizeof storage - payload_len, &len));
  CHECK_OK(wallet_decode_transaction(buf, payload_len, &tx));
  wallet_signer_free(signer);
}

int main(void) {
  test_messages();
  test_null_arguments();
  test_empty_input_may_be_null();
  test_short_buffers();
  test_bad_keys();
  test_malformed_transactions();
  test_bad_lengths_and_overlap();
  return check_summary("test_errors");
}
