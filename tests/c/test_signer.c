/*
 * The in-memory signer and the transaction helpers, checked from C against
 * published vectors (sources in tests/c/README.md):
 *   - EIP-155's worked example (key 0x46..46), byte for byte;
 *   - eth-account 0.14's documented sign_transaction examples (legacy,
 *     EIP-2930, EIP-1559, EIP-4844) and set-code transaction (EIP-7702),
 *     sign_message ("I♥SF") and recover_transaction;
 *   - EIP-712's "Mail" example from the EIP's Example.js.
 * Hashes are recomputed with the test's own Keccak (keccak_ref.h), never
 * with the library's.
 */
#include <stdlib.h>

#include "check.h"
#include "keccak_ref.h"

/* ---- EIP-155 "Example" (https://eips.ethereum.org/EIPS/eip-155) */
static const char EIP155_SIGNING_DATA[] =
    "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080";
static const char EIP155_SIGNING_HASH[] =
    "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53";
static const char EIP155_SIGNED_TX[] =
    "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef"
    "61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800cc"
    "f555c9f3dc64214b297fb1966a3b6d83";
static const char EIP155_R[] =
    "18515461264373351373200002665853028612451056578545711640558177340181847433846";
static const char EIP155_S[] =
    "46948507304638947509940763649030358759909902576025900602547168820602576006531";

/* ---- eth-account 0.14 documentation (eth_account/account.py) */
static const char ETH_ACCOUNT_KEY[] =
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
static const char ETH_ACCOUNT_ADDRESS[] = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";

struct documented_tx {
  const char *name;
  const char *key;
  const char *unsigned_payload; /* the dict's signing payload (see README) */
  const char *raw;              /* the full signed bytes the docs abbreviate */
  const char *raw_prefix;       /* as printed in the docs, before "..." (or NULL) */
  const char *raw_suffix;       /* as printed in the docs, after "..." (or NULL) */
  const char *hash;             /* documented signed.hash (or NULL) */
  const char *r;                /* documented decimal r (or NULL) */
  const char *s;                /* documented decimal s (or NULL) */
  uint64_t v;                   /* documented v (legacy) or yParity (typed) */
  uint8_t tx_type;
  uint64_t chain_id;
  uint64_t nonce;
  uint64_t gas_limit;
  uint64_t blob_hash_count;
  uint64_t authorization_count;
};

