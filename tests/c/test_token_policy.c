/*
 * Token rules, deny mode, typed-data documents and EIP-7702 authorizations
 * from C, against a real software TPM (swtpm) that tests/c/run.sh starts:
 *
 *   FLARE_WALLET_TPM      the TPM
 *   WALLET_TEST_DIR       an empty scratch directory, mode 0700
 *
 * Permit2 permits are refused when their expiration or signature deadline lies
 * beyond permit_max_lifetime_seconds from now, and signed within it.
 *
 * Oracles: eth-account (Account.sign_message(encode_typed_data(...)) and
 * Account.sign_authorization for key keccak256("cow"), values below), and
 * the unsigned payloads flare_wallet.signing_payload wrote for two ERC-20
 * transfers (checked against eth-account in the Python tests).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

/* keccak256("cow"), the EIP-712 example's key; its address. */
static const char COW_KEY[] = "c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4";
static const char COW_ADDRESS[] = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826";

static const char POLICY_JSON[] =
    "{\"default\": \"deny\", \"chain_ids\": [14],"
    " \"tokens\": {\"0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d\": {"
    "   \"max_amount\": \"1000000000000000000000\","
    "   \"recipients_allow\": [\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"],"
    "   \"spenders_allow\": [\"0x000000000022D473030F116dDEE9F6B43aC78BA3\"]}},"
    " \"delegations_allow\": [\"0x4444444444444444444444444444444444444444\"],"
    " \"permit_max_lifetime_seconds\": 1000000000}";

/* transfer(0x7099...79C8, 10^18) to the token, chain 14, EIP-1559. */
static const char ALLOWED_TRANSFER[] =
    "02f8690e8001843b9aca00830186a0941d80c49bbbcd1c0911346656b529df9e5c2f783d80b844a9059cbb000000"
    "00000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c80000000000000000000000000000000000"
    "000000000000000de0b6b3a7640000c0";
/* The same to 0x3333...3333, not on the token's recipients_allow. */
static const char UNLISTED_TRANSFER[] =
    "02f8690e8001843b9aca00830186a0941d80c49bbbcd1c0911346656b529df9e5c2f783d80b844a9059cbb000000"
    "00000000000000000033333333333333333333333333333333333333330000000000000000000000000000000000"
    "000000000000000de0b6b3a7640000c0";

/* A Permit2 PermitSingle for 1000 of the token to Permit2 itself, until 1900000000. */
static const char PERMIT_JSON[] =
    "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"chainId\","
    "\"type\":\"uint256\"},{\"name\":\"verifyingContract\",\"type\":\"address\"}],\"PermitSingle\":"
    "[{\"name\":\"details\",\"type\":\"PermitDetails\"},{\"name\":\"spender\",\"type\":\"address\"},"
    "{\"name\":\"sigDeadline\",\"type\":\"uint256\"}],\"PermitDetails\":[{\"name\":\"token\","
    "\"type\":\"address\"},{\"name\":\"amount\",\"type\":\"uint160\"},{\"name\":\"expiration\","
    "\"type\":\"uint48\"},{\"name\":\"nonce\",\"type\":\"uint48\"}]},\"primaryType\":\"PermitSingle\","
    "\"domain\":{\"name\":\"Permit2\",\"chainId\":14,\"verifyingContract\":"
    "\"0x000000000022D473030F116dDEE9F6B43aC78BA3\"},\"message\":{\"details\":{\"token\":"
    "\"0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d\",\"amount\":\"1000\",\"expiration\":"
    "\"1900000000\",\"nonce\":\"0\"},\"spender\":\"0x000000000022D473030F116dDEE9F6B43aC78BA3\","
    "\"sigDeadline\":\"1900000000\"}}";
static const char PERMIT_SIGNATURE[] =
    "665d1e80b7f3264972eb0b234c1950f1760c3e7308b61785a113c6c4b75b0dfd00a35c11375f5370eefbe4c5e8e2"
    "e1fa914a6387089dcf28ffc519293c26ffb71b";

/* Typed data of no kind the policy reads, on no listed domain. */
static const char MAIL_JSON[] =
    "{\"types\":{\"Mail\":[{\"name\":\"contents\",\"type\":\"string\"}]},\"primaryType\":\"Mail\","
    "\"domain\":{\"name\":\"Mail\",\"chainId\":14},\"message\":{\"contents\":\"hi\"}}";

/* Account.sign_authorization({chainId: 14, address: 0x44..44, nonce: 5}, cow). */
static const char AUTHORIZATION_SIGNATURE[] =
    "144aa5c6f9625f1123cc096a499a9194df524b05670752dd94da2125f5afaf1513ad5fa1ba1b8f7f67303ca90bd6"
    "65af5c065fd269e72abb2cfa7c53a59b9c5101";

static const char *main_tpm;
static const char *scratch;

#define SENTINEL_BYTE 0xa5

static size_t unhex_or_fail(const char *hex, uint8_t *out, size_t cap) {
  size_t len = unhex(hex, out, cap);
  CHECK(len != (size_t)-1);
  return len == (size_t)-1 ? 0 : len;
}

