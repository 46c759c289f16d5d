// A C++ host of libwallet: opens a TPM-backed wallet, creates its account on
// the first run (loads it on later ones), signs an EIP-1559 transaction and
// prints the raw signed bytes, ready for eth_sendRawTransaction.
//
//   host [TCTI [STATE_DIR]]
//
// TCTI names the TPM (`swtpm:path=/run/swtpm.sock`, `device:/dev/tpmrm0`...);
// without it (or if it is empty) the library's default applies:
// $FLARE_WALLET_TPM, else /dev/tpmrm0. STATE_DIR defaults to $FLARE_WALLET_STATE_DIR, else
// ./flare-wallet-state. Output, one item per line:
//
//   account 0x<EIP-55 address> created|loaded
//   raw 0x<signed transaction>
//
// Build: g++ -std=c++17 host.cpp $(pkg-config --cflags --libs wallet)

#include <wallet.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

// Every wallet_* failure becomes this exception, with the library's
// description of the code and, when there is one, the wallet's detail.
class WalletFailure : public std::runtime_error {
 public:
  WalletFailure(const std::string &what, wallet_result code)
      : std::runtime_error(what), code_(code) {}
  wallet_result code() const { return code_; }

 private:
  wallet_result code_;
};

struct WalletDeleter {
  void operator()(wallet *w) const noexcept { wallet_free(w); }
};
using WalletHandle = std::unique_ptr<wallet, WalletDeleter>;

void check(wallet_result code, const char *call, const wallet *w = nullptr) {
  if (code == WALLET_OK) return;
  std::string what = std::string(call) + ": " + wallet_result_message(code);
  if (w != nullptr) {
    std::array<char, 512> detail{};
    std::size_t len = 0;
    if (wallet_last_error_message(w, detail.data(), detail.size(), &len) == WALLET_OK && len > 0)
      what += std::string(" (") + detail.data() + ")";
  }
  throw WalletFailure(what, code);
}

// ---- just enough RLP to build a signing payload (Ethereum Yellow Paper,
// appendix B): byte strings, unsigned integers, lists.
namespace rlp {

Bytes length_prefix(std::size_t len, std::uint8_t short_base, std::uint8_t long_base) {
  if (len < 56) return {static_cast<std::uint8_t>(short_base + len)};
  Bytes be;
  for (std::size_t n = len; n != 0; n >>= 8) be.insert(be.begin(), static_cast<std::uint8_t>(n));
  Bytes out{static_cast<std::uint8_t>(long_base + be.size())};
  out.insert(out.end(), be.begin(), be.end());
  return out;
}

Bytes string(const Bytes &bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) return bytes;
  Bytes out = length_prefix(bytes.size(), 0x80, 0xb7);
  out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

// Integers are big-endian without leading zeros; zero is the empty string.
Bytes uint(std::uint64_t value) {
  Bytes be;
  for (; value != 0; value >>= 8) be.insert(be.begin(), static_cast<std::uint8_t>(value));
  return string(be);
}

Bytes list(const std::vector<Bytes> &items) {
  Bytes body;
  for (const Bytes &item : items) body.insert(body.end(), item.begin(), item.end());
  Bytes out = length_prefix(body.size(), 0xc0, 0xf7);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace rlp

struct Eip1559Transaction {
  std::uint64_t chain_id;
  std::uint64_t nonce;
  std::uint64_t max_priority_fee_per_gas;
  std::uint64_t max_fee_per_gas;
  std::uint64_t gas_limit;
  std::array<std::uint8_t, WALLET_ADDRESS_LEN> to;
  std::uint64_t value;
  Bytes data;

  // EIP-1559: 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas,
  // maxFeePerGas, gasLimit, to, value, data, accessList]).
  Bytes signing_payload() const {
    Bytes payload{0x02};
    Bytes fields = rlp::list({rlp::uint(chain_id), rlp::uint(nonce),
                              rlp::uint(max_priority_fee_per_gas), rlp::uint(max_fee_per_gas),
                              rlp::uint(gas_limit), rlp::string(Bytes(to.begin(), to.end())),
                              rlp::uint(value), rlp::string(data), rlp::list({})});
    payload.insert(payload.end(), fields.begin(), fields.end());
    return payload;
  }
};

std::string hex(const Bytes &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "0x";
  for (std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

std::string checksum_address(const Bytes &address) {
  std::array<char, WALLET_CHECKSUM_ADDRESS_LEN + 1> text{};
  std::size_t len = 0;
  check(wallet_address_checksum(address.data(), address.size(), text.data(), text.size(), &len),
        "wallet_address_checksum");
  return std::string(text.data(), len);
}

// Loads the state directory's account, or creates one if there is none.
Bytes load_or_create(const wallet *w, bool *created) {
  Bytes address(WALLET_ADDRESS_LEN);
  std::size_t len = 0;
  wallet_result code = wallet_load_account(w, address.data(), address.size(), &len);
  *created = code == WALLET_STATE_NO_ACCOUNT;
  if (*created) {
    code = wallet_create_account(w, 0, address.data(), address.size(), &len);
    check(code, "wallet_create_account", w);
  } else {
    check(code, "wallet_load_account", w);
  }
  address.resize(len);
  return address;
}

int run(int argc, char **argv) {
  // An absent or empty TCTI argument: nullptr, the library's default.
  const char *tcti = argc > 1 && argv[1][0] != '\0' ? argv[1] : nullptr;
  const char *state_dir = argc > 2 ? argv[2] : std::getenv("FLARE_WALLET_STATE_DIR");
  if (state_dir == nullptr) state_dir = "flare-wallet-state";

  wallet *opened = nullptr;
  check(wallet_open(tcti, state_dir, &opened), "wallet_open");
  WalletHandle w(opened);

  bool created = false;
  Bytes address = load_or_create(w.get(), &created);
  std::printf("account %s %s\n", checksum_address(address).c_str(),
              created ? "created" : "loaded");

  Eip1559Transaction tx{};
  tx.chain_id = 11155111;  // Sepolia
  tx.nonce = 0;
  tx.max_priority_fee_per_gas = 1000000000;  // 1 gwei
  tx.max_fee_per_gas = 30000000000;          // 30 gwei
  tx.gas_limit = 21000;
  tx.to.fill(0x35);
  tx.value = 10000000000000000;  // 0.01 ether
  Bytes payload = tx.signing_payload();

  // The signed form is never more than WALLET_SIGNED_TX_MAX_OVERHEAD bytes
  // longer than the payload, so one call suffices.
  Bytes raw(payload.size() + WALLET_SIGNED_TX_MAX_OVERHEAD);
  std::size_t raw_len = 0;
  check(wallet_sign_transaction(w.get(), payload.data(), payload.size(), raw.data(), raw.size(),
                                &raw_len),
        "wallet_sign_transaction", w.get());
  raw.resize(raw_len);

  // A host that checks what it signed: the sender is our account.
  Bytes sender(WALLET_ADDRESS_LEN);
  std::size_t sender_len = 0;
  check(wallet_recover_sender(raw.data(), raw.size(), sender.data(), sender.size(), &sender_len),
        "wallet_recover_sender");
  if (sender != address) {
    std::fprintf(stderr, "host: the signed transaction recovers to another address\n");
    return 1;
  }
  std::printf("raw %s\n", hex(raw).c_str());
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const WalletFailure &failure) {
    std::fprintf(stderr, "host: %s\n", failure.what());
    return 1;
  }
}