static const struct documented_tx ETH_ACCOUNT_TXS[] = {
    {"eip1559 dynamic fee", ETH_ACCOUNT_KEY,
     "02f86f8205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
     "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
     "000000000000000000000000000000000000000000",
     "02f8b28205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
     "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a00100000000000000000000"
     "00000000000000000000000000000000000000000001a06c38b2e120203461c37a7b1a90955f9fe12a44c2de898b2a"
     "6ba859567d4e2861a0027b9e7869127b2046f0e34c37ef06df68a3f397430c7a9bf757ff31d58b85d5",
     "02f8b28205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107",
     "d58b85d5", "2721b2ac99d878695e410af9e8968859b6f6e94f544840be0eb2935bead7deba",
     "48949965662841329840326477994465373664672499148507933176648302825256944281697",
     "1123041608316060268133200864147951676126406077675157976022772782796802590165", 1, 2, 1337, 34,
     100000, 0, 0},
    {"legacy", ETH_ACCOUNT_KEY,
     "ec8086d55698372431831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca00808205398080",
     "f86c8086d55698372431831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca0080820a95a01a77"
     "7e59c2d0a306100b47a8fa5c282fcd83bd27a3e8231b8ef06557dc59f3efa04e3008ddb9d39f498ebaab16e3bd94c1"
     "b0961b7cefea6e0c5dbfb886c0bfdb52",
     "f86c8086d55698372431831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca0080820a95a01a7",
     "c0bfdb52", "d0a3e5dc7439f260c64cb0220139ec5dc7e016f82ce272a25a0f0b38fe751673",
     "11971260903864915610009019893820767192081275151191539081612245320300335068143",
     "35365272040292958794699923036506252105590820339897221552886630515981233937234", 2709, 0, 1337,
     0, 2000000, 0, 0},
    {"eip2930 access list", ETH_ACCOUNT_KEY,
     "01f86a82053922843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a40008661"
     "6263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000000000000000"
     "00000000000000000000000000000000",
     "01f8ad82053922843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a40008661"
     "6263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000000000000000"
     "0000000000000000000000000000000001a0ed5942a2943a6ec8f622947abb3c233078d6e18eaaf135a85571db712c"
     "6fc184a00ee0c380d6958cf2a9b6260af831dabdf715dfb7b1a78ed1a0e17bd52b5043ea",
     "01f8ad82053922843b9aca00830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af3107a400086616",
     "2b5043ea", "ca9af2ef41691e06eb07e02125938fd9bb5a311e8daf330b264e77d6cdf3d17e",
     "107355854401379915513092408112372039746594668141865279802319959599514133709188",
     "6729502936685237038651223791038758905953302464070244934323623239104475448298", 1, 1, 1337, 34,
     100000, 0, 0},
    /* The blob example signs with one all-zero blob. The docs print the
     * network form 0x03 || rlp([body, blobs, commitments, proofs]) (hash
     * included), so only r, s, v and the start of the body ("f8d9...",
     * after "03fa021999") compare with the canonical signed transaction. */
    {"eip4844 blob",
     ETH_ACCOUNT_KEY,
     "03f8968205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
     "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000"
     "000000000000000000000000000000000000000000008477359400e1a0010657f37554c781402a22917dee2f75de"
     "f7ab966d7b770905398eba3c444014",
     "03f8d98205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d9776609865af310"
     "7a400086616263646566f838f7940000000000000000000000000000000000000001e1a001000000000000000000"
     "000000000000000000000000000000000000000000008477359400e1a0010657f37554c781402a22917dee2f75de"
     "f7ab966d7b770905398eba3c44401401a01fa8cdf1749d48b9e42449322eef29b8d8ee5ee42c796657d480488be1"
     "a88f86a0142eef79fae43607842a3a8028892fd10f08dad5a459d70df3991f8f3fc2f2a1",
     "03f8d98205392284773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098", NULL,
     NULL, "14319949980593194209648175507603206696573324965145502821772573913457715875718",
     "9129184742597516615341309773045281461399831333162885393648678700392065987233", 1, 3, 1337, 34,
     100000, 1, 0},
    /* Account.sign_authorization's example: key 0xaa..aa authorizes a
     * delegation, then sends the set-code transaction the docstring builds
     * (not printed there; the bytes are that code's output). */
    {"eip7702 set code",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "04f88e8205398084773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098084252d"
     "ba42c0f85ef85c820539945ce9454909639d2d17a3f753ce7d93fa0b9ab12e0180a0735375048fc96b87390b5a11"
     "c411fc57245d8e55038bf49e659d048a0d1a3f87a07f4b3db448845cb217812f23c6b345e99f2d21c44ec10e93a8"
     "f0398141674171",
     "04f8d18205398084773594008477359400830186a09409616c3d61b3331fc4109a9e41a8bdb7d97766098084252d"
     "ba42c0f85ef85c820539945ce9454909639d2d17a3f753ce7d93fa0b9ab12e0180a0735375048fc96b87390b5a11"
     "c411fc57245d8e55038bf49e659d048a0d1a3f87a07f4b3db448845cb217812f23c6b345e99f2d21c44ec10e93a8"
     "f039814167417180a003df7bf9b159102517af620ce9628e6e410fb4e344401fbc751d1a08ecdf1421a0211891d5"
     "7b39127b3543100711f0b414e2859e14725b7dfcafe954b17ce8762a",
     NULL, NULL, "321abac3cb4003a30931c595977b2a189cf86c9c4bf1d8f88b134c68c9ea6d25", NULL, NULL, 0,
     4, 1337, 0, 100000, 0, 1},
};

/* Account.recover_transaction's documented example. */
static const char RECOVER_RAW_TX[] =
    "f86a8086d55698372431831e848094f0109fc8df283027b6285cc889f5aa624eac1f55843b9aca008025a009ebb6ca"
    "057a0535d6186462bc0b465b561c94a295bdb0621fc19208ab149a9ca0440ffd775ce91a833ab410777204d5341a6f"
    "9fa91216a6f3ee2c051fea6a0428";

/* Account.sign_message's documented example. */
static const char MESSAGE_KEY[] = "b25c7db31feed9122727bf0939dc769a96564b2de4c4726d035b36ecf1e5b364";
static const char MESSAGE_TEXT[] = "I\xe2\x99\xa5SF"; /* "I♥SF" in UTF-8 */
static const char MESSAGE_SIGNATURE[] =
    "e6ca9bba58c88611fad66a6ce8f996908195593807c4b38bd528d2cff09d4eb33e5bfbbf4d3e39b1a2fd816a7680c1"
    "9ebebaf3a141b239934ad43cb33fcec8ce1c";