static void check_contains(const char *text, const char *word) {
  if (strstr(text, word) == NULL) {
    CHECK(!"the text names what it should");
    fprintf(stderr, "  text: %s\n  expected it to mention: %s\n", text, word);
  }
}

/* The Permit2 PermitSingle above with its expiration and sigDeadline replaced. */
static void permit_until(char *out, size_t cap, long long expiration, long long sig_deadline) {
  static const char head[] =
      "{\"types\":{\"EIP712Domain\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"chainId\","
      "\"type\":\"uint256\"},{\"name\":\"verifyingContract\",\"type\":\"address\"}],\"PermitSingle\":"
      "[{\"name\":\"details\",\"type\":\"PermitDetails\"},{\"name\":\"spender\",\"type\":\"address\"},"
      "{\"name\":\"sigDeadline\",\"type\":\"uint256\"}],\"PermitDetails\":[{\"name\":\"token\","
      "\"type\":\"address\"},{\"name\":\"amount\",\"type\":\"uint160\"},{\"name\":\"expiration\","
      "\"type\":\"uint48\"},{\"name\":\"nonce\",\"type\":\"uint48\"}]},\"primaryType\":\"PermitSingle\","
      "\"domain\":{\"name\":\"Permit2\",\"chainId\":14,\"verifyingContract\":"
      "\"0x000000000022D473030F116dDEE9F6B43aC78BA3\"},\"message\":{\"details\":{\"token\":"
      "\"0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d\",\"amount\":\"1000\",\"expiration\":";
  int n = snprintf(out, cap,
                   "%s\"%lld\",\"nonce\":\"0\"},\"spender\":"
                   "\"0x000000000022D473030F116dDEE9F6B43aC78BA3\",\"sigDeadline\":\"%lld\"}}",
                   head, expiration, sig_deadline);
  CHECK(n > 0 && (size_t)n < cap);
}

/* Permit2 allowances expire within permit_max_lifetime_seconds (1000000000 s in
 * POLICY_JSON) of now: the permit's expiration and its signature deadline. */
static void test_permit2_lifetime(wallet *w) {
  char document[2048], decision[1024], value[32];
  uint8_t sig[65];
  size_t decision_len = 0, len = 0;
  const long long lifetime = 1000000000LL;
  const long long now = (long long)time(NULL);
  const long long beyond = now + lifetime + 3600;

  /* An hour inside the lifetime: allowed, and the rule is among those that decided. */
  permit_until(document, sizeof document, now + lifetime - 3600, now + 600);
  CHECK_OK(wallet_check_typed_data(w, (const uint8_t *)document, strlen(document), decision,
                                   sizeof decision, &decision_len));
  check_contains(decision, "\"allowed\": true");
  check_contains(decision, "permit_max_lifetime_seconds");
  CHECK_OK(wallet_sign_typed_data(w, (const uint8_t *)document, strlen(document), sig, sizeof sig,
                                  &len));
  CHECK(len == 65);

  /* An allowance that expires an hour after the lifetime: refused, and the refusal
   * names the rule, its limit and the permit's expiration. Nothing is signed. */
  snprintf(value, sizeof value, "%lld", beyond);
  permit_until(document, sizeof document, beyond, now + 600);
  CHECK_RESULT(wallet_check_typed_data(w, (const uint8_t *)document, strlen(document), decision,
                                       sizeof decision, &decision_len),
               WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG);
  check_contains(decision, "\"allowed\": false");
  check_contains(decision, "permit_max_lifetime_seconds");
  check_contains(decision, "1000000000");
  check_contains(decision, value);
  memset(sig, SENTINEL_BYTE, sizeof sig);
  CHECK_RESULT(wallet_sign_typed_data(w, (const uint8_t *)document, strlen(document), sig,
                                      sizeof sig, &len),
               WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG);
  {
    char text[512];
    size_t text_len = 0;
    CHECK_OK(wallet_last_error_message(w, text, sizeof text, &text_len));
    check_contains(text, "permit_max_lifetime_seconds");
    check_contains(text, value);
  }
  {
    size_t i;
    for (i = 0; i < sizeof sig; i++) CHECK(sig[i] == SENTINEL_BYTE);
  }

  /* A signature deadline beyond the lifetime, with an expiration inside it: refused too. */
  permit_until(document, sizeof document, now + 600, beyond);
  CHECK_RESULT(wallet_check_typed_data(w, (const uint8_t *)document, strlen(document), decision,
                                       sizeof decision, &decision_len),
               WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG);
  check_contains(decision, value);
}