static const char MESSAGE_ADDRESS[] = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E";

/* ---- EIP-712 Example.js "Mail" (key = keccak256("cow")) */
static const char MAIL_DOMAIN_SEPARATOR[] =
    "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f";
static const char MAIL_STRUCT_HASH[] =
    "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e";
static const char MAIL_SIGNATURE[] =
    "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d07299936d304c153f6443dfa05f40f"
    "f007d72911b6f72307f996231605b915621c";
static const char MAIL_ADDRESS[] = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826";

static wallet_signer *signer_from_hex(const char *hex) {
  uint8_t key[32];
  wallet_signer *signer = NULL;
  CHECK(unhex(hex, key, sizeof key) == 32);
  CHECK_OK(wallet_signer_from_bytes(key, sizeof key, &signer));
  CHECK(signer != NULL);
  memset(key, 0, sizeof key);
  return signer;
}

static void check_checksum(const uint8_t address[20], const char *expected) {
  char text[WALLET_CHECKSUM_ADDRESS_LEN + 1];
  size_t len = 0;
  CHECK_OK(wallet_address_checksum(address, 20, text, sizeof text, &len));
  CHECK(len == WALLET_CHECKSUM_ADDRESS_LEN);
  CHECK(strcmp(text, expected) == 0);
}

static void test_keccak_ref(void) {
  /* Known answers for the test's own Keccak: the empty string, and the
   * EIP-155 signing data against the EIP's signing hash. */
  uint8_t digest[32];
  uint8_t data[200];
  size_t len = unhex(EIP155_SIGNING_DATA, data, sizeof data);
  keccak256_ref(NULL, 0, digest);
  CHECK_HEX(digest, 32, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  CHECK(len != (size_t)-1);
  keccak256_ref(data, len, digest);
  CHECK_HEX(digest, 32, EIP155_SIGNING_HASH);
}

static void test_eip155_example(void) {
  uint8_t payload[64], raw[200], signed_tx[200], digest[32];
  uint8_t address[20], sender[20];
  size_t payload_len = unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  size_t raw_len = unhex(EIP155_SIGNED_TX, raw, sizeof raw);
  size_t len = 0;
  wallet_transaction tx;
  wallet_signer *signer = signer_from_hex(
      "4646464646464646464646464646464646464646464646464646464646464646");

  CHECK_OK(wallet_signer_sign_transaction(signer, payload, payload_len, signed_tx,
                                          sizeof signed_tx, &len));
  CHECK_HEX(signed_tx, len, EIP155_SIGNED_TX);

  /* What the host sees before signing. */
  memset(&tx, 0xee, sizeof tx);
  CHECK_OK(wallet_decode_transaction(payload, payload_len, &tx));
  CHECK(tx.tx_type == 0);
  CHECK(tx.has_chain_id && tx.chain_id == 1);
  CHECK(tx.nonce == 9);
  CHECK(tx.gas_limit == 21000);
  CHECK_DECIMAL(tx.gas_price, "20000000000");
  CHECK_DECIMAL(tx.value, "1000000000000000000");
  CHECK_DECIMAL(tx.max_fee_per_gas, "0");
  CHECK(tx.has_to);
  CHECK_HEX(tx.to, 20, "3535353535353535353535353535353535353535");
  CHECK(tx.input_len == 0 && tx.access_list_len == 0);
  CHECK_HEX(tx.signing_hash, 32, EIP155_SIGNING_HASH);
  CHECK(!tx.is_signed);
  CHECK(tx.reserved[0] == 0 && tx.reserved[6] == 0);

  /* The signed transaction as published: v = 37 means yParity 0. */
  memset(&tx, 0xee, sizeof tx);
  CHECK_OK(wallet_decode_signed_transaction(raw, raw_len, &tx));
  CHECK(tx.is_signed);
  CHECK(tx.y_parity == 0);
  CHECK_DECIMAL(tx.signature_r, EIP155_R);
  CHECK_DECIMAL(tx.signature_s, EIP155_S);
  CHECK_HEX(tx.signing_hash, 32, EIP155_SIGNING_HASH);
  keccak256_ref(raw, raw_len, digest);
  CHECK(memcmp(tx.tx_hash, digest, 32) == 0);

  CHECK_OK(wallet_signer_address(signer, address, sizeof address, &len));
  CHECK(len == 20);
  CHECK_OK(wallet_recover_sender(raw, raw_len, sender, sizeof sender, &len));
  CHECK(len == 20);
  CHECK(memcmp(address, sender, 20) == 0);
  wallet_signer_free(signer);
}

static void to_hex(const uint8_t *bytes, size_t len, char *out) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < len; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

static void test_eth_account_transactions(void) {
  size_t i, len = 0;
  uint8_t address[20];
  wallet_signer *signer = signer_from_hex(ETH_ACCOUNT_KEY);
  CHECK_OK(wallet_signer_address(signer, address, sizeof address, &len));
  check_checksum(address, ETH_ACCOUNT_ADDRESS);
  wallet_signer_free(signer);

  for (i = 0; i < sizeof ETH_ACCOUNT_TXS / sizeof ETH_ACCOUNT_TXS[0]; i++) {
    const struct documented_tx *doc = &ETH_ACCOUNT_TXS[i];
    uint8_t payload[512], signed_tx[600], digest[32], sender[20];
    char signed_hex[1201];
    size_t payload_len = unhex(doc->unsigned_payload, payload, sizeof payload);
    size_t signed_len = 0, hex_len;
    wallet_transaction tx;
    int failures_before = check_failures;
    signer = signer_from_hex(doc->key);
    CHECK_OK(wallet_signer_address(signer, address, sizeof address, &len));
    CHECK(payload_len != (size_t)-1);

    /* What a host sees before signing agrees with the documented dict. */
    CHECK_OK(wallet_decode_transaction(payload, payload_len, &tx));
    CHECK(!tx.is_signed && tx.tx_type == doc->tx_type);
    CHECK(tx.chain_id == doc->chain_id && tx.nonce == doc->nonce);
    CHECK(tx.blob_hash_count == doc->blob_hash_count);
    CHECK(tx.authorization_count == doc->authorization_count);

    CHECK_OK(wallet_signer_sign_transaction(signer, payload, payload_len, signed_tx,
                                            sizeof signed_tx, &signed_len));
    CHECK_HEX(signed_tx, signed_len, doc->raw);

    /* The parts of raw_transaction the documentation prints, and its hash
     * of the whole, recomputed here. */
    to_hex(signed_tx, signed_len, signed_hex);
    hex_len = strlen(signed_hex);
    if (doc->raw_prefix)
      CHECK(strncmp(signed_hex, doc->raw_prefix, strlen(doc->raw_prefix)) == 0);
    if (doc->raw_suffix)
      CHECK(hex_len > strlen(doc->raw_suffix) &&
            strcmp(signed_hex + hex_len - strlen(doc->raw_suffix), doc->raw_suffix) == 0);
    keccak256_ref(signed_tx, signed_len, digest);
    if (doc->hash) CHECK_HEX(digest, 32, doc->hash);

    /* The documented r, s and v, read back from the signed bytes. */
    CHECK_OK(wallet_decode_signed_transaction(signed_tx, signed_len, &tx));
    CHECK(tx.is_signed && tx.tx_type == doc->tx_type);
    CHECK(tx.chain_id == doc->chain_id && tx.nonce == doc->nonce);
    CHECK(tx.gas_limit == doc->gas_limit);
    if (doc->r) CHECK_DECIMAL(tx.signature_r, doc->r);
    if (doc->s) CHECK_DECIMAL(tx.signature_s, doc->s);
    if (doc->tx_type == 0) {
      CHECK(doc->v == 35 + 2 * doc->chain_id + tx.y_parity);
    } else {
      CHECK(doc->v == tx.y_parity);
    }
    CHECK(memcmp(tx.tx_hash, digest, 32) == 0);

    CHECK_OK(wallet_recover_sender(signed_tx, signed_len, sender, sizeof sender, &len));
    CHECK(memcmp(sender, address, 20) == 0);

    /* The documented bound on the signed length is enough. */
    CHECK(signed_len <= payload_len + WALLET_SIGNED_TX_MAX_OVERHEAD);
    if (check_failures != failures_before)
      fprintf(stderr, "  (in the eth-account example: %s)\n", doc->name);
    wallet_signer_free(signer);
  }
}

static void test_eth_account_recover_transaction(void) {
  uint8_t raw[200], sender[20];
  size_t raw_len = unhex(RECOVER_RAW_TX, raw, sizeof raw);
  size_t len = 0;
  CHECK_OK(wallet_recover_sender(raw, raw_len, sender, sizeof sender, &len));
  CHECK(len == 20);
  check_checksum(sender, ETH_ACCOUNT_ADDRESS);
}

static void test_eth_account_sign_message(void) {
  wallet_signer *signer = signer_from_hex(MESSAGE_KEY);
  uint8_t signature[WALLET_SIGNATURE_LEN], address[20];
  size_t len = 0;
  CHECK_OK(wallet_signer_sign_message(signer, (const uint8_t *)MESSAGE_TEXT,
                                      strlen(MESSAGE_TEXT), signature, sizeof signature, &len));
  CHECK(len == WALLET_SIGNATURE_LEN);
  CHECK_HEX(signature, len, MESSAGE_SIGNATURE);
  CHECK_OK(wallet_signer_address(signer, address, sizeof address, &len));
  check_checksum(address, MESSAGE_ADDRESS);
  wallet_signer_free(signer);
}

static void test_eip712_mail(void) {
  uint8_t key[32], domain[32], struct_hash[32], signature[WALLET_SIGNATURE_LEN], address[20];
  wallet_signer *signer = NULL;
  size_t len = 0;
  keccak256_ref((const uint8_t *)"cow", 3, key);
  CHECK_OK(wallet_signer_from_bytes(key, sizeof key, &signer));
  memset(key, 0, sizeof key);
  CHECK(unhex(MAIL_DOMAIN_SEPARATOR, domain, sizeof domain) == 32);
  CHECK(unhex(MAIL_STRUCT_HASH, struct_hash, sizeof struct_hash) == 32);
  CHECK_OK(wallet_signer_sign_typed_data_hash(signer, domain, 32, struct_hash, 32, signature,
                                              sizeof signature, &len));
  CHECK(len == WALLET_SIGNATURE_LEN);
  CHECK_HEX(signature, len, MAIL_SIGNATURE);
  CHECK_OK(wallet_signer_address(signer, address, sizeof address, &len));
  check_checksum(address, MAIL_ADDRESS);
  wallet_signer_free(signer);
}

static void test_generated_keys(void) {
  wallet_signer *first = NULL, *second = NULL;
  uint8_t a[20], b[20], sender[20], payload[64], signed_tx[200];
  uint8_t sig1[WALLET_SIGNATURE_LEN], sig2[WALLET_SIGNATURE_LEN];
  size_t len = 0, signed_len = 0;
  size_t payload_len = unhex(EIP155_SIGNING_DATA, payload, sizeof payload);
  CHECK_OK(wallet_signer_generate(&first));
  CHECK_OK(wallet_signer_generate(&second));
  CHECK(first != NULL && second != NULL && first != second);
  CHECK_OK(wallet_signer_address(first, a, sizeof a, &len));
  CHECK_OK(wallet_signer_address(second, b, sizeof b, &len));
  CHECK(memcmp(a, b, 20) != 0);

  /* A fresh key signs, and the signature leads back to it. */
  CHECK_OK(wallet_signer_sign_transaction(first, payload, payload_len, signed_tx,
                                          sizeof signed_tx, &signed_len));
  CHECK_OK(wallet_recover_sender(signed_tx, signed_len, sender, sizeof sender, &len));
  CHECK(memcmp(sender, a, 20) == 0);

  /* RFC 6979: the same key and message give the same signature. */
  CHECK_OK(wallet_signer_sign_message(first, (const uint8_t *)"abc", 3, sig1, sizeof sig1, &len));
  CHECK_OK(wallet_signer_sign_message(first, (const uint8_t *)"abc", 3, sig2, sizeof sig2, &len));
  CHECK(memcmp(sig1, sig2, sizeof sig1) == 0);
  CHECK(sig1[64] == 27 || sig1[64] == 28);
  wallet_signer_free(first);
  wallet_signer_free(second);
}

static void test_version(void) {
  const char *version = wallet_version();
  CHECK(version != NULL && strlen(version) >= 5);
}

int main(void) {
  test_keccak_ref();
  test_eip155_example();
  test_eth_account_transactions();
  test_eth_account_recover_transaction();
  test_eth_account_sign_message();
  test_eip712_mail();
  test_generated_keys();
  test_version();
  return check_summary("test_signer");
}