static void test_token_policy(void) {
  uint8_t policy[WALLET_POLICY_MAX_LEN], key[32], address[20], payload[256], sig[65];
  uint8_t chain_id[32], delegate[20];
  char decision[1024];
  size_t policy_len = 0, len = 0, payload_len, decision_len = 0;
  char dir[1024];
  wallet *w = NULL;
  CHECK_OK(wallet_policy_from_json(POLICY_JSON, strlen(POLICY_JSON), policy, sizeof policy,
                                   &policy_len));
  snprintf(dir, sizeof dir, "%s/token-policy", scratch);
  CHECK_OK(wallet_open(main_tpm, dir, &w));
  if (w == NULL) return;
  /* An account with a policy names its key lock. */
  CHECK_OK(wallet_set_key_lock(w, WALLET_KEY_LOCK_NONE, NULL, 0));
  CHECK(unhex_or_fail(COW_KEY, key, sizeof key) == 32);
  CHECK_OK(wallet_import_key_with_policy(w, key, 32, 0, policy, policy_len, address, 20, &len));
  {
    char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
    CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
    CHECK(strcmp(text, COW_ADDRESS) == 0);
  }

  /* A transfer within the token's rule: allowed, by tokens, in deny mode. */
  payload_len = unhex_or_fail(ALLOWED_TRANSFER, payload, sizeof payload);
  CHECK_OK(wallet_check_transaction(w, payload, payload_len, decision, sizeof decision,
                                    &decision_len));
  CHECK(decision_len == strlen(decision));
  check_contains(decision, "\"allowed\": true");
  check_contains(decision, "\"mode\": \"deny\"");
  check_contains(decision, "\"tokens\"");

  /* To a recipient the token's rule does not list: refused, rule and value named. */
  payload_len = unhex_or_fail(UNLISTED_TRANSFER, payload, sizeof payload);
  CHECK_RESULT(wallet_check_transaction(w, payload, payload_len, decision, sizeof decision,
                                        &decision_len),
               WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED);
  check_contains(decision, "\"allowed\": false");
  check_contains(decision, "tokens.recipients_allow");
  check_contains(decision, "0x3333333333333333333333333333333333333333");
  {
    uint8_t raw[256];
    size_t raw_len = 0;
    CHECK_RESULT(wallet_sign_transaction(w, payload, payload_len, raw, sizeof raw, &raw_len),
                 WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED);
  }
  /* A short buffer gets the length the decision needs. */
  CHECK_RESULT(wallet_check_transaction(w, payload, payload_len, decision, 4, &decision_len),
               WALLET_BUFFER_TOO_SMALL);
  CHECK(decision_len > 4);

  /* A Permit2 permit within the rule: the digest the core computes from the
   * document is eth-account's. */
  CHECK_OK(wallet_check_typed_data(w, (const uint8_t *)PERMIT_JSON, strlen(PERMIT_JSON), decision,
                                   sizeof decision, &decision_len));
  check_contains(decision, "permit_max_lifetime_seconds");
  CHECK_OK(wallet_sign_typed_data(w, (const uint8_t *)PERMIT_JSON, strlen(PERMIT_JSON), sig,
                                  sizeof sig, &len));
  CHECK(len == 65);
  CHECK_HEX(sig, len, PERMIT_SIGNATURE);
  test_permit2_lifetime(w);

  /* Deny mode refuses typed data it cannot read, on a domain nobody listed. */
  CHECK_RESULT(wallet_sign_typed_data(w, (const uint8_t *)MAIL_JSON, strlen(MAIL_JSON), sig,
                                      sizeof sig, &len),
               WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED);
  /* A document that is not JSON. */
  CHECK_RESULT(wallet_sign_typed_data(w, (const uint8_t *)"{nope", 5, sig, sizeof sig, &len),
               WALLET_TYPED_DATA_NOT_JSON);

  /* An EIP-7702 authorization: byte for byte eth-account's. */
  memset(chain_id, 0, sizeof chain_id);
  chain_id[31] = 14;
  memset(delegate, 0x44, sizeof delegate);
  CHECK_OK(wallet_sign_authorization(w, chain_id, 32, delegate, 20, 5, sig, sizeof sig, &len));
  CHECK(len == 65);
  CHECK_HEX(sig, len, AUTHORIZATION_SIGNATURE);
  /* Chain id 0 (every chain) needs allow_any_chain_authorization. */
  chain_id[31] = 0;
  CHECK_RESULT(wallet_sign_authorization(w, chain_id, 32, delegate, 20, 5, sig, sizeof sig, &len),
               WALLET_POLICY_ANY_CHAIN_AUTHORIZATION_NOT_ALLOWED);
  chain_id[31] = 14;
  memset(delegate, 0x55, sizeof delegate);
  CHECK_RESULT(wallet_sign_authorization(w, chain_id, 32, delegate, 20, 5, sig, sizeof sig, &len),
               WALLET_POLICY_DELEGATION_NOT_ALLOWED);
  CHECK_RESULT(wallet_sign_authorization(w, chain_id, 31, delegate, 20, 5, sig, sizeof sig, &len),
               WALLET_INVALID_PARAMETER);
  wallet_free(w);
}

int main(void) {
  main_tpm = getenv("FLARE_WALLET_TPM");
  scratch = getenv("WALLET_TEST_DIR");
  if (main_tpm == NULL || scratch == NULL) {
    fprintf(stderr, "test_token_policy needs FLARE_WALLET_TPM and WALLET_TEST_DIR: run it "
                    "through tests/c/run.sh\n");
    return 2;
  }
  test_token_policy();
  return check_summary("test_token_policy");
}
