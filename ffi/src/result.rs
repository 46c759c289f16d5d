//! `wallet_result`: the one return type of every fallible C function, and the
//! one place where core errors become numbers.
//!
//! Numbers are grouped in blocks of a hundred per source and never change
//! once released. A retired code stays in the list below as a comment so its
//! number is never handed out again. Each block ends with an `_OTHER` code
//! (x99) for a core error this build of the C ABI does not know yet: the core
//! enums are `#[non_exhaustive]`, and an unknown error must still be an error.
//!
//! | block | source |
//! | --- | --- |
//! | 0 | success |
//! | 1xx | arguments, panics, buffers, entropy, handles |
//! | 2xx | RLP (`wallet_core::rlp::RlpError`) |
//! | 3xx | transactions (`wallet_core::tx::TxError`) |
//! | 4xx | keys and signatures (`wallet_core::signer::SignerError`) |
//! | 5xx | TPM: transport (50x), commands (52x) and identity: EK certificate and trust roots (53x) (`wallet_core::tpm`) |
//! | 6xx | sealed key (60x), sealed-key file and backup (62x), state directory (64x), wallet (66x) |
//! | 7xx | attestation evidence and its verification (`wallet_core::attest`) |
//! | 8xx | signing policy: rules that refused (80x-81x), encodings and state files (82x), its JSON form (84x) |
//! | 9xx | keystores: the file (90x), its limits (92x), decryption (94x) (`wallet_core::keystore`) |
//! | 10xx | owners and admin approvals: verification (100x-101x), owner sets (102x), requests and approvals as text (104x) (`wallet_core::authority`) |
//! | 11xx | the hash-chained audit log (`wallet_core::audit::AuditError`) |
//! | 12xx | the default mode, token, permit and authorization rules that refused (120x), typed-data documents (122x) |

#![allow(non_camel_case_types)]

use core::ffi::{c_char, CStr};

use wallet_core::attest::AttestError;
use wallet_core::audit::AuditError;
use wallet_core::authority::AuthorityError;
use wallet_core::backup::BackupError;
use wallet_core::enrollment::EnrollmentError;
use wallet_core::keystore::{KeystoreError, Limit};
use wallet_core::policy::json::PolicyJsonError;
use wallet_core::policy::{PolicyError, PolicyViolation};
use wallet_core::rlp::RlpError;
use wallet_core::seal::SealError;
use wallet_core::signer::SignerError;
use wallet_core::state::StateError;
use wallet_core::tpm::ek::TpmIdentityError;
use wallet_core::tpm::{TpmError, TransportError};
use wallet_core::tx::TxError;
use wallet_core::wallet::typed_data::TypedDataError;
use wallet_core::wallet::WalletError;
use wallet_core::x509::ChainErrorKind;
use wallet_core::Error;

/// The result of every fallible `wallet_*` function: `WALLET_OK` (0) or an
/// error code. Codes keep their numbers forever; `wallet_result_message`
/// describes each one.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum wallet_result {
    /// Success.
    WALLET_OK = 0,

    // ---- 1xx: arguments, panics, buffers, entropy
    /// A required pointer argument was NULL.
    WALLET_NULL_PARAMETER = 100,
    /// The library hit an internal bug; the call had no effect.
    WALLET_PANIC = 101,
    /// The output buffer is too small; `*out_len` holds the length needed.
    WALLET_BUFFER_TOO_SMALL = 102,
    /// An argument has a wrong length or value, or an output overlaps an input.
    WALLET_INVALID_PARAMETER = 103,
    /// The operating system could not provide random bytes.
    WALLET_RANDOM_FAILED = 104,
    /// An error from a part of the core this build has no code for.
    WALLET_UNKNOWN_ERROR = 105,
    /// An earlier call on this `wallet` handle panicked (a bug in the
    /// library), so its state is unknown: free the handle and open the
    /// wallet again.
    WALLET_HANDLE_POISONED = 106,

    // ---- 2xx: RLP
    /// RLP input ends before the announced item.
    WALLET_RLP_INPUT_TOO_SHORT = 200,
    /// RLP integer has a leading zero byte.
    WALLET_RLP_LEADING_ZERO = 201,
    /// RLP single byte below 0x80 wrapped in a string header.
    WALLET_RLP_NON_CANONICAL_SINGLE_BYTE = 202,
    /// RLP length not in its shortest form.
    WALLET_RLP_NON_CANONICAL_LENGTH = 203,
    /// RLP length does not fit in memory.
    WALLET_RLP_LENGTH_OVERFLOW = 204,
    /// Bytes remain after the RLP item.
    WALLET_RLP_TRAILING_BYTES = 205,
    /// RLP list where a string was expected.
    WALLET_RLP_UNEXPECTED_LIST = 206,
    /// RLP string where a list was expected.
    WALLET_RLP_UNEXPECTED_STRING = 207,
    /// RLP integer too large for its field.
    WALLET_RLP_INTEGER_OVERFLOW = 208,
    /// RLP string of the wrong length for its field (an address, a hash).
    WALLET_RLP_UNEXPECTED_LENGTH = 209,
    /// An RLP error this build has no specific code for.
    WALLET_RLP_OTHER = 299,

    // ---- 3xx: transactions
    /// The transaction bytes are empty.
    WALLET_TX_EMPTY_INPUT = 300,
    /// The EIP-2718 type byte names an unsupported transaction type.
    WALLET_TX_UNSUPPORTED_TYPE = 301,
    /// The transaction has too few fields for its type.
    WALLET_TX_TOO_FEW_FIELDS = 302,
    /// The transaction has too many fields for its type (a signed
    /// transaction where an unsigned payload is expected, for instance).
    WALLET_TX_TOO_MANY_FIELDS = 303,
    /// Chain id 0 is refused.
    WALLET_TX_CHAIN_ID_ZERO = 304,
    /// Chain id above the EIP-2294 maximum.
    WALLET_TX_CHAIN_ID_TOO_LARGE = 305,
    /// An unsigned EIP-155 payload does not end in `[chainId, 0, 0]`.
    WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER = 306,
    /// A legacy `v` is neither 27/28 nor `2*chainId + 35/36`.
    WALLET_TX_INVALID_V = 307,
    /// A typed transaction's `yParity` is neither 0 nor 1.
    WALLET_TX_INVALID_Y_PARITY = 308,
    /// The transaction signature has `r` or `s` out of range, or a high `s`.
    WALLET_TX_INVALID_SIGNATURE = 309,
    /// No sender can be recovered from the transaction signature.
    WALLET_TX_RECOVERY_FAILED = 310,
    /// This transaction type requires a recipient.
    WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED = 311,
    /// The transaction encoding is too large.
    WALLET_TX_TOO_LARGE = 312,
    /// The gas limit is below the intrinsic gas.
    WALLET_TX_INTRINSIC_GAS_TOO_LOW = 313,
    /// The gas limit is below the EIP-7623 calldata floor.
    WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR = 314,
    /// Nonce 2^64-1 is reserved (EIP-2681).
    WALLET_TX_NONCE_TOO_LARGE = 315,
    /// Init code exceeds the EIP-3860 limit.
    WALLET_TX_INIT_CODE_TOO_LARGE = 316,
    /// `maxPriorityFeePerGas` is above `maxFeePerGas`.
    WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE = 317,
    /// Gas limit times fee overflows 256 bits.
    WALLET_TX_FEE_COST_OVERFLOW = 318,
    /// A blob transaction has no blob hashes.
    WALLET_TX_NO_BLOBS = 319,
    /// A blob transaction has too many blobs.
    WALLET_TX_TOO_MANY_BLOBS = 320,
    /// A blob versioned hash has a wrong version byte.
    WALLET_TX_INVALID_BLOB_VERSION = 321,
    /// A set-code transaction has an empty authorization list.
    WALLET_TX_EMPTY_AUTHORIZATION_LIST = 322,
    /// A pre-EIP-155 legacy transaction (no chain id, so valid on every
    /// chain) is refused for signing: it could be replayed on any chain.
    WALLET_TX_UNPROTECTED = 323,
    /// A transaction error this build has no specific code for.
    WALLET_TX_OTHER = 399,

    // ---- 4xx: keys and signatures
    /// The secret key is zero or not below the secp256k1 order.
    WALLET_SIGNER_INVALID_SECRET_KEY = 400,
    /// A secret key must be exactly 32 bytes.
    WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH = 401,
    /// The public key is not a valid SEC1 secp256k1 point.
    WALLET_SIGNER_INVALID_PUBLIC_KEY = 402,
    /// Signature `r` or `s` is zero or not below the secp256k1 order.
    WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE = 403,
    /// Signature `s` is above n/2 (EIP-2 requires low `s`).
    WALLET_SIGNER_HIGH_S = 404,
    /// Signature `v` must be 0, 1, 27 or 28.
    WALLET_SIGNER_INVALID_RECOVERY_BYTE = 405,
    /// No public key can be recovered from the signature.
    WALLET_SIGNER_RECOVERY_FAILED = 406,
    /// Signing failed.
    WALLET_SIGNER_SIGNING_FAILED = 407,
    /// An address must be 40 hex digits, optionally after `0x`.
    WALLET_SIGNER_INVALID_ADDRESS_LENGTH = 408,
    /// An address contains a non-hex character.
    WALLET_SIGNER_INVALID_ADDRESS_HEX = 409,
    /// A mixed-case address fails its EIP-55 checksum.
    WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM = 410,
    /// A signer error this build has no specific code for.
    WALLET_SIGNER_OTHER = 499,

    // ---- 5xx: TPM. 50x: the transport.
    /// The TPM connection string is not `device:PATH`,
    /// `swtpm:host=H,port=P` or `swtpm:path=SOCKET`.
    WALLET_TPM_INVALID_TCTI = 500,
    /// No TPM named: `$FLARE_WALLET_TPM` is unset and `/dev/tpmrm0` is absent.
    WALLET_TPM_NO_DEFAULT_TPM = 501,
    /// The TPM device or socket could not be opened or connected to.
    WALLET_TPM_CONNECT_FAILED = 502,
    /// The TPM did not answer in time.
    WALLET_TPM_TIMEOUT = 503,
    /// The connection to the TPM broke mid-frame; the next call reconnects.
    WALLET_TPM_CONNECTION_LOST = 504,
    /// Another I/O error while talking to the TPM.
    WALLET_TPM_IO_ERROR = 505,
    /// The command frame is larger than the transport accepts.
    WALLET_TPM_TRANSPORT_COMMAND_TOO_LARGE = 506,
    /// The TPM announced a response larger than the response buffer.
    WALLET_TPM_RESPONSE_TOO_LARGE = 507,
    /// The TPM response frame is truncated.
    WALLET_TPM_RESPONSE_TRUNCATED = 508,
    /// A fault-injecting test transport refused the command on purpose.
    WALLET_TPM_INJECTED_FAILURE = 509,
    /// The TPM serves another client and did not take this one within the
    /// busy bound (swtpm), or a TPM device is held open by another process.
    WALLET_TPM_BUSY = 510,
    // 52x: commands and sessions.
    /// The TPM refused a command with a response code
    /// (`wallet_last_error_message` names the command and the code).
    WALLET_TPM_COMMAND_FAILED = 520,
    /// A TPM response is not what its command calls for.
    WALLET_TPM_MALFORMED_RESPONSE = 521,
    /// A TPM response HMAC does not verify: the response was altered.
    WALLET_TPM_RESPONSE_HMAC_MISMATCH = 522,
    /// A TPM command does not fit the command buffer.
    WALLET_TPM_COMMAND_TOO_LARGE = 523,
    /// A PCR bitmap names a PCR above 23.
    WALLET_TPM_INVALID_PCR_SELECTION = 524,
    /// The storage root key's public point is not on P-256.
    WALLET_TPM_INVALID_SRK_POINT = 525,
    // 53x: the TPM's identity (its endorsement key and EK certificate).
    /// The TPM has no EK certificate: nothing proves it is a real TPM.
    /// Refused unless the caller explicitly allows an unverified TPM
    /// (`WALLET_OPEN_ALLOW_UNVERIFIED_TPM`).
    WALLET_TPM_NO_EK_CERTIFICATE = 530,
    /// The TPM's EK certificate does not chain to the trust roots (none
    /// configured, another CA, a bad signature, expired...).
    WALLET_TPM_EK_CHAIN_INVALID = 531,
    /// The TPM's endorsement key is not the key its EK certificate certifies.
    WALLET_TPM_EK_KEY_MISMATCH = 532,
    /// The TPM's endorsement key differs from the one the account is bound to.
    WALLET_TPM_EK_CHANGED = 533,
    /// The account was created on a verified TPM and this one is unverified.
    WALLET_TPM_NOW_UNVERIFIED = 534,
    /// An EK certificate is for a TCG template this verifier cannot check
    /// (ECC P-521, SM2): refused, never taken on trust.
    WALLET_TPM_EK_TEMPLATE_UNSUPPORTED = 535,
    /// A TPM error this build has no specific code for.
    WALLET_TPM_OTHER = 599,

    // ---- 6xx: sealed key, sealed-key file, state directory, wallet.
    // 60x: sealing and unsealing.
    /// The TPM's storage root key is not the one the key was sealed under:
    /// another TPM, or a cleared one. Nothing was unsealed.
    WALLET_SEAL_SRK_NAME_MISMATCH = 600,
    /// The PCRs the key is bound to have changed. Nothing was unsealed.
    WALLET_SEAL_PCR_MISMATCH = 601,
    /// The sealed object is malformed or contradicts its PCR policy.
    WALLET_SEAL_INVALID_SEALED_OBJECT = 602,
    /// The check after sealing unsealed different bytes than were sealed.
    WALLET_SEAL_UNSEAL_MISMATCH = 603,
    /// No valid secp256k1 key after several draws: entropy is broken.
    WALLET_SEAL_NO_VALID_SCALAR = 604,
    /// The key is PIN-locked and no PIN was set (`wallet_set_pin`). Nothing
    /// was sent to the TPM.
    WALLET_SEAL_PIN_REQUIRED = 605,
    /// The TPM refused the PIN; the failure counts towards its
    /// dictionary-attack lockout.
    WALLET_SEAL_WRONG_PIN = 606,
    /// The TPM is in dictionary-attack lockout: too many wrong PINs.
    WALLET_SEAL_LOCKED_OUT = 607,
    /// The boot-once key was already unsealed once in this boot; it unseals
    /// again only after a reboot.
    WALLET_SEAL_BOOT_ONCE_SPENT = 608,
    // 62x: the sealed-key file (the account file and the backup).
    /// Not a sealed-key file (bad magic).
    WALLET_BACKUP_BAD_MAGIC = 620,
    /// The sealed-key file has a version this build does not read.
    WALLET_BACKUP_UNSUPPORTED_VERSION = 621,
    /// The sealed-key file has unknown flag bits.
    WALLET_BACKUP_UNKNOWN_FLAGS = 622,
    /// The sealed-key file ends inside a field.
    WALLET_BACKUP_TRUNCATED = 623,
    /// A length in the sealed-key file is above its bound.
    WALLET_BACKUP_LENGTH_OVER_BOUND = 624,
    /// A field of the sealed-key file that cannot be empty is empty.
    WALLET_BACKUP_EMPTY_FIELD = 625,
    /// Bytes follow the sealed-key file's integrity check.
    WALLET_BACKUP_TRAILING_BYTES = 626,
    /// The sealed-key file is corrupted (its SHA-256 does not match).
    WALLET_BACKUP_INTEGRITY_MISMATCH = 627,
    /// The sealed-key file's flags do not fit its version: owners in a
    /// version 1 file, a version 2 file without owners, or owners without a
    /// signing policy.
    WALLET_BACKUP_FLAGS_DO_NOT_FIT_VERSION = 628,
    // 64x: the state directory.
    /// The state path exists and is not a directory.
    WALLET_STATE_NOT_A_DIRECTORY = 640,
    /// The state directory or account file is open to group or others.
    WALLET_STATE_INSECURE_PERMISSIONS = 641,
    /// The account file is not a regular file.
    WALLET_STATE_NOT_A_REGULAR_FILE = 642,
    /// The state directory already holds an account.
    WALLET_STATE_ACCOUNT_EXISTS = 643,
    /// The state directory holds no account.
    WALLET_STATE_NO_ACCOUNT = 644,
    /// The account file is too large to be a sealed key.
    WALLET_STATE_FILE_TOO_LARGE = 645,
    /// A file-system operation on the state directory failed
    /// (`wallet_last_error_message` names the step and the OS error).
    WALLET_STATE_IO_ERROR = 646,
    /// The spend ledger or the policy audit log is larger than its bound.
    WALLET_STATE_POLICY_FILE_TOO_LARGE = 647,
    // 66x: the wallet.
    /// The wallet was closed.
    WALLET_CLOSED = 660,
    /// No account is loaded: create, import, load or restore one first.
    WALLET_ACCOUNT_NOT_LOADED = 661,
    /// The backup text is not canonical padded base64.
    WALLET_BACKUP_NOT_BASE64 = 662,
    /// A restore needs an empty state directory.
    WALLET_RESTORE_STATE_NOT_EMPTY = 663,
    /// The unsealed key does not belong to the recorded address: the
    /// sealed-key file was altered.
    WALLET_ACCOUNT_ADDRESS_MISMATCH = 664,
    /// The account's signing policy does not match its binding to the key:
    /// the account file was altered. Nothing was signed.
    WALLET_ACCOUNT_POLICY_BINDING_MISMATCH = 665,
    /// The account file predates signing policies and carries none; it
    /// signs nothing until a policy is bound to it.
    WALLET_ACCOUNT_POLICY_UNBOUND = 666,
    /// A keystore export was asked with an empty password.
    WALLET_EXPORT_EMPTY_PASSWORD = 667,
    /// A keystore export was asked with a KDF weaker than scrypt
    /// `n = 2^17, r = 8` or pbkdf2 `c = 600000`.
    WALLET_EXPORT_WEAK_KDF = 668,
    /// The account file is older than the account's anti-rollback TPM
    /// counter: an older copy was put back. Nothing was signed.
    WALLET_ACCOUNT_ROLLED_BACK = 669,
    /// An account with a signing policy or owners was created or imported
    /// without choosing a key lock (`wallet_set_key_lock`): PIN, PCR,
    /// boot-once, or `WALLET_KEY_LOCK_NONE`.
    WALLET_KEY_LOCK_NOT_CHOSEN = 670,
    /// `wallet_change_pin` on an account that is not PIN-locked.
    WALLET_KEY_LOCK_NO_PIN = 671,
    /// `wallet_change_pin` on a boot-once account: its key does not unseal
    /// again this boot.
    WALLET_KEY_LOCK_PIN_CHANGE_BOOT_ONCE = 672,
    /// A sealed-key, state or wallet error this build has no specific code for.
    WALLET_STORAGE_OTHER = 699,

    // ---- 7xx: attestation evidence and its verification.
    /// Not attestation evidence (bad magic).
    WALLET_ATTEST_EVIDENCE_BAD_MAGIC = 700,
    /// The evidence has a version this build does not read.
    WALLET_ATTEST_EVIDENCE_UNSUPPORTED_VERSION = 701,
    /// The evidence ends early.
    WALLET_ATTEST_EVIDENCE_TRUNCATED = 702,
    /// A length in the evidence is zero or over its bound.
    WALLET_ATTEST_EVIDENCE_LENGTH_OUT_OF_BOUNDS = 703,
    /// The evidence's PCR value count differs from its selection.
    WALLET_ATTEST_EVIDENCE_PCR_COUNT_MISMATCH = 704,
    /// Bytes follow the evidence.
    WALLET_ATTEST_EVIDENCE_TRAILING_BYTES = 705,
    /// A PCR index is outside 0..=31.
    WALLET_ATTEST_PCR_INDEX_OUT_OF_RANGE = 706,
    /// The PCR selection is empty or not in the SHA-256 bank.
    WALLET_ATTEST_UNSUPPORTED_PCR_BANK = 707,
    /// The quote's attestation key is not the enrolled one.
    WALLET_ATTEST_AK_NOT_ENROLLED = 708,
    /// The attestation key's public area is malformed.
    WALLET_ATTEST_AK_PUBLIC_MALFORMED = 709,
    /// The attestation key is not an ECC key.
    WALLET_ATTEST_AK_NOT_ECC = 710,
    /// The attestation key's name algorithm is not SHA-256.
    WALLET_ATTEST_AK_NAME_ALG = 711,
    /// The attestation key is not a restricted, fixed, TPM-generated signing key.
    WALLET_ATTEST_AK_ATTRIBUTES = 712,
    /// The attestation key has a symmetric algorithm or a KDF.
    WALLET_ATTEST_AK_PARAMETERS = 713,
    /// The attestation key's scheme is not ECDSA with SHA-256.
    WALLET_ATTEST_AK_SCHEME = 714,
    /// The attestation key's curve is not NIST P-256.
    WALLET_ATTEST_AK_CURVE = 715,
    /// The attestation key's public point is not on P-256.
    WALLET_ATTEST_AK_POINT_INVALID = 716,
    /// The quote signature has an out-of-range scalar.
    WALLET_ATTEST_AK_SIGNATURE_MALFORMED = 717,
    /// The quote signature does not verify with the attestation key.
    WALLET_ATTEST_AK_SIGNATURE_INVALID = 718,
    /// The quoted `TPMS_ATTEST` is malformed.
    WALLET_ATTEST_QUOTE_MALFORMED = 719,
    /// The quote was not generated by a TPM (bad magic).
    WALLET_ATTEST_QUOTE_BAD_MAGIC = 720,
    /// The attest structure is not a quote.
    WALLET_ATTEST_NOT_A_QUOTE = 721,
    /// The quote's qualifying data is not the challenge: wrong nonce, or an
    /// evidence field (address, chain id, policy hash) was changed.
    WALLET_ATTEST_CHALLENGE_MISMATCH = 722,
    /// The quote's PCR selection differs from the evidence's.
    WALLET_ATTEST_PCR_SELECTION_MISMATCH = 723,
    /// The quote's PCR digest differs from the evidence's PCR values.
    WALLET_ATTEST_PCR_DIGEST_MISMATCH = 724,
    /// The wallet's signature in the evidence is malformed.
    WALLET_ATTEST_WALLET_SIGNATURE_MALFORMED = 725,
    /// The wallet's signature does not recover to the evidence's address.
    WALLET_ATTEST_WALLET_SIGNATURE_MISMATCH = 726,
    /// The evidence speaks for another address than the expected one.
    WALLET_ATTEST_ADDRESS_MISMATCH = 727,
    /// The evidence is bound to another chain id than the expected one.
    WALLET_ATTEST_CHAIN_ID_MISMATCH = 728,
    /// The evidence is bound to another policy hash than the expected one.
    WALLET_ATTEST_POLICY_HASH_MISMATCH = 729,
    /// An expected PCR is not in the quote.
    WALLET_ATTEST_PCR_NOT_QUOTED = 730,
    /// A quoted PCR value differs from the expected one.
    WALLET_ATTEST_PCR_VALUE_MISMATCH = 731,
    /// The evidence is bound to another owners hash than the expected one.
    WALLET_ATTEST_OWNERS_HASH_MISMATCH = 732,
    /// The evidence is bound to another owner threshold than the expected one.
    WALLET_ATTEST_THRESHOLD_MISMATCH = 733,
    /// The evidence is bound to another admin nonce than the expected one.
    WALLET_ATTEST_ADMIN_NONCE_MISMATCH = 734,
    /// The evidence is bound to another audit-log head than the expected one.
    WALLET_ATTEST_AUDIT_HEAD_MISMATCH = 735,
    /// The evidence is version 1, which binds no owner facts: attest again.
    WALLET_ATTEST_EVIDENCE_VERSION_RETIRED = 736,
    /// The evidence is version 2: no TPM identity, no enrolled AK, no trust chain. Enroll and attest again.
    WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN = 737,
    /// The evidence's TPM identity marker is neither 0 nor 1.
    WALLET_ATTEST_EVIDENCE_TPM_IDENTITY_INVALID = 738,
    /// No trust anchor: pass trust roots and an enrollment record or an AK certificate.
    WALLET_ATTEST_NO_TRUST_ANCHOR = 739,
    /// The account was created on an unverified TPM and the caller did not accept that.
    WALLET_ATTEST_UNVERIFIED_TPM = 740,
    /// The quote covers another PCR selection than the one required.
    WALLET_ATTEST_PCR_SELECTION_NOT_EXPECTED = 741,
    /// The enrollment record is malformed (magic, version, method, lengths, trailing bytes).
    WALLET_ENROLLMENT_MALFORMED = 742,
    /// The enrollment record's AK Name is not the Name of its AK public area.
    WALLET_ENROLLMENT_AK_NAME_MISMATCH = 743,
    /// The enrollment record's AK is not a restricted, fixed, TPM-generated P-256 signing key.
    WALLET_ENROLLMENT_AK_REFUSED = 744,
    /// The enrollment record's EK public area is missing or not an RSA 2048 / P-256 storage key.
    WALLET_ENROLLMENT_EK_REFUSED = 745,
    /// The enrollment record has no EK certificate.
    WALLET_ENROLLMENT_EK_CERTIFICATE_MISSING = 746,
    /// The enrollment record's activation quote does not verify or does not bind its credential, EK and AK.
    WALLET_ENROLLMENT_PROOF_INVALID = 747,
    /// The enrollment record's EK certificate does not chain to the trust roots.
    WALLET_ENROLLMENT_EK_CHAIN = 748,
    /// The EK certificate certifies another key than the record's EK.
    WALLET_ENROLLMENT_EK_KEY_MISMATCH = 749,
    /// The AK certificate does not chain to the trust roots.
    WALLET_ENROLLMENT_AK_CHAIN = 750,
    /// The AK certificate certifies another key than the AK.
    WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH = 751,
    /// Credential activation returned another secret than the one wrapped.
    WALLET_ENROLLMENT_ACTIVATION_SECRET_MISMATCH = 752,
    /// The trust roots are not a PEM bundle of X.509 certificates (or, for
    /// `wallet_open_with_trust`, the roots file or folder is unreadable or
    /// holds one that is not).
    WALLET_TRUST_ROOTS_INVALID = 753,
    /// The TPM has no platform AK template (GCE Shielded VM: NV `0x01c10003`).
    WALLET_ENROLLMENT_AK_TEMPLATE_MISSING = 754,
    /// The platform AK template in NV is not a well-formed `TPMT_PUBLIC`.
    WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED = 755,
    /// The TPM has no platform AK certificate (GCE Shielded VM: NV `0x01c10002`).
    WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING = 756,
    /// The AK certificate's intermediates are not a PEM bundle of X.509 certificates.
    WALLET_AK_INTERMEDIATES_INVALID = 757,
    /// An attestation error this build has no specific code for.
    WALLET_ATTEST_OTHER = 799,

    // ---- 8xx: the account's signing policy. 80x-81x: a rule refused the
    // request; nothing was signed (`wallet_last_error_message` gives the
    // values involved).
    /// The transaction's chain id is not in `chain_ids`.
    WALLET_POLICY_CHAIN_ID_NOT_ALLOWED = 800,
    /// A legacy transaction without an EIP-155 chain id, and
    /// `allow_unprotected` is false (the default).
    WALLET_POLICY_UNPROTECTED_NOT_ALLOWED = 801,
    /// The transaction creates a contract, and `allow_contract_creation` is false.
    WALLET_POLICY_CONTRACT_CREATION_NOT_ALLOWED = 802,
    /// The recipient is on `recipients_deny`.
    WALLET_POLICY_RECIPIENT_DENIED = 803,
    /// The recipient is not on `recipients_allow`.
    WALLET_POLICY_RECIPIENT_NOT_ALLOWED = 804,
    /// A call to a contract listed in `selectors` with another selector.
    WALLET_POLICY_SELECTOR_NOT_ALLOWED = 805,
    /// A call to a contract listed in `selectors` without a whole selector.
    WALLET_POLICY_MISSING_SELECTOR = 806,
    /// An EIP-7702 authorization delegates to an address not on `delegations_allow`.
    WALLET_POLICY_DELEGATION_NOT_ALLOWED = 807,
    /// The transaction's value is above `max_value_wei`.
    WALLET_POLICY_VALUE_ABOVE_CAP = 808,
    /// The transaction's maximum fee is above `max_fee_wei`.
    WALLET_POLICY_MAX_FEE_ABOVE_CAP = 809,
    /// Message signing, and `allow_messages` is false.
    WALLET_POLICY_MESSAGES_NOT_ALLOWED = 810,
    /// The EIP-712 domain is not in `typed_data_domains`.
    WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED = 811,
    /// Typed data given only as hashes while `typed_data_domains` is set.
    WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE = 812,
    /// The spend would exceed `daily_limit_wei` over the last 24 hours.
    WALLET_POLICY_DAILY_LIMIT_EXCEEDED = 813,
    /// A raw 32-byte hash to sign, and the policy's `allow_raw_hashes` is false.
    WALLET_POLICY_RAW_HASH_NOT_ALLOWED = 814,
    // 82x: policy encodings and the policy's state files.
    /// Not a policy encoding (bad magic).
    WALLET_POLICY_BAD_MAGIC = 820,
    /// The policy encoding has a version this build does not read.
    WALLET_POLICY_UNSUPPORTED_VERSION = 821,
    /// The policy encoding is truncated.
    WALLET_POLICY_TRUNCATED = 822,
    /// A flag byte of the policy encoding is neither 0 nor 1.
    WALLET_POLICY_INVALID_FLAG = 823,
    /// A list of the policy has more entries than it can hold.
    WALLET_POLICY_TOO_MANY_ENTRIES = 824,
    /// A list of the policy encoding is not in ascending order.
    WALLET_POLICY_UNSORTED = 825,
    /// A list of the policy encoding holds an entry twice.
    WALLET_POLICY_DUPLICATE = 826,
    /// A chain id in the policy's `chain_ids` is 0 or above the EIP-2294 maximum.
    WALLET_POLICY_CHAIN_ID_OUT_OF_RANGE = 827,
    /// Bytes follow the policy encoding.
    WALLET_POLICY_TRAILING_BYTES = 828,
    /// The spend ledger in the state directory is damaged or another account's.
    WALLET_POLICY_SPEND_LEDGER_MALFORMED = 829,
    /// The policy audit log in the state directory does not parse.
    WALLET_POLICY_AUDIT_LOG_MALFORMED = 830,
    // 84x: the policy's JSON form (`wallet_policy_json_error_message` names
    // the key and what was expected). A list above its capacity is
    // `WALLET_POLICY_TOO_MANY_ENTRIES`, as in an encoding.
    /// The policy JSON is longer than `WALLET_POLICY_JSON_MAX_LEN`.
    WALLET_POLICY_JSON_TOO_LONG = 840,
    /// The policy JSON is not UTF-8.
    WALLET_POLICY_JSON_NOT_UTF8 = 841,
    /// The policy text is not JSON (or ends early).
    WALLET_POLICY_JSON_SYNTAX = 842,
    /// The policy JSON is not an object of rules.
    WALLET_POLICY_JSON_NOT_AN_OBJECT = 843,
    /// An object in the policy JSON holds the same key twice.
    WALLET_POLICY_JSON_DUPLICATE_KEY = 844,
    /// The policy JSON has a key that is not a rule.
    WALLET_POLICY_JSON_UNKNOWN_KEY = 845,
    /// A value in the policy JSON has the wrong type or is out of range.
    WALLET_POLICY_JSON_INVALID_VALUE = 846,
    /// `selectors` names one contract twice (keys differing in letter case).
    WALLET_POLICY_JSON_DUPLICATE_SELECTOR_CONTRACT = 847,
    /// A policy error this build has no specific code for.
    WALLET_POLICY_OTHER = 899,

    // ---- 9xx: Web3 Secret Storage keystores. 90x: the file.
    /// The keystore is not JSON (a syntax error, or bytes that are not UTF-8).
    WALLET_KEYSTORE_JSON_SYNTAX = 900,
    /// The keystore JSON ends in the middle of a value: it is truncated.
    WALLET_KEYSTORE_JSON_TRUNCATED = 901,
    /// A required keystore field is missing.
    WALLET_KEYSTORE_MISSING_FIELD = 902,
    /// A keystore field has the wrong JSON type.
    WALLET_KEYSTORE_WRONG_TYPE = 903,
    /// The keystore has both `crypto` and `Crypto`.
    WALLET_KEYSTORE_DUPLICATE_CRYPTO = 904,
    /// The keystore `version` is not 3.
    WALLET_KEYSTORE_UNSUPPORTED_VERSION = 905,
    /// The keystore cipher is not `aes-128-ctr`.
    WALLET_KEYSTORE_UNSUPPORTED_CIPHER = 906,
    /// The keystore KDF is neither `scrypt` nor `pbkdf2`.
    WALLET_KEYSTORE_UNSUPPORTED_KDF = 907,
    /// The keystore pbkdf2 PRF is not `hmac-sha256`.
    WALLET_KEYSTORE_UNSUPPORTED_PRF = 908,
    /// A keystore hex field is not valid hex.
    WALLET_KEYSTORE_INVALID_HEX = 909,
    /// A keystore hex field decodes to the wrong number of bytes.
    WALLET_KEYSTORE_WRONG_LENGTH = 910,
    /// A KDF parameter is outside what the KDF allows (scrypt `n` not a
    /// power of two above 1; `r`, `p` or `c` zero; `dklen` not 32).
    WALLET_KEYSTORE_INVALID_KDF_PARAM = 911,
    // 92x: the limits that keep a hostile keystore from exhausting memory
    // or CPU, one code per limit.
    /// The keystore JSON is longer than 64 KiB.
    WALLET_KEYSTORE_LIMIT_JSON_LENGTH = 920,
    /// scrypt `n` is above 2^20.
    WALLET_KEYSTORE_LIMIT_SCRYPT_N = 921,
    /// scrypt memory `128 * n * r` is above 512 MiB.
    WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY = 922,
    /// scrypt work `128 * n * r * p` is above 1 GiB.
    WALLET_KEYSTORE_LIMIT_SCRYPT_WORK = 923,
    /// pbkdf2 `c` is above 10,000,000 iterations.
    WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS = 924,
    /// The KDF salt is longer than 1024 bytes.
    WALLET_KEYSTORE_LIMIT_SALT_LENGTH = 925,
    // 94x: decryption.
    /// Wrong password: the keystore MAC does not match (a modified
    /// ciphertext or MAC gives the same code).
    WALLET_KEYSTORE_WRONG_PASSWORD = 940,
    /// The keystore's `address` is not the address of the key it decrypts to.
    WALLET_KEYSTORE_ADDRESS_MISMATCH = 941,
    /// The decrypted bytes are not a valid secp256k1 secret key.
    WALLET_KEYSTORE_INVALID_KEY = 942,
    /// A keystore error this build has no specific code for.
    WALLET_KEYSTORE_OTHER = 999,

    // ---- 10xx: owners and admin approvals
    /// The admin request names another wallet in its EIP-712 domain.
    WALLET_AUTHORITY_WRONG_WALLET = 1000,
    /// The admin request approves another action.
    WALLET_AUTHORITY_WRONG_ACTION = 1001,
    /// The admin request's nonce was already used.
    WALLET_AUTHORITY_REPLAYED = 1002,
    /// The admin request's nonce is ahead of the account's admin nonce.
    WALLET_AUTHORITY_NONCE_NOT_CURRENT = 1003,
    /// The admin request's deadline has passed.
    WALLET_AUTHORITY_EXPIRED = 1004,
    /// The admin request's paramsHash is not the hash of the parameters given.
    WALLET_AUTHORITY_PARAMS_MISMATCH = 1005,
    /// The admin request carries no approval.
    WALLET_AUTHORITY_NO_APPROVALS = 1006,
    /// The admin request carries more than 16 approvals.
    WALLET_AUTHORITY_TOO_MANY_APPROVALS = 1007,
    /// An approval is not a valid 65-byte signature (v, r, s or high s).
    WALLET_AUTHORITY_MALFORMED_SIGNATURE = 1008,
    /// An approval is signed by an address that is not an owner.
    WALLET_AUTHORITY_NOT_OWNER = 1009,
    /// An owner approved twice.
    WALLET_AUTHORITY_DUPLICATE_SIGNER = 1010,
    /// Fewer distinct owners approved than the threshold.
    WALLET_AUTHORITY_TOO_FEW_APPROVALS = 1011,
    /// The account has no owners: its policy can never change and its key can never leave the TPM.
    WALLET_AUTHORITY_OWNERLESS = 1012,
    // 102x: owner sets.
    /// An owner set needs at least one owner.
    WALLET_AUTHORITY_NO_OWNERS = 1020,
    /// An owner set has more than 16 owners.
    WALLET_AUTHORITY_TOO_MANY_OWNERS = 1021,
    /// The zero address cannot be an owner.
    WALLET_AUTHORITY_ZERO_OWNER = 1022,
    /// An address appears twice in an owner set.
    WALLET_AUTHORITY_DUPLICATE_OWNER = 1023,
    /// The threshold is 0 or above the number of owners.
    WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE = 1024,
    /// An owner-set encoding is empty.
    WALLET_AUTHORITY_OWNERS_ENCODING_EMPTY = 1025,
    /// An owner-set encoding's length does not match its owner count.
    WALLET_AUTHORITY_OWNERS_ENCODING_LENGTH = 1026,
    /// The owners of an encoding are not sorted ascending.
    WALLET_AUTHORITY_OWNERS_NOT_SORTED = 1027,
    // 104x: admin requests and approvals as text.
    /// The action is not replace_policy, export_keystore or replace_owners.
    WALLET_AUTHORITY_UNKNOWN_ACTION = 1040,
    /// An approval is not 65 bytes.
    WALLET_AUTHORITY_APPROVAL_LENGTH = 1041,
    /// An approval's text is not hex.
    WALLET_AUTHORITY_APPROVAL_HEX = 1042,
    /// The admin request JSON is longer than 8 KiB.
    WALLET_AUTHORITY_JSON_TOO_LARGE = 1043,
    /// The admin request is not valid JSON.
    WALLET_AUTHORITY_JSON_SYNTAX = 1044,
    /// A field of the admin request JSON is missing.
    WALLET_AUTHORITY_JSON_MISSING_FIELD = 1045,
    /// An object of the admin request JSON has an unknown key.
    WALLET_AUTHORITY_JSON_UNKNOWN_FIELD = 1046,
    /// An object of the admin request JSON has a key twice.
    WALLET_AUTHORITY_JSON_DUPLICATE_KEY = 1047,
    /// A field of the admin request JSON has the wrong JSON type.
    WALLET_AUTHORITY_JSON_WRONG_TYPE = 1048,
    /// The admin request JSON's EIP-712 types are not flare-wallet's.
    WALLET_AUTHORITY_JSON_TYPE_MISMATCH = 1049,
    /// The admin request JSON's primaryType is not AdminRequest.
    WALLET_AUTHORITY_JSON_PRIMARY_TYPE = 1050,
    /// The admin request JSON's domain name is not flare-wallet.
    WALLET_AUTHORITY_JSON_DOMAIN_NAME = 1051,
    /// The admin request JSON's domain version is not 1.
    WALLET_AUTHORITY_JSON_DOMAIN_VERSION = 1052,
    /// The admin request JSON's verifyingContract is not a valid address.
    WALLET_AUTHORITY_JSON_ADDRESS = 1053,
    /// The admin request JSON's paramsHash is not 0x and 64 hex digits.
    WALLET_AUTHORITY_JSON_PARAMS_HASH = 1054,
    /// A nonce or deadline is not an integer within u64.
    WALLET_AUTHORITY_JSON_INTEGER = 1055,
    /// The admin request JSON's action is unknown.
    WALLET_AUTHORITY_JSON_ACTION = 1056,
    /// An authority error this build has no specific code for.
    WALLET_AUTHORITY_OTHER = 1099,

    // ---- 11xx: the hash-chained audit log and its verification.
    /// The audit log is not UTF-8 text ending in a newline.
    WALLET_AUDIT_NOT_TEXT = 1100,
    /// An audit log line is not an entry in the form the wallet writes.
    WALLET_AUDIT_MALFORMED = 1101,
    /// An audit entry's hash is not the hash of its contents: it was edited.
    WALLET_AUDIT_ENTRY_HASH_MISMATCH = 1102,
    /// An audit entry's `prev` is not the hash of the entry before it: an
    /// entry was removed, inserted or moved.
    WALLET_AUDIT_CHAIN_BROKEN = 1103,
    /// An audit entry's `seq` does not follow the one before it.
    WALLET_AUDIT_SEQUENCE_GAP = 1104,
    /// The audit log's first entry is neither the chain's start nor a
    /// rotation: its beginning was cut.
    WALLET_AUDIT_MISSING_START = 1105,
    /// The audit log's last hash is not the expected head: entries were
    /// removed from its end, or it is another log.
    WALLET_AUDIT_HEAD_MISMATCH = 1106,
    /// The audit log is empty and the expected head is not the genesis hash.
    WALLET_AUDIT_EMPTY = 1107,
    /// An audit log error this build has no specific code for.
    WALLET_AUDIT_OTHER = 1199,
    // 120x: the default mode, token, permit and authorization rules.
    /// `default` is deny and no rule allows the call.
    WALLET_POLICY_DENIED_BY_DEFAULT = 1200,
    /// A call with a token selector whose calldata does not decode strictly.
    WALLET_POLICY_MALFORMED_TOKEN_CALL = 1201,
    /// Deny mode: a permit grants a token without a rule in `tokens`.
    WALLET_POLICY_TOKEN_NOT_LISTED = 1202,
    /// A token transfer to a recipient not on the token's `recipients_allow`.
    WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED = 1203,
    /// An approval or permit for a spender not on the token's `spenders_allow`.
    WALLET_POLICY_TOKEN_SPENDER_NOT_ALLOWED = 1204,
    /// A token transfer above the token's `max_amount`.
    WALLET_POLICY_TOKEN_AMOUNT_ABOVE_CAP = 1205,
    /// An unlimited approval, or one above `max_amount`, without `allow_unlimited_approval`.
    WALLET_POLICY_TOKEN_APPROVAL_ABOVE_CAP = 1206,
    /// The transfer would exceed the token's `daily_limit` over 24 hours.
    WALLET_POLICY_TOKEN_DAILY_LIMIT_EXCEEDED = 1207,
    /// A permit usable beyond `permit_max_lifetime_seconds` from now.
    WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG = 1208,
    /// An EIP-7702 authorization for every chain without `allow_any_chain_authorization`.
    WALLET_POLICY_ANY_CHAIN_AUTHORIZATION_NOT_ALLOWED = 1209,
    // 122x: typed-data documents.
    /// The typed-data JSON is longer than the core reads.
    WALLET_TYPED_DATA_TOO_LONG = 1220,
    /// The typed-data text is not UTF-8 JSON.
    WALLET_TYPED_DATA_NOT_JSON = 1221,
    /// The typed-data document does not follow EIP-712 (see `wallet_last_error_message`).
    WALLET_TYPED_DATA_INVALID = 1222,
    /// A typed-data or token-rule error this build has no specific code for.
    WALLET_TYPED_DATA_OTHER = 1299,
}

use wallet_result::*;

impl wallet_result {
    /// Every code, in numeric order.
    pub(crate) const ALL: &'static [Self] = &[
        WALLET_OK,
        WALLET_NULL_PARAMETER,
        WALLET_PANIC,
        WALLET_BUFFER_TOO_SMALL,
        WALLET_INVALID_PARAMETER,
        WALLET_RANDOM_FAILED,
        WALLET_UNKNOWN_ERROR,
        WALLET_HANDLE_POISONED,
        WALLET_RLP_INPUT_TOO_SHORT,
        WALLET_RLP_LEADING_ZERO,
        WALLET_RLP_NON_CANONICAL_SINGLE_BYTE,
        WALLET_RLP_NON_CANONICAL_LENGTH,
        WALLET_RLP_LENGTH_OVERFLOW,
        WALLET_RLP_TRAILING_BYTES,
        WALLET_RLP_UNEXPECTED_LIST,
        WALLET_RLP_UNEXPECTED_STRING,
        WALLET_RLP_INTEGER_OVERFLOW,
        WALLET_RLP_UNEXPECTED_LENGTH,
        WALLET_RLP_OTHER,
        WALLET_TX_EMPTY_INPUT,
        WALLET_TX_UNSUPPORTED_TYPE,
        WALLET_TX_TOO_FEW_FIELDS,
        WALLET_TX_TOO_MANY_FIELDS,
        WALLET_TX_CHAIN_ID_ZERO,
        WALLET_TX_CHAIN_ID_TOO_LARGE,
        WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER,
        WALLET_TX_INVALID_V,
        WALLET_TX_INVALID_Y_PARITY,
        WALLET_TX_INVALID_SIGNATURE,
        WALLET_TX_RECOVERY_FAILED,
        WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED,
        WALLET_TX_TOO_LARGE,
        WALLET_TX_INTRINSIC_GAS_TOO_LOW,
        WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR,
        WALLET_TX_NONCE_TOO_LARGE,
        WALLET_TX_INIT_CODE_TOO_LARGE,
        WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE,
        WALLET_TX_FEE_COST_OVERFLOW,
        WALLET_TX_NO_BLOBS,
        WALLET_TX_TOO_MANY_BLOBS,
        WALLET_TX_INVALID_BLOB_VERSION,
        WALLET_TX_EMPTY_AUTHORIZATION_LIST,
        WALLET_TX_UNPROTECTED,
        WALLET_TX_OTHER,
        WALLET_SIGNER_INVALID_SECRET_KEY,
        WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH,
        WALLET_SIGNER_INVALID_PUBLIC_KEY,
        WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE,
        WALLET_SIGNER_HIGH_S,
        WALLET_SIGNER_INVALID_RECOVERY_BYTE,
        WALLET_SIGNER_RECOVERY_FAILED,
        WALLET_SIGNER_SIGNING_FAILED,
        WALLET_SIGNER_INVALID_ADDRESS_LENGTH,
        WALLET_SIGNER_INVALID_ADDRESS_HEX,
        WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM,
        WALLET_SIGNER_OTHER,
        WALLET_TPM_INVALID_TCTI,
        WALLET_TPM_NO_DEFAULT_TPM,
        WALLET_TPM_CONNECT_FAILED,
        WALLET_TPM_TIMEOUT,
        WALLET_TPM_CONNECTION_LOST,
        WALLET_TPM_IO_ERROR,
        WALLET_TPM_TRANSPORT_COMMAND_TOO_LARGE,
        WALLET_TPM_RESPONSE_TOO_LARGE,
        WALLET_TPM_RESPONSE_TRUNCATED,
        WALLET_TPM_INJECTED_FAILURE,
        WALLET_TPM_BUSY,
        WALLET_TPM_COMMAND_FAILED,
        WALLET_TPM_MALFORMED_RESPONSE,
        WALLET_TPM_RESPONSE_HMAC_MISMATCH,
        WALLET_TPM_COMMAND_TOO_LARGE,
        WALLET_TPM_INVALID_PCR_SELECTION,
        WALLET_TPM_INVALID_SRK_POINT,
        WALLET_TPM_NO_EK_CERTIFICATE,
        WALLET_TPM_EK_CHAIN_INVALID,
        WALLET_TPM_EK_KEY_MISMATCH,
        WALLET_TPM_EK_CHANGED,
        WALLET_TPM_NOW_UNVERIFIED,
        WALLET_TPM_EK_TEMPLATE_UNSUPPORTED,
        WALLET_TPM_OTHER,
        WALLET_SEAL_SRK_NAME_MISMATCH,
        WALLET_SEAL_PCR_MISMATCH,
        WALLET_SEAL_INVALID_SEALED_OBJECT,
        WALLET_SEAL_UNSEAL_MISMATCH,
        WALLET_SEAL_NO_VALID_SCALAR,
        WALLET_SEAL_PIN_REQUIRED,
        WALLET_SEAL_WRONG_PIN,
        WALLET_SEAL_LOCKED_OUT,
        WALLET_SEAL_BOOT_ONCE_SPENT,
        WALLET_BACKUP_BAD_MAGIC,
        WALLET_BACKUP_UNSUPPORTED_VERSION,
        WALLET_BACKUP_UNKNOWN_FLAGS,
        WALLET_BACKUP_TRUNCATED,
        WALLET_BACKUP_LENGTH_OVER_BOUND,
        WALLET_BACKUP_EMPTY_FIELD,
        WALLET_BACKUP_TRAILING_BYTES,
        WALLET_BACKUP_INTEGRITY_MISMATCH,
        WALLET_BACKUP_FLAGS_DO_NOT_FIT_VERSION,
        WALLET_STATE_NOT_A_DIRECTORY,
        WALLET_STATE_INSECURE_PERMISSIONS,
        WALLET_STATE_NOT_A_REGULAR_FILE,
        WALLET_STATE_ACCOUNT_EXISTS,
        WALLET_STATE_NO_ACCOUNT,
        WALLET_STATE_FILE_TOO_LARGE,
        WALLET_STATE_IO_ERROR,
        WALLET_STATE_POLICY_FILE_TOO_LARGE,
        WALLET_CLOSED,
        WALLET_ACCOUNT_NOT_LOADED,
        WALLET_BACKUP_NOT_BASE64,
        WALLET_RESTORE_STATE_NOT_EMPTY,
        WALLET_ACCOUNT_ADDRESS_MISMATCH,
        WALLET_ACCOUNT_POLICY_BINDING_MISMATCH,
        WALLET_ACCOUNT_POLICY_UNBOUND,
        WALLET_EXPORT_EMPTY_PASSWORD,
        WALLET_EXPORT_WEAK_KDF,
        WALLET_ACCOUNT_ROLLED_BACK,
        WALLET_KEY_LOCK_NOT_CHOSEN,
        WALLET_KEY_LOCK_NO_PIN,
        WALLET_KEY_LOCK_PIN_CHANGE_BOOT_ONCE,
        WALLET_STORAGE_OTHER,
        WALLET_ATTEST_EVIDENCE_BAD_MAGIC,
        WALLET_ATTEST_EVIDENCE_UNSUPPORTED_VERSION,
        WALLET_ATTEST_EVIDENCE_TRUNCATED,
        WALLET_ATTEST_EVIDENCE_LENGTH_OUT_OF_BOUNDS,
        WALLET_ATTEST_EVIDENCE_PCR_COUNT_MISMATCH,
        WALLET_ATTEST_EVIDENCE_TRAILING_BYTES,
        WALLET_ATTEST_PCR_INDEX_OUT_OF_RANGE,
        WALLET_ATTEST_UNSUPPORTED_PCR_BANK,
        WALLET_ATTEST_AK_NOT_ENROLLED,
        WALLET_ATTEST_AK_PUBLIC_MALFORMED,
        WALLET_ATTEST_AK_NOT_ECC,
        WALLET_ATTEST_AK_NAME_ALG,
        WALLET_ATTEST_AK_ATTRIBUTES,
        WALLET_ATTEST_AK_PARAMETERS,
        WALLET_ATTEST_AK_SCHEME,
        WALLET_ATTEST_AK_CURVE,
        WALLET_ATTEST_AK_POINT_INVALID,
        WALLET_ATTEST_AK_SIGNATURE_MALFORMED,
        WALLET_ATTEST_AK_SIGNATURE_INVALID,
        WALLET_ATTEST_QUOTE_MALFORMED,
        WALLET_ATTEST_QUOTE_BAD_MAGIC,
        WALLET_ATTEST_NOT_A_QUOTE,
        WALLET_ATTEST_CHALLENGE_MISMATCH,
        WALLET_ATTEST_PCR_SELECTION_MISMATCH,
        WALLET_ATTEST_PCR_DIGEST_MISMATCH,
        WALLET_ATTEST_WALLET_SIGNATURE_MALFORMED,
        WALLET_ATTEST_WALLET_SIGNATURE_MISMATCH,
        WALLET_ATTEST_ADDRESS_MISMATCH,
        WALLET_ATTEST_CHAIN_ID_MISMATCH,
        WALLET_ATTEST_POLICY_HASH_MISMATCH,
        WALLET_ATTEST_PCR_NOT_QUOTED,
        WALLET_ATTEST_PCR_VALUE_MISMATCH,
        WALLET_ATTEST_OWNERS_HASH_MISMATCH,
        WALLET_ATTEST_THRESHOLD_MISMATCH,
        WALLET_ATTEST_ADMIN_NONCE_MISMATCH,
        WALLET_ATTEST_AUDIT_HEAD_MISMATCH,
        WALLET_ATTEST_EVIDENCE_VERSION_RETIRED,
        WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN,
        WALLET_ATTEST_EVIDENCE_TPM_IDENTITY_INVALID,
        WALLET_ATTEST_NO_TRUST_ANCHOR,
        WALLET_ATTEST_UNVERIFIED_TPM,
        WALLET_ATTEST_PCR_SELECTION_NOT_EXPECTED,
        WALLET_ENROLLMENT_MALFORMED,
        WALLET_ENROLLMENT_AK_NAME_MISMATCH,
        WALLET_ENROLLMENT_AK_REFUSED,
        WALLET_ENROLLMENT_EK_REFUSED,
        WALLET_ENROLLMENT_EK_CERTIFICATE_MISSING,
        WALLET_ENROLLMENT_PROOF_INVALID,
        WALLET_ENROLLMENT_EK_CHAIN,
        WALLET_ENROLLMENT_EK_KEY_MISMATCH,
        WALLET_ENROLLMENT_AK_CHAIN,
        WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH,
        WALLET_ENROLLMENT_ACTIVATION_SECRET_MISMATCH,
        WALLET_TRUST_ROOTS_INVALID,
        WALLET_ENROLLMENT_AK_TEMPLATE_MISSING,
        WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED,
        WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING,
        WALLET_AK_INTERMEDIATES_INVALID,
        WALLET_ATTEST_OTHER,
        WALLET_POLICY_CHAIN_ID_NOT_ALLOWED,
        WALLET_POLICY_UNPROTECTED_NOT_ALLOWED,
        WALLET_POLICY_CONTRACT_CREATION_NOT_ALLOWED,
        WALLET_POLICY_RECIPIENT_DENIED,
        WALLET_POLICY_RECIPIENT_NOT_ALLOWED,
        WALLET_POLICY_SELECTOR_NOT_ALLOWED,
        WALLET_POLICY_MISSING_SELECTOR,
        WALLET_POLICY_DELEGATION_NOT_ALLOWED,
        WALLET_POLICY_VALUE_ABOVE_CAP,
        WALLET_POLICY_MAX_FEE_ABOVE_CAP,
        WALLET_POLICY_MESSAGES_NOT_ALLOWED,
        WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED,
        WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE,
        WALLET_POLICY_DAILY_LIMIT_EXCEEDED,
        WALLET_POLICY_RAW_HASH_NOT_ALLOWED,
        WALLET_POLICY_BAD_MAGIC,
        WALLET_POLICY_UNSUPPORTED_VERSION,
        WALLET_POLICY_TRUNCATED,
        WALLET_POLICY_INVALID_FLAG,
        WALLET_POLICY_TOO_MANY_ENTRIES,
        WALLET_POLICY_UNSORTED,
        WALLET_POLICY_DUPLICATE,
        WALLET_POLICY_CHAIN_ID_OUT_OF_RANGE,
        WALLET_POLICY_TRAILING_BYTES,
        WALLET_POLICY_SPEND_LEDGER_MALFORMED,
        WALLET_POLICY_AUDIT_LOG_MALFORMED,
        WALLET_POLICY_JSON_TOO_LONG,
        WALLET_POLICY_JSON_NOT_UTF8,
        WALLET_POLICY_JSON_SYNTAX,
        WALLET_POLICY_JSON_NOT_AN_OBJECT,
        WALLET_POLICY_JSON_DUPLICATE_KEY,
        WALLET_POLICY_JSON_UNKNOWN_KEY,
        WALLET_POLICY_JSON_INVALID_VALUE,
        WALLET_POLICY_JSON_DUPLICATE_SELECTOR_CONTRACT,
        WALLET_POLICY_OTHER,
        WALLET_KEYSTORE_JSON_SYNTAX,
        WALLET_KEYSTORE_JSON_TRUNCATED,
        WALLET_KEYSTORE_MISSING_FIELD,
        WALLET_KEYSTORE_WRONG_TYPE,
        WALLET_KEYSTORE_DUPLICATE_CRYPTO,
        WALLET_KEYSTORE_UNSUPPORTED_VERSION,
        WALLET_KEYSTORE_UNSUPPORTED_CIPHER,
        WALLET_KEYSTORE_UNSUPPORTED_KDF,
        WALLET_KEYSTORE_UNSUPPORTED_PRF,
        WALLET_KEYSTORE_INVALID_HEX,
        WALLET_KEYSTORE_WRONG_LENGTH,
        WALLET_KEYSTORE_INVALID_KDF_PARAM,
        WALLET_KEYSTORE_LIMIT_JSON_LENGTH,
        WALLET_KEYSTORE_LIMIT_SCRYPT_N,
        WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY,
        WALLET_KEYSTORE_LIMIT_SCRYPT_WORK,
        WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS,
        WALLET_KEYSTORE_LIMIT_SALT_LENGTH,
        WALLET_KEYSTORE_WRONG_PASSWORD,
        WALLET_KEYSTORE_ADDRESS_MISMATCH,
        WALLET_KEYSTORE_INVALID_KEY,
        WALLET_KEYSTORE_OTHER,
        WALLET_AUTHORITY_WRONG_WALLET,
        WALLET_AUTHORITY_WRONG_ACTION,
        WALLET_AUTHORITY_REPLAYED,
        WALLET_AUTHORITY_NONCE_NOT_CURRENT,
        WALLET_AUTHORITY_EXPIRED,
        WALLET_AUTHORITY_PARAMS_MISMATCH,
        WALLET_AUTHORITY_NO_APPROVALS,
        WALLET_AUTHORITY_TOO_MANY_APPROVALS,
        WALLET_AUTHORITY_MALFORMED_SIGNATURE,
        WALLET_AUTHORITY_NOT_OWNER,
        WALLET_AUTHORITY_DUPLICATE_SIGNER,
        WALLET_AUTHORITY_TOO_FEW_APPROVALS,
        WALLET_AUTHORITY_OWNERLESS,
        WALLET_AUTHORITY_NO_OWNERS,
        WALLET_AUTHORITY_TOO_MANY_OWNERS,
        WALLET_AUTHORITY_ZERO_OWNER,
        WALLET_AUTHORITY_DUPLICATE_OWNER,
        WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE,
        WALLET_AUTHORITY_OWNERS_ENCODING_EMPTY,
        WALLET_AUTHORITY_OWNERS_ENCODING_LENGTH,
        WALLET_AUTHORITY_OWNERS_NOT_SORTED,
        WALLET_AUTHORITY_UNKNOWN_ACTION,
        WALLET_AUTHORITY_APPROVAL_LENGTH,
        WALLET_AUTHORITY_APPROVAL_HEX,
        WALLET_AUTHORITY_JSON_TOO_LARGE,
        WALLET_AUTHORITY_JSON_SYNTAX,
        WALLET_AUTHORITY_JSON_MISSING_FIELD,
        WALLET_AUTHORITY_JSON_UNKNOWN_FIELD,
        WALLET_AUTHORITY_JSON_DUPLICATE_KEY,
        WALLET_AUTHORITY_JSON_WRONG_TYPE,
        WALLET_AUTHORITY_JSON_TYPE_MISMATCH,
        WALLET_AUTHORITY_JSON_PRIMARY_TYPE,
        WALLET_AUTHORITY_JSON_DOMAIN_NAME,
        WALLET_AUTHORITY_JSON_DOMAIN_VERSION,
        WALLET_AUTHORITY_JSON_ADDRESS,
        WALLET_AUTHORITY_JSON_PARAMS_HASH,
        WALLET_AUTHORITY_JSON_INTEGER,
        WALLET_AUTHORITY_JSON_ACTION,
        WALLET_AUTHORITY_OTHER,
        WALLET_AUDIT_NOT_TEXT,
        WALLET_AUDIT_MALFORMED,
        WALLET_AUDIT_ENTRY_HASH_MISMATCH,
        WALLET_AUDIT_CHAIN_BROKEN,
        WALLET_AUDIT_SEQUENCE_GAP,
        WALLET_AUDIT_MISSING_START,
        WALLET_AUDIT_HEAD_MISMATCH,
        WALLET_AUDIT_EMPTY,
        WALLET_AUDIT_OTHER,
        WALLET_POLICY_DENIED_BY_DEFAULT,
        WALLET_POLICY_MALFORMED_TOKEN_CALL,
        WALLET_POLICY_TOKEN_NOT_LISTED,
        WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED,
        WALLET_POLICY_TOKEN_SPENDER_NOT_ALLOWED,
        WALLET_POLICY_TOKEN_AMOUNT_ABOVE_CAP,
        WALLET_POLICY_TOKEN_APPROVAL_ABOVE_CAP,
        WALLET_POLICY_TOKEN_DAILY_LIMIT_EXCEEDED,
        WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG,
        WALLET_POLICY_ANY_CHAIN_AUTHORIZATION_NOT_ALLOWED,
        WALLET_TYPED_DATA_TOO_LONG,
        WALLET_TYPED_DATA_NOT_JSON,
        WALLET_TYPED_DATA_INVALID,
        WALLET_TYPED_DATA_OTHER,
    ];

    /// The code with this number, if there is one.
    #[must_use]
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| *r as u32 == code)
    }

    /// A static, NUL-terminated description. Never contains data from a call.
    #[must_use]
    pub(crate) fn message(self) -> &'static CStr {
        match self {
            WALLET_OK => c"success",
            WALLET_NULL_PARAMETER => c"a required pointer argument was NULL",
            WALLET_PANIC => c"internal error in libwallet (a bug); the call had no effect",
            WALLET_BUFFER_TOO_SMALL => c"output buffer too small; *out_len holds the length needed",
            WALLET_INVALID_PARAMETER => {
                c"invalid argument: wrong length or value, or an output overlaps an input"
            }
            WALLET_RANDOM_FAILED => c"the operating system could not provide random bytes",
            WALLET_UNKNOWN_ERROR => c"error without a specific code in this build of libwallet",
            WALLET_HANDLE_POISONED => {
                c"an earlier call on this wallet panicked; free the handle and open the wallet again"
            }
            WALLET_RLP_INPUT_TOO_SHORT => c"RLP input ends before the announced item",
            WALLET_RLP_LEADING_ZERO => c"RLP integer has a leading zero byte",
            WALLET_RLP_NON_CANONICAL_SINGLE_BYTE => {
                c"RLP single byte below 0x80 has a string header"
            }
            WALLET_RLP_NON_CANONICAL_LENGTH => c"RLP length is not in its shortest form",
            WALLET_RLP_LENGTH_OVERFLOW => c"RLP length does not fit in memory",
            WALLET_RLP_TRAILING_BYTES => c"RLP input has bytes after the item",
            WALLET_RLP_UNEXPECTED_LIST => c"RLP list where a string was expected",
            WALLET_RLP_UNEXPECTED_STRING => c"RLP string where a list was expected",
            WALLET_RLP_INTEGER_OVERFLOW => c"RLP integer is too large for its field",
            WALLET_RLP_UNEXPECTED_LENGTH => c"RLP string has the wrong length for its field",
            WALLET_RLP_OTHER => c"malformed RLP (no specific code in this build)",
            WALLET_TX_EMPTY_INPUT => c"transaction bytes are empty",
            WALLET_TX_UNSUPPORTED_TYPE => c"transaction type is not supported",
            WALLET_TX_TOO_FEW_FIELDS => c"transaction has too few fields for its type",
            WALLET_TX_TOO_MANY_FIELDS => c"transaction has too many fields for its type",
            WALLET_TX_CHAIN_ID_ZERO => c"chain id 0 is refused for transactions",
            WALLET_TX_CHAIN_ID_TOO_LARGE => c"chain id is above the EIP-2294 maximum (2^63 - 37)",
            WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER => {
                c"EIP-155 signing payload must end in [chainId, 0, 0]"
            }
            WALLET_TX_INVALID_V => c"legacy v is neither 27/28 nor 2*chainId + 35/36",
            WALLET_TX_INVALID_Y_PARITY => c"yParity must be 0 or 1",
            WALLET_TX_INVALID_SIGNATURE => {
                c"transaction signature r or s is out of range, or s is high"
            }
            WALLET_TX_RECOVERY_FAILED => {
                c"no sender can be recovered from the transaction signature"
            }
            WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED => {
                c"this transaction type requires a recipient address"
            }
            WALLET_TX_TOO_LARGE => c"transaction encoding is too large",
            WALLET_TX_INTRINSIC_GAS_TOO_LOW => c"gas limit is below the intrinsic gas",
            WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR => {
                c"gas limit is below the EIP-7623 calldata floor"
            }
            WALLET_TX_NONCE_TOO_LARGE => c"nonce 2^64-1 is reserved (EIP-2681)",
            WALLET_TX_INIT_CODE_TOO_LARGE => c"init code exceeds 49152 bytes (EIP-3860)",
            WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE => {
                c"max priority fee per gas is above max fee per gas"
            }
            WALLET_TX_FEE_COST_OVERFLOW => c"gas limit times fee overflows 256 bits",
            WALLET_TX_NO_BLOBS => c"blob transaction has no blob hashes",
            WALLET_TX_TOO_MANY_BLOBS => c"blob transaction has too many blobs",
            WALLET_TX_INVALID_BLOB_VERSION => c"blob versioned hash has a wrong version byte",
            WALLET_TX_EMPTY_AUTHORIZATION_LIST => {
                c"set-code transaction has an empty authorization list"
            }
            WALLET_TX_UNPROTECTED => {
                c"pre-EIP-155 transaction without a chain id refused: it could be replayed on any chain"
            }
            WALLET_TX_OTHER => c"invalid transaction (no specific code in this build)",
            WALLET_SIGNER_INVALID_SECRET_KEY => {
                c"secret key is zero or not below the secp256k1 order"
            }
            WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH => c"secret key must be exactly 32 bytes",
            WALLET_SIGNER_INVALID_PUBLIC_KEY => c"public key is not a valid SEC1 secp256k1 point",
            WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE => {
                c"signature r or s is zero or not below the secp256k1 order"
            }
            WALLET_SIGNER_HIGH_S => c"signature s is above n/2 (EIP-2 requires low s)",
            WALLET_SIGNER_INVALID_RECOVERY_BYTE => c"signature v must be 0, 1, 27 or 28",
            WALLET_SIGNER_RECOVERY_FAILED => c"no public key can be recovered from this signature",
            WALLET_SIGNER_SIGNING_FAILED => c"signing failed",
            WALLET_SIGNER_INVALID_ADDRESS_LENGTH => {
                c"address must be 40 hex digits, optionally after 0x"
            }
            WALLET_SIGNER_INVALID_ADDRESS_HEX => c"address contains a non-hex character",
            WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM => {
                c"mixed-case address fails its EIP-55 checksum"
            }
            WALLET_SIGNER_OTHER => c"key or signature error (no specific code in this build)",
            WALLET_TPM_INVALID_TCTI => {
                c"invalid TPM connection string: expected device:PATH, swtpm:host=H,port=P or swtpm:path=SOCKET"
            }
            WALLET_TPM_NO_DEFAULT_TPM => {
                c"no TPM named: set FLARE_WALLET_TPM (e.g. swtpm:path=/run/swtpm.sock) or provide /dev/tpmrm0"
            }
            WALLET_TPM_CONNECT_FAILED => c"could not open or connect to the TPM",
            WALLET_TPM_TIMEOUT => c"the TPM did not answer in time",
            WALLET_TPM_CONNECTION_LOST => {
                c"the connection to the TPM was lost mid-frame; the next call reconnects"
            }
            WALLET_TPM_IO_ERROR => c"I/O error while talking to the TPM",
            WALLET_TPM_TRANSPORT_COMMAND_TOO_LARGE => {
                c"the TPM command frame is larger than the transport accepts"
            }
            WALLET_TPM_RESPONSE_TOO_LARGE => {
                c"the TPM announced a response larger than the response buffer"
            }
            WALLET_TPM_RESPONSE_TRUNCATED => c"the TPM response frame is truncated",
            WALLET_TPM_INJECTED_FAILURE => {
                c"a fault-injecting test transport refused the command on purpose"
            }
            WALLET_TPM_BUSY => c"TPM busy (held by another client): retry later",
            WALLET_TPM_COMMAND_FAILED => {
                c"the TPM refused a command (wallet_last_error_message names it and the response code)"
            }
            WALLET_TPM_MALFORMED_RESPONSE => c"a TPM response is not what its command calls for",
            WALLET_TPM_RESPONSE_HMAC_MISMATCH => {
                c"a TPM response HMAC does not verify: the response was altered in transit"
            }
            WALLET_TPM_COMMAND_TOO_LARGE => c"a TPM command does not fit the command buffer",
            WALLET_TPM_INVALID_PCR_SELECTION => {
                c"invalid PCR selection: each PCR must be in 0..=23 (SHA-256 bank)"
            }
            WALLET_TPM_INVALID_SRK_POINT => {
                c"the TPM storage root key public point is not a valid P-256 point"
            }
            WALLET_TPM_NO_EK_CERTIFICATE => {
                c"TPM refused: it has no EK certificate, so nothing proves it is a real TPM; only WALLET_OPEN_ALLOW_UNVERIFIED_TPM accepts it"
            }
            WALLET_TPM_EK_CHAIN_INVALID => {
                c"TPM refused: its EK certificate does not verify against the trust roots (give its vendor's EK CA as roots, or set FLARE_WALLET_TPM_ROOTS)"
            }
            WALLET_TPM_EK_KEY_MISMATCH => {
                c"TPM refused: its endorsement key is not the key its EK certificate certifies"
            }
            WALLET_TPM_EK_CHANGED => {
                c"TPM refused: its endorsement key differs from the one this account is bound to (another TPM, or a replaced one)"
            }
            WALLET_TPM_NOW_UNVERIFIED => {
                c"TPM refused: the account was created on a verified TPM and this one is unverified"
            }
            WALLET_TPM_EK_TEMPLATE_UNSUPPORTED => {
                c"EK certificate refused: it is for a template this verifier cannot check (ECC P-521, SM2)"
            }
            WALLET_TPM_OTHER => c"TPM error (no specific code in this build)",
            WALLET_SEAL_SRK_NAME_MISMATCH => {
                c"the key was sealed by another TPM (or this TPM was cleared): storage root key differs; nothing was unsealed"
            }
            WALLET_SEAL_PCR_MISMATCH => {
                c"the PCRs the key is bound to have changed (TPM_RC_POLICY_FAIL); nothing was unsealed"
            }
            WALLET_SEAL_INVALID_SEALED_OBJECT => {
                c"the sealed object is malformed or its PCR policy is inconsistent"
            }
            WALLET_SEAL_UNSEAL_MISMATCH => c"the TPM unsealed different bytes than were sealed",
            WALLET_SEAL_NO_VALID_SCALAR => {
                c"could not draw a valid secp256k1 key: the entropy source is broken"
            }
            WALLET_SEAL_PIN_REQUIRED => {
                c"the key is PIN-locked: set the PIN first; nothing was sent to the TPM"
            }
            WALLET_SEAL_WRONG_PIN => {
                c"wrong PIN (TPM_RC_AUTH_FAIL): the failure counts towards the TPM's dictionary-attack lockout"
            }
            WALLET_SEAL_LOCKED_OUT => {
                c"the TPM is in dictionary-attack lockout (TPM_RC_LOCKOUT) after too many wrong PINs"
            }
            WALLET_SEAL_BOOT_ONCE_SPENT => {
                c"the key was already unsealed once in this boot; it unseals again only after a reboot"
            }
            WALLET_BACKUP_BAD_MAGIC => c"not a sealed-key file or backup (bad magic)",
            WALLET_BACKUP_UNSUPPORTED_VERSION => {
                c"sealed-key file or backup version is not supported by this build"
            }
            WALLET_BACKUP_UNKNOWN_FLAGS => c"sealed-key file or backup has unknown flag bits",
            WALLET_BACKUP_TRUNCATED => c"sealed-key file or backup is truncated",
            WALLET_BACKUP_LENGTH_OVER_BOUND => {
                c"sealed-key file or backup has a field length over its bound"
            }
            WALLET_BACKUP_EMPTY_FIELD => c"sealed-key file or backup has an empty required field",
            WALLET_BACKUP_TRAILING_BYTES => {
                c"sealed-key file or backup has bytes after its integrity check"
            }
            WALLET_BACKUP_INTEGRITY_MISMATCH => {
                c"sealed-key file or backup is corrupted (integrity check mismatch)"
            }
            WALLET_STATE_NOT_A_DIRECTORY => c"state path exists and is not a directory",
            WALLET_STATE_INSECURE_PERMISSIONS => {
                c"state directory or account file is accessible to group or others (needs 0700 / 0600)"
            }
            WALLET_STATE_NOT_A_REGULAR_FILE => c"account file is not a regular file",
            WALLET_STATE_ACCOUNT_EXISTS => {
                c"the state directory already holds an account (replacing it must be explicit)"
            }
            WALLET_STATE_NO_ACCOUNT => c"no account in the state directory",
            WALLET_STATE_FILE_TOO_LARGE => c"account file is too large to be a sealed key",
            WALLET_STATE_IO_ERROR => {
                c"state directory I/O error (wallet_last_error_message names the step)"
            }
            WALLET_STATE_POLICY_FILE_TOO_LARGE => {
                c"spend ledger or policy audit log is larger than its bound"
            }
            WALLET_CLOSED => c"the wallet is closed",
            WALLET_ACCOUNT_NOT_LOADED => {
                c"no account loaded: create, import, load or restore an account first"
            }
            WALLET_BACKUP_NOT_BASE64 => c"the backup is not canonical padded base64 text",
            WALLET_RESTORE_STATE_NOT_EMPTY => {
                c"restore needs an empty state directory, and this one already holds an account"
            }
            WALLET_ACCOUNT_ADDRESS_MISMATCH => {
                c"the sealed key does not belong to the recorded address: the sealed-key file was altered"
            }
            WALLET_ACCOUNT_POLICY_BINDING_MISMATCH => {
                c"the stored signing policy does not match its binding to the key: the account file was altered; nothing was signed"
            }
            WALLET_ACCOUNT_POLICY_UNBOUND => {
                c"the account file predates signing policies and carries none; it signs nothing until one is bound"
            }
            WALLET_STORAGE_OTHER => {
                c"sealed-key, state directory or wallet error (no specific code in this build)"
            }
            WALLET_ATTEST_EVIDENCE_BAD_MAGIC => c"not attestation evidence (bad magic)",
            WALLET_ATTEST_EVIDENCE_UNSUPPORTED_VERSION => {
                c"attestation evidence version is not supported by this build"
            }
            WALLET_ATTEST_EVIDENCE_TRUNCATED => c"attestation evidence is truncated",
            WALLET_ATTEST_EVIDENCE_LENGTH_OUT_OF_BOUNDS => {
                c"attestation evidence has a length that is zero or over its bound"
            }
            WALLET_ATTEST_EVIDENCE_PCR_COUNT_MISMATCH => {
                c"attestation evidence: the number of PCR values differs from the selection"
            }
            WALLET_ATTEST_EVIDENCE_TRAILING_BYTES => c"attestation evidence has trailing bytes",
            WALLET_ATTEST_PCR_INDEX_OUT_OF_RANGE => c"PCR index out of range (0 to 31)",
            WALLET_ATTEST_UNSUPPORTED_PCR_BANK => {
                c"PCR selection is empty or not in the SHA-256 bank"
            }
            WALLET_ATTEST_AK_NOT_ENROLLED => c"the quote's attestation key is not the enrolled one",
            WALLET_ATTEST_AK_PUBLIC_MALFORMED => c"attestation key public area is malformed",
            WALLET_ATTEST_AK_NOT_ECC => c"attestation key is not an ECC key",
            WALLET_ATTEST_AK_NAME_ALG => c"attestation key name algorithm is not SHA-256",
            WALLET_ATTEST_AK_ATTRIBUTES => {
                c"attestation key is not a restricted, fixed, TPM-generated signing key"
            }
            WALLET_ATTEST_AK_PARAMETERS => c"attestation key has a symmetric algorithm or a KDF",
            WALLET_ATTEST_AK_SCHEME => c"attestation key scheme is not ECDSA with SHA-256",
            WALLET_ATTEST_AK_CURVE => c"attestation key curve is not NIST P-256",
            WALLET_ATTEST_AK_POINT_INVALID => c"attestation key public point is not on P-256",
            WALLET_ATTEST_AK_SIGNATURE_MALFORMED => c"quote signature has an out-of-range scalar",
            WALLET_ATTEST_AK_SIGNATURE_INVALID => {
                c"quote signature does not verify with the attestation key"
            }
            WALLET_ATTEST_QUOTE_MALFORMED => c"quoted TPMS_ATTEST structure is malformed",
            WALLET_ATTEST_QUOTE_BAD_MAGIC => c"quote was not generated by a TPM (bad magic)",
            WALLET_ATTEST_NOT_A_QUOTE => c"attest structure is not a quote",
            WALLET_ATTEST_CHALLENGE_MISMATCH => {
                c"quote qualifying data is not the challenge (wrong nonce, or an evidence field was changed)"
            }
            WALLET_ATTEST_PCR_SELECTION_MISMATCH => {
                c"quote PCR selection differs from the evidence"
            }
            WALLET_ATTEST_PCR_DIGEST_MISMATCH => {
                c"quote PCR digest differs from the evidence PCR values"
            }
            WALLET_ATTEST_WALLET_SIGNATURE_MALFORMED => c"wallet signature in the evidence is malformed",
            WALLET_ATTEST_WALLET_SIGNATURE_MISMATCH => {
                c"wallet signature does not recover to the evidence address"
            }
            WALLET_ATTEST_ADDRESS_MISMATCH => c"evidence address is not the expected one",
            WALLET_ATTEST_CHAIN_ID_MISMATCH => c"evidence chain id is not the expected one",
            WALLET_ATTEST_POLICY_HASH_MISMATCH => c"evidence policy hash is not the expected one",
            WALLET_ATTEST_PCR_NOT_QUOTED => c"an expected PCR is not in the quote",
            WALLET_ATTEST_PCR_VALUE_MISMATCH => c"a quoted PCR value differs from the expected one",
            WALLET_ATTEST_OWNERS_HASH_MISMATCH => {
                c"evidence owners hash is not the expected one"
            }
            WALLET_ATTEST_THRESHOLD_MISMATCH => {
                c"evidence owner threshold is not the expected one"
            }
            WALLET_ATTEST_ADMIN_NONCE_MISMATCH => {
                c"evidence admin nonce is not the expected one"
            }
            WALLET_ATTEST_AUDIT_HEAD_MISMATCH => {
                c"evidence audit-log head is not the expected one"
            }
            WALLET_ATTEST_EVIDENCE_VERSION_RETIRED => {
                c"attestation evidence version 1 (without owners, threshold, admin nonce and audit head) is no longer accepted: attest again"
            }
            WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN => c"attestation evidence version 2 has no TPM trust chain and is refused: enroll the attestation key and attest again",
            WALLET_ATTEST_EVIDENCE_TPM_IDENTITY_INVALID => c"attestation evidence: the TPM identity marker is neither verified (1) nor unverified (0)",
            WALLET_ATTEST_NO_TRUST_ANCHOR => c"no trust anchor: verifying evidence requires TPM trust roots and an enrollment record, or an AK certificate chain and its roots",
            WALLET_ATTEST_UNVERIFIED_TPM => c"the account was created on an unverified TPM (no verified EK certificate) and unverified TPMs are not accepted",
            WALLET_ATTEST_PCR_SELECTION_NOT_EXPECTED => c"the quote covers another PCR selection than the one required",
            WALLET_ENROLLMENT_MALFORMED => c"the enrollment record is malformed (magic, version, method, a length, or trailing bytes)",
            WALLET_ENROLLMENT_AK_NAME_MISMATCH => c"enrollment record: the AK Name is not the Name of its AK public area",
            WALLET_ENROLLMENT_AK_REFUSED => c"enrollment record: the AK is not a restricted, fixed, TPM-generated P-256 signing key",
            WALLET_ENROLLMENT_EK_REFUSED => c"enrollment record: the EK public area is missing or not an RSA 2048 / P-256 restricted decryption key",
            WALLET_ENROLLMENT_EK_CERTIFICATE_MISSING => c"enrollment record: no EK certificate",
            WALLET_ENROLLMENT_PROOF_INVALID => c"enrollment record: the activation quote does not verify or does not bind its credential, EK and AK",
            WALLET_ENROLLMENT_EK_CHAIN => c"enrollment record: the EK certificate does not chain to the trust roots",
            WALLET_ENROLLMENT_EK_KEY_MISMATCH => c"enrollment record: the EK certificate certifies another key than the EK public area",
            WALLET_ENROLLMENT_AK_CHAIN => c"the AK certificate does not chain to the trust roots",
            WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH => c"the AK certificate certifies another key than the attestation key",
            WALLET_ENROLLMENT_ACTIVATION_SECRET_MISMATCH => c"credential activation failed: the returned secret is not the one wrapped to the EK",
            WALLET_TRUST_ROOTS_INVALID => c"the trust roots are not a PEM bundle of X.509 certificates",
            WALLET_ENROLLMENT_AK_TEMPLATE_MISSING => {
                c"platform AK: the TPM has no AK template in NV (GCE index 0x01c10003)"
            }
            WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED => {
                c"platform AK: the AK template in NV is not a well-formed TPMT_PUBLIC"
            }
            WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING => {
                c"platform AK: the TPM has an AK template but no AK certificate (GCE index 0x01c10002)"
            }
            WALLET_AK_INTERMEDIATES_INVALID => {
                c"the AK certificate's intermediates are not a PEM bundle of X.509 certificates"
            }
            WALLET_ATTEST_OTHER => c"attestation error (no specific code in this build)",
            WALLET_POLICY_CHAIN_ID_NOT_ALLOWED => {
                c"policy refused: the chain id is not in chain_ids; nothing was signed"
            }
            WALLET_POLICY_UNPROTECTED_NOT_ALLOWED => {
                c"policy refused: a transaction without an EIP-155 chain id (allow_unprotected is off); nothing was signed"
            }
            WALLET_POLICY_CONTRACT_CREATION_NOT_ALLOWED => {
                c"policy refused: contract creation (allow_contract_creation is off); nothing was signed"
            }
            WALLET_POLICY_RECIPIENT_DENIED => {
                c"policy refused: the recipient is on recipients_deny; nothing was signed"
            }
            WALLET_POLICY_RECIPIENT_NOT_ALLOWED => {
                c"policy refused: the recipient is not on recipients_allow; nothing was signed"
            }
            WALLET_POLICY_SELECTOR_NOT_ALLOWED => {
                c"policy refused: the function selector is not allowed for this contract; nothing was signed"
            }
            WALLET_POLICY_MISSING_SELECTOR => {
                c"policy refused: a call to a selector-restricted contract without a whole selector; nothing was signed"
            }
            WALLET_POLICY_DELEGATION_NOT_ALLOWED => {
                c"policy refused: an EIP-7702 delegation target is not on delegations_allow; nothing was signed"
            }
            WALLET_POLICY_VALUE_ABOVE_CAP => {
                c"policy refused: the value is above max_value_wei; nothing was signed"
            }
            WALLET_POLICY_MAX_FEE_ABOVE_CAP => {
                c"policy refused: the maximum fee is above max_fee_wei; nothing was signed"
            }
            WALLET_POLICY_MESSAGES_NOT_ALLOWED => {
                c"policy refused: message signing (allow_messages is off); nothing was signed"
            }
            WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED => {
                c"policy refused: the EIP-712 domain is not in typed_data_domains; nothing was signed"
            }
            WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE => {
                c"policy refused: typed data as hashes only while typed_data_domains is set; nothing was signed"
            }
            WALLET_POLICY_DAILY_LIMIT_EXCEEDED => {
                c"policy refused: the spend would exceed daily_limit_wei over 24 hours; nothing was signed"
            }
            WALLET_POLICY_RAW_HASH_NOT_ALLOWED => {
                c"policy refused: a raw 32-byte hash to sign while allow_raw_hashes is false; nothing was signed"
            }
            WALLET_POLICY_BAD_MAGIC => c"not a policy encoding (bad magic)",
            WALLET_POLICY_UNSUPPORTED_VERSION => {
                c"policy encoding version is not supported by this build"
            }
            WALLET_POLICY_TRUNCATED => c"policy encoding is truncated",
            WALLET_POLICY_INVALID_FLAG => c"policy encoding has a flag byte that is neither 0 nor 1",
            WALLET_POLICY_TOO_MANY_ENTRIES => c"a policy list has more entries than it can hold",
            WALLET_POLICY_UNSORTED => c"a policy list is not in ascending order",
            WALLET_POLICY_DUPLICATE => c"a policy list holds an entry twice",
            WALLET_POLICY_CHAIN_ID_OUT_OF_RANGE => {
                c"a chain id in the policy is 0 or above the EIP-2294 maximum"
            }
            WALLET_POLICY_TRAILING_BYTES => c"policy encoding has bytes after its last field",
            WALLET_POLICY_SPEND_LEDGER_MALFORMED => {
                c"the spend ledger in the state directory is damaged or belongs to another account"
            }
            WALLET_POLICY_AUDIT_LOG_MALFORMED => {
                c"the policy audit log in the state directory does not parse"
            }
            WALLET_POLICY_JSON_TOO_LONG => {
                c"policy JSON is longer than WALLET_POLICY_JSON_MAX_LEN bytes"
            }
            WALLET_POLICY_JSON_NOT_UTF8 => c"policy JSON is not UTF-8",
            WALLET_POLICY_JSON_SYNTAX => {
                c"policy text is not JSON (wallet_policy_json_error_message gives line and column)"
            }
            WALLET_POLICY_JSON_NOT_AN_OBJECT => {
                c"policy JSON must be an object whose keys are rules (chain_ids, max_value_wei, ...)"
            }
            WALLET_POLICY_JSON_DUPLICATE_KEY => {
                c"policy JSON has the same key twice in one object (wallet_policy_json_error_message names it)"
            }
            WALLET_POLICY_JSON_UNKNOWN_KEY => {
                c"policy JSON has a key that is not a rule (wallet_policy_json_error_message names it)"
            }
            WALLET_POLICY_JSON_INVALID_VALUE => {
                c"a policy JSON value has the wrong type or is out of range (wallet_policy_json_error_message names the key and what was expected)"
            }
            WALLET_POLICY_JSON_DUPLICATE_SELECTOR_CONTRACT => {
                c"policy JSON selectors names one contract twice (keys differing only in letter case)"
            }
            WALLET_POLICY_OTHER => c"policy error (no specific code in this build)",
            WALLET_KEYSTORE_JSON_SYNTAX => {
                c"the keystore is not valid JSON (wallet_last_error_message gives line and column)"
            }
            WALLET_KEYSTORE_JSON_TRUNCATED => c"the keystore JSON ends early: it is truncated",
            WALLET_KEYSTORE_MISSING_FIELD => {
                c"a required keystore field is missing (wallet_last_error_message names it)"
            }
            WALLET_KEYSTORE_WRONG_TYPE => {
                c"a keystore field has the wrong JSON type (wallet_last_error_message names it)"
            }
            WALLET_KEYSTORE_DUPLICATE_CRYPTO => c"the keystore has both crypto and Crypto objects",
            WALLET_KEYSTORE_UNSUPPORTED_VERSION => {
                c"keystore version is not supported (only version 3)"
            }
            WALLET_KEYSTORE_UNSUPPORTED_CIPHER => {
                c"unsupported keystore cipher: only aes-128-ctr is supported"
            }
            WALLET_KEYSTORE_UNSUPPORTED_KDF => {
                c"unsupported keystore kdf: only scrypt and pbkdf2 are supported"
            }
            WALLET_KEYSTORE_UNSUPPORTED_PRF => {
                c"unsupported keystore pbkdf2 prf: only hmac-sha256 is supported"
            }
            WALLET_KEYSTORE_INVALID_HEX => {
                c"a keystore hex field is not valid hex (wallet_last_error_message names it)"
            }
            WALLET_KEYSTORE_WRONG_LENGTH => {
                c"a keystore hex field has the wrong length (wallet_last_error_message names it)"
            }
            WALLET_KEYSTORE_INVALID_KDF_PARAM => {
                c"invalid KDF parameter: scrypt n must be a power of two above 1, r, p and c at least 1, dklen 32"
            }
            WALLET_KEYSTORE_LIMIT_JSON_LENGTH => {
                c"keystore JSON exceeds the limit of 65536 bytes"
            }
            WALLET_KEYSTORE_LIMIT_SCRYPT_N => c"scrypt n exceeds the limit of 2^20",
            WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY => {
                c"scrypt memory 128*n*r exceeds the limit of 512 MiB"
            }
            WALLET_KEYSTORE_LIMIT_SCRYPT_WORK => {
                c"scrypt work 128*n*r*p exceeds the limit of 1 GiB (four times the default n=2^18 r=8 p=1)"
            }
            WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS => {
                c"pbkdf2 iteration count c exceeds the limit of 10000000"
            }
            WALLET_KEYSTORE_LIMIT_SALT_LENGTH => {
                c"keystore kdf salt exceeds the limit of 1024 bytes"
            }
            WALLET_KEYSTORE_WRONG_PASSWORD => {
                c"wrong password: the keystore MAC does not match (a modified ciphertext or MAC gives the same error)"
            }
            WALLET_KEYSTORE_ADDRESS_MISMATCH => {
                c"the keystore address does not match the key it decrypts to"
            }
            WALLET_KEYSTORE_INVALID_KEY => {
                c"the decrypted keystore key is not a valid secp256k1 secret key"
            }
            WALLET_KEYSTORE_OTHER => c"keystore error (no specific code in this build)",
            WALLET_AUTHORITY_WRONG_WALLET => {
                c"admin request is for another wallet (its domain's verifyingContract)"
            }
            WALLET_AUTHORITY_WRONG_ACTION => {
                c"admin request approves another action"
            }
            WALLET_AUTHORITY_REPLAYED => {
                c"admin request nonce was already used (replay)"
            }
            WALLET_AUTHORITY_NONCE_NOT_CURRENT => {
                c"admin request nonce is ahead of the account's admin nonce"
            }
            WALLET_AUTHORITY_EXPIRED => {
                c"admin request deadline has passed"
            }
            WALLET_AUTHORITY_PARAMS_MISMATCH => {
                c"admin request paramsHash is not the hash of the parameters given"
            }
            WALLET_AUTHORITY_NO_APPROVALS => {
                c"admin request carries no approval"
            }
            WALLET_AUTHORITY_TOO_MANY_APPROVALS => {
                c"admin request carries more than 16 approvals"
            }
            WALLET_AUTHORITY_MALFORMED_SIGNATURE => {
                c"an approval is not a valid signature (65 bytes r||s||v, v 0/1/27/28, low s)"
            }
            WALLET_AUTHORITY_NOT_OWNER => {
                c"an approval is signed by an address that is not an owner of this account"
            }
            WALLET_AUTHORITY_DUPLICATE_SIGNER => {
                c"an owner approved the request twice"
            }
            WALLET_AUTHORITY_TOO_FEW_APPROVALS => {
                c"fewer distinct owners approved than the account's threshold"
            }
            WALLET_BACKUP_FLAGS_DO_NOT_FIT_VERSION => {
                c"sealed-key file flags do not fit its version (owners in a version 1 file, a version 2 file without owners, or owners without a policy)"
            }
            WALLET_EXPORT_EMPTY_PASSWORD => {
                c"keystore export refuses an empty password: the keystore would open for anyone"
            }
            WALLET_EXPORT_WEAK_KDF => {
                c"keystore export refuses a KDF weaker than scrypt n=2^17 r=8 or pbkdf2 c=600000"
            }
            WALLET_ACCOUNT_ROLLED_BACK => {
                c"the account file was rolled back: it is older than the account's TPM anti-rollback counter; nothing was signed"
            }
            WALLET_KEY_LOCK_NOT_CHOSEN => {
                c"an account with a signing policy or owners needs a key lock chosen when it is created (wallet_set_key_lock): pin, pcr, boot-once, or none (WALLET_KEY_LOCK_NONE: any local process with TPM access and the account file can unseal the key)"
            }
            WALLET_KEY_LOCK_NO_PIN => {
                c"change_pin needs a PIN-locked account; a key lock is fixed when the account is created"
            }
            WALLET_KEY_LOCK_PIN_CHANGE_BOOT_ONCE => {
                c"change_pin refuses a boot-once account: its key cannot be unsealed again this boot"
            }
            WALLET_AUDIT_NOT_TEXT => c"audit log is not UTF-8 text ending in a newline",
            WALLET_AUDIT_MALFORMED => c"an audit log line is not an entry the wallet writes",
            WALLET_AUDIT_ENTRY_HASH_MISMATCH => {
                c"an audit entry's hash does not match its contents: the entry was edited"
            }
            WALLET_AUDIT_CHAIN_BROKEN => {
                c"an audit entry does not chain to the one before it: an entry was removed, inserted or moved"
            }
            WALLET_AUDIT_SEQUENCE_GAP => c"an audit entry's sequence number does not follow the one before it",
            WALLET_AUDIT_MISSING_START => c"the audit log's beginning was cut",
            WALLET_AUDIT_HEAD_MISMATCH => {
                c"the audit log does not end at the expected head: entries were removed from its end, or it is another log"
            }
            WALLET_AUDIT_EMPTY => c"the audit log is empty but the expected head is not the genesis hash",
            WALLET_AUDIT_OTHER => c"an audit log error this build has no specific code for",
            WALLET_POLICY_DENIED_BY_DEFAULT => {
                c"policy refused: default is deny and no rule allows this call; nothing was signed"
            }
            WALLET_POLICY_MALFORMED_TOKEN_CALL => {
                c"policy refused: token calldata does not decode strictly (short, trailing bytes or dirty high bits); nothing was signed"
            }
            WALLET_POLICY_TOKEN_NOT_LISTED => {
                c"policy refused: a permit grants a token without a rule in tokens while default is deny; nothing was signed"
            }
            WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED => {
                c"policy refused: the token transfer's recipient is not in the token's recipients_allow; nothing was signed"
            }
            WALLET_POLICY_TOKEN_SPENDER_NOT_ALLOWED => {
                c"policy refused: the approval's spender is not in the token's spenders_allow; nothing was signed"
            }
            WALLET_POLICY_TOKEN_AMOUNT_ABOVE_CAP => {
                c"policy refused: the token transfer exceeds the token's max_amount; nothing was signed"
            }
            WALLET_POLICY_TOKEN_APPROVAL_ABOVE_CAP => {
                c"policy refused: an unlimited approval or one above max_amount while allow_unlimited_approval is false; nothing was signed"
            }
            WALLET_POLICY_TOKEN_DAILY_LIMIT_EXCEEDED => {
                c"policy refused: the transfer would exceed the token's daily_limit over 24 hours; nothing was signed"
            }
            WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG => {
                c"policy refused: the permit stays usable longer than permit_max_lifetime_seconds; nothing was signed"
            }
            WALLET_POLICY_ANY_CHAIN_AUTHORIZATION_NOT_ALLOWED => {
                c"policy refused: an EIP-7702 authorization with chain id 0 while allow_any_chain_authorization is false; nothing was signed"
            }
            WALLET_TYPED_DATA_TOO_LONG => c"the typed-data JSON is longer than the core reads",
            WALLET_TYPED_DATA_NOT_JSON => c"the typed-data text is not UTF-8 JSON",
            WALLET_TYPED_DATA_INVALID => {
                c"the typed-data document does not follow EIP-712 (wallet_last_error_message says what)"
            }
            WALLET_TYPED_DATA_OTHER => c"a typed-data error this build has no specific code for",
            WALLET_AUTHORITY_OWNERLESS => {
                c"this account has no owners: its policy can never change and its key can never leave the TPM; create an account with owners to allow admin actions"
            }
            WALLET_AUTHORITY_NO_OWNERS => {
                c"an owner set needs at least one owner"
            }
            WALLET_AUTHORITY_TOO_MANY_OWNERS => {
                c"an owner set has more than 16 owners"
            }
            WALLET_AUTHORITY_ZERO_OWNER => {
                c"the zero address cannot be an owner"
            }
            WALLET_AUTHORITY_DUPLICATE_OWNER => {
                c"an address appears twice in the owner set"
            }
            WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE => {
                c"threshold is 0 or above the number of owners"
            }
            WALLET_AUTHORITY_OWNERS_ENCODING_EMPTY => {
                c"owner-set encoding is empty"
            }
            WALLET_AUTHORITY_OWNERS_ENCODING_LENGTH => {
                c"owner-set encoding length does not match its owner count"
            }
            WALLET_AUTHORITY_OWNERS_NOT_SORTED => {
                c"owner-set encoding: owners are not sorted ascending"
            }
            WALLET_AUTHORITY_UNKNOWN_ACTION => {
                c"unknown admin action (expected replace_policy, export_keystore or replace_owners)"
            }
            WALLET_AUTHORITY_APPROVAL_LENGTH => {
                c"an approval must be 65 bytes (r || s || v)"
            }
            WALLET_AUTHORITY_APPROVAL_HEX => {
                c"an approval is not hex (130 digits, 0x optional)"
            }
            WALLET_AUTHORITY_JSON_TOO_LARGE => {
                c"admin request JSON is longer than 8 KiB"
            }
            WALLET_AUTHORITY_JSON_SYNTAX => {
                c"admin request is not valid JSON"
            }
            WALLET_AUTHORITY_JSON_MISSING_FIELD => {
                c"admin request JSON lacks a required field"
            }
            WALLET_AUTHORITY_JSON_UNKNOWN_FIELD => {
                c"admin request JSON has an unknown key"
            }
            WALLET_AUTHORITY_JSON_DUPLICATE_KEY => {
                c"admin request JSON has a key given twice"
            }
            WALLET_AUTHORITY_JSON_WRONG_TYPE => {
                c"admin request JSON: a field has the wrong JSON type"
            }
            WALLET_AUTHORITY_JSON_TYPE_MISMATCH => {
                c"admin request JSON: the EIP-712 types are not flare-wallet's"
            }
            WALLET_AUTHORITY_JSON_PRIMARY_TYPE => {
                c"admin request JSON: primaryType must be AdminRequest"
            }
            WALLET_AUTHORITY_JSON_DOMAIN_NAME => {
                c"admin request JSON: domain.name must be flare-wallet"
            }
            WALLET_AUTHORITY_JSON_DOMAIN_VERSION => {
                c"admin request JSON: domain.version must be 1"
            }
            WALLET_AUTHORITY_JSON_ADDRESS => {
                c"admin request JSON: domain.verifyingContract is not a valid address"
            }
            WALLET_AUTHORITY_JSON_PARAMS_HASH => {
                c"admin request JSON: message.paramsHash must be 0x and 64 hex digits"
            }
            WALLET_AUTHORITY_JSON_INTEGER => {
                c"admin request JSON: nonce and deadline must be integers from 0 to 2^64-1"
            }
            WALLET_AUTHORITY_JSON_ACTION => {
                c"admin request JSON: message.action is not a known action"
            }
            WALLET_AUTHORITY_OTHER => c"an owner or admin-approval error this build has no specific code for",
        }
    }
}

/// Describes a result code.
///
/// Returns a static, NUL-terminated string that stays valid for the life of
/// the process and must not be freed. It never contains data from a call (no
/// key material, no input bytes). Unknown numbers get a generic description,
/// so any `uint32_t` may be passed.
#[no_mangle]
pub extern "C" fn wallet_result_message(result: u32) -> *const c_char {
    // Nothing here can panic, but the boundary costs nothing and keeps the
    // rule without exceptions.
    crate::boundary::catch_or(c"unknown wallet_result code".as_ptr(), || {
        wallet_result::from_code(result)
            .map_or(c"unknown wallet_result code", wallet_result::message)
            .as_ptr()
    })
}

impl From<RlpError> for wallet_result {
    fn from(e: RlpError) -> Self {
        match e {
            RlpError::InputTooShort => WALLET_RLP_INPUT_TOO_SHORT,
            RlpError::LeadingZero => WALLET_RLP_LEADING_ZERO,
            RlpError::NonCanonicalSingleByte => WALLET_RLP_NON_CANONICAL_SINGLE_BYTE,
            RlpError::NonCanonicalLength => WALLET_RLP_NON_CANONICAL_LENGTH,
            RlpError::LengthOverflow => WALLET_RLP_LENGTH_OVERFLOW,
            RlpError::TrailingBytes => WALLET_RLP_TRAILING_BYTES,
            RlpError::UnexpectedList => WALLET_RLP_UNEXPECTED_LIST,
            RlpError::UnexpectedString => WALLET_RLP_UNEXPECTED_STRING,
            RlpError::IntegerOverflow => WALLET_RLP_INTEGER_OVERFLOW,
            RlpError::UnexpectedLength => WALLET_RLP_UNEXPECTED_LENGTH,
            RlpError::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            _ => WALLET_RLP_OTHER,
        }
    }
}

impl From<TxError> for wallet_result {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Rlp(e) => e.into(),
            TxError::EmptyInput => WALLET_TX_EMPTY_INPUT,
            TxError::UnsupportedType(_) => WALLET_TX_UNSUPPORTED_TYPE,
            TxError::TooFewFields => WALLET_TX_TOO_FEW_FIELDS,
            TxError::TooManyFields => WALLET_TX_TOO_MANY_FIELDS,
            TxError::ChainIdZero => WALLET_TX_CHAIN_ID_ZERO,
            TxError::ChainIdTooLarge => WALLET_TX_CHAIN_ID_TOO_LARGE,
            TxError::NonZeroEip155Placeholder => WALLET_TX_NON_ZERO_EIP155_PLACEHOLDER,
            TxError::InvalidV => WALLET_TX_INVALID_V,
            TxError::InvalidYParity => WALLET_TX_INVALID_Y_PARITY,
            TxError::InvalidSignature(_) => WALLET_TX_INVALID_SIGNATURE,
            TxError::Recovery(_) => WALLET_TX_RECOVERY_FAILED,
            TxError::ContractCreationNotAllowed => WALLET_TX_CONTRACT_CREATION_NOT_ALLOWED,
            TxError::BufferTooSmall { .. } => WALLET_BUFFER_TOO_SMALL,
            TxError::TooLarge => WALLET_TX_TOO_LARGE,
            TxError::IntrinsicGasTooLow => WALLET_TX_INTRINSIC_GAS_TOO_LOW,
            TxError::GasLimitBelowDataFloor => WALLET_TX_GAS_LIMIT_BELOW_DATA_FLOOR,
            TxError::NonceTooLarge => WALLET_TX_NONCE_TOO_LARGE,
            TxError::InitCodeTooLarge => WALLET_TX_INIT_CODE_TOO_LARGE,
            TxError::PriorityFeeAboveMaxFee => WALLET_TX_PRIORITY_FEE_ABOVE_MAX_FEE,
            TxError::FeeCostOverflow => WALLET_TX_FEE_COST_OVERFLOW,
            TxError::NoBlobs => WALLET_TX_NO_BLOBS,
            TxError::TooManyBlobs => WALLET_TX_TOO_MANY_BLOBS,
            TxError::InvalidBlobVersion => WALLET_TX_INVALID_BLOB_VERSION,
            TxError::EmptyAuthorizationList => WALLET_TX_EMPTY_AUTHORIZATION_LIST,
            _ => WALLET_TX_OTHER,
        }
    }
}

impl From<SignerError> for wallet_result {
    fn from(e: SignerError) -> Self {
        match e {
            SignerError::InvalidSecretKey => WALLET_SIGNER_INVALID_SECRET_KEY,
            SignerError::InvalidSecretKeyLength => WALLET_SIGNER_INVALID_SECRET_KEY_LENGTH,
            SignerError::InvalidPublicKey => WALLET_SIGNER_INVALID_PUBLIC_KEY,
            SignerError::SignatureScalarOutOfRange => WALLET_SIGNER_SIGNATURE_SCALAR_OUT_OF_RANGE,
            SignerError::HighS => WALLET_SIGNER_HIGH_S,
            SignerError::InvalidRecoveryByte => WALLET_SIGNER_INVALID_RECOVERY_BYTE,
            SignerError::RecoveryFailed => WALLET_SIGNER_RECOVERY_FAILED,
            SignerError::SigningFailed => WALLET_SIGNER_SIGNING_FAILED,
            SignerError::InvalidAddressLength => WALLET_SIGNER_INVALID_ADDRESS_LENGTH,
            SignerError::InvalidAddressHex => WALLET_SIGNER_INVALID_ADDRESS_HEX,
            SignerError::InvalidAddressChecksum => WALLET_SIGNER_INVALID_ADDRESS_CHECKSUM,
            _ => WALLET_SIGNER_OTHER,
        }
    }
}

impl From<TransportError> for wallet_result {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::InvalidTcti => WALLET_TPM_INVALID_TCTI,
            TransportError::NoDefaultTpm => WALLET_TPM_NO_DEFAULT_TPM,
            TransportError::ConnectFailed => WALLET_TPM_CONNECT_FAILED,
            TransportError::Timeout => WALLET_TPM_TIMEOUT,
            TransportError::ConnectionLost => WALLET_TPM_CONNECTION_LOST,
            TransportError::Io => WALLET_TPM_IO_ERROR,
            TransportError::CommandTooLarge => WALLET_TPM_TRANSPORT_COMMAND_TOO_LARGE,
            TransportError::ResponseTooLarge { .. } => WALLET_TPM_RESPONSE_TOO_LARGE,
            TransportError::ResponseTruncated => WALLET_TPM_RESPONSE_TRUNCATED,
            TransportError::InjectedFailure => WALLET_TPM_INJECTED_FAILURE,
            TransportError::Busy => WALLET_TPM_BUSY,
            _ => WALLET_TPM_OTHER,
        }
    }
}

impl From<TpmError> for wallet_result {
    fn from(e: TpmError) -> Self {
        match e {
            TpmError::Transport(e) => e.into(),
            TpmError::Tpm { .. } => WALLET_TPM_COMMAND_FAILED,
            TpmError::MalformedResponse { .. } => WALLET_TPM_MALFORMED_RESPONSE,
            TpmError::ResponseHmacMismatch { .. } => WALLET_TPM_RESPONSE_HMAC_MISMATCH,
            TpmError::CommandTooLarge => WALLET_TPM_COMMAND_TOO_LARGE,
            TpmError::InvalidPcrSelection => WALLET_TPM_INVALID_PCR_SELECTION,
            TpmError::InvalidSrkPoint => WALLET_TPM_INVALID_SRK_POINT,
            // The same failure as `wallet_signer_generate`'s.
            TpmError::Entropy => WALLET_RANDOM_FAILED,
            _ => WALLET_TPM_OTHER,
        }
    }
}

impl From<SealError> for wallet_result {
    fn from(e: SealError) -> Self {
        match e {
            SealError::Tpm(e) => e.into(),
            SealError::SrkNameMismatch => WALLET_SEAL_SRK_NAME_MISMATCH,
            SealError::PcrMismatch => WALLET_SEAL_PCR_MISMATCH,
            SealError::InvalidSealedObject => WALLET_SEAL_INVALID_SEALED_OBJECT,
            SealError::UnsealMismatch => WALLET_SEAL_UNSEAL_MISMATCH,
            SealError::NoValidScalar => WALLET_SEAL_NO_VALID_SCALAR,
            SealError::PinRequired => WALLET_SEAL_PIN_REQUIRED,
            SealError::WrongPin { .. } => WALLET_SEAL_WRONG_PIN,
            SealError::LockedOut { .. } => WALLET_SEAL_LOCKED_OUT,
            SealError::BootOnceSpent { .. } => WALLET_SEAL_BOOT_ONCE_SPENT,
            _ => WALLET_STORAGE_OTHER,
        }
    }
}

impl From<BackupError> for wallet_result {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::BadMagic => WALLET_BACKUP_BAD_MAGIC,
            BackupError::UnsupportedVersion(_) => WALLET_BACKUP_UNSUPPORTED_VERSION,
            BackupError::UnknownFlags(_) => WALLET_BACKUP_UNKNOWN_FLAGS,
            BackupError::Truncated(_) => WALLET_BACKUP_TRUNCATED,
            BackupError::LengthOverBound(_) => WALLET_BACKUP_LENGTH_OVER_BOUND,
            BackupError::EmptyField(_) => WALLET_BACKUP_EMPTY_FIELD,
            BackupError::TrailingBytes => WALLET_BACKUP_TRAILING_BYTES,
            BackupError::IntegrityMismatch => WALLET_BACKUP_INTEGRITY_MISMATCH,
            BackupError::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            BackupError::FlagsDoNotFitVersion { .. } => WALLET_BACKUP_FLAGS_DO_NOT_FIT_VERSION,
            _ => WALLET_STORAGE_OTHER,
        }
    }
}

impl From<StateError> for wallet_result {
    fn from(e: StateError) -> Self {
        match e {
            StateError::NotADirectory => WALLET_STATE_NOT_A_DIRECTORY,
            StateError::InsecurePermissions(_) => WALLET_STATE_INSECURE_PERMISSIONS,
            StateError::NotARegularFile => WALLET_STATE_NOT_A_REGULAR_FILE,
            StateError::AccountExists => WALLET_STATE_ACCOUNT_EXISTS,
            StateError::NoAccount => WALLET_STATE_NO_ACCOUNT,
            StateError::FileTooLarge => WALLET_STATE_FILE_TOO_LARGE,
            StateError::Format(e) => e.into(),
            // The condition `SealError::SrkNameMismatch` names, found while
            // reading the account file instead of by the TPM: one code.
            StateError::SrkNameMismatch => WALLET_SEAL_SRK_NAME_MISMATCH,
            StateError::Io(..) => WALLET_STATE_IO_ERROR,
            StateError::StateFileTooLarge => WALLET_STATE_POLICY_FILE_TOO_LARGE,
            _ => WALLET_STORAGE_OTHER,
        }
    }
}

impl From<WalletError> for wallet_result {
    fn from(e: WalletError) -> Self {
        match e {
            WalletError::Closed => WALLET_CLOSED,
            WalletError::NoAccount => WALLET_ACCOUNT_NOT_LOADED,
            WalletError::BackupNotBase64 => WALLET_BACKUP_NOT_BASE64,
            WalletError::StateNotEmpty => WALLET_RESTORE_STATE_NOT_EMPTY,
            WalletError::AddressMismatch => WALLET_ACCOUNT_ADDRESS_MISMATCH,
            WalletError::Entropy => WALLET_RANDOM_FAILED,
            WalletError::PolicyBindingMismatch => WALLET_ACCOUNT_POLICY_BINDING_MISMATCH,
            WalletError::PolicyUnbound => WALLET_ACCOUNT_POLICY_UNBOUND,
            WalletError::EmptyExportPassword => WALLET_EXPORT_EMPTY_PASSWORD,
            WalletError::WeakExportKdf => WALLET_EXPORT_WEAK_KDF,
            WalletError::RolledBack { .. } => WALLET_ACCOUNT_ROLLED_BACK,
            WalletError::KeyLockNotChosen => WALLET_KEY_LOCK_NOT_CHOSEN,
            WalletError::NotPinLocked => WALLET_KEY_LOCK_NO_PIN,
            WalletError::PinChangeBootOnce => WALLET_KEY_LOCK_PIN_CHANGE_BOOT_ONCE,
            _ => WALLET_STORAGE_OTHER,
        }
    }
}

impl From<AttestError> for wallet_result {
    fn from(e: AttestError) -> Self {
        use AttestError as E;
        match e {
            E::EvidenceBadMagic => WALLET_ATTEST_EVIDENCE_BAD_MAGIC,
            E::EvidenceUnsupportedVersion => WALLET_ATTEST_EVIDENCE_UNSUPPORTED_VERSION,
            E::EvidenceTruncated => WALLET_ATTEST_EVIDENCE_TRUNCATED,
            E::EvidenceLengthOutOfBounds => WALLET_ATTEST_EVIDENCE_LENGTH_OUT_OF_BOUNDS,
            E::EvidencePcrCountMismatch => WALLET_ATTEST_EVIDENCE_PCR_COUNT_MISMATCH,
            E::EvidenceTrailingBytes => WALLET_ATTEST_EVIDENCE_TRAILING_BYTES,
            E::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            E::PcrIndexOutOfRange => WALLET_ATTEST_PCR_INDEX_OUT_OF_RANGE,
            E::UnsupportedPcrBank => WALLET_ATTEST_UNSUPPORTED_PCR_BANK,
            E::AkNotEnrolled => WALLET_ATTEST_AK_NOT_ENROLLED,
            E::AkPublicMalformed => WALLET_ATTEST_AK_PUBLIC_MALFORMED,
            E::AkNotEcc => WALLET_ATTEST_AK_NOT_ECC,
            E::AkNameAlg => WALLET_ATTEST_AK_NAME_ALG,
            E::AkAttributes => WALLET_ATTEST_AK_ATTRIBUTES,
            E::AkParameters => WALLET_ATTEST_AK_PARAMETERS,
            E::AkScheme => WALLET_ATTEST_AK_SCHEME,
            E::AkCurve => WALLET_ATTEST_AK_CURVE,
            E::AkPointInvalid => WALLET_ATTEST_AK_POINT_INVALID,
            E::AkSignatureMalformed => WALLET_ATTEST_AK_SIGNATURE_MALFORMED,
            E::AkSignatureInvalid => WALLET_ATTEST_AK_SIGNATURE_INVALID,
            E::AttestMalformed => WALLET_ATTEST_QUOTE_MALFORMED,
            E::AttestBadMagic => WALLET_ATTEST_QUOTE_BAD_MAGIC,
            E::AttestNotQuote => WALLET_ATTEST_NOT_A_QUOTE,
            E::ChallengeMismatch => WALLET_ATTEST_CHALLENGE_MISMATCH,
            E::PcrSelectionMismatch => WALLET_ATTEST_PCR_SELECTION_MISMATCH,
            E::PcrDigestMismatch => WALLET_ATTEST_PCR_DIGEST_MISMATCH,
            E::WalletSignatureMalformed => WALLET_ATTEST_WALLET_SIGNATURE_MALFORMED,
            E::WalletSignatureMismatch => WALLET_ATTEST_WALLET_SIGNATURE_MISMATCH,
            E::AddressMismatch => WALLET_ATTEST_ADDRESS_MISMATCH,
            E::ChainIdMismatch => WALLET_ATTEST_CHAIN_ID_MISMATCH,
            E::PolicyHashMismatch => WALLET_ATTEST_POLICY_HASH_MISMATCH,
            E::PcrNotQuoted => WALLET_ATTEST_PCR_NOT_QUOTED,
            E::PcrValueMismatch => WALLET_ATTEST_PCR_VALUE_MISMATCH,
            E::OwnersHashMismatch => WALLET_ATTEST_OWNERS_HASH_MISMATCH,
            E::ThresholdMismatch => WALLET_ATTEST_THRESHOLD_MISMATCH,
            E::AdminNonceMismatch => WALLET_ATTEST_ADMIN_NONCE_MISMATCH,
            E::AuditHeadMismatch => WALLET_ATTEST_AUDIT_HEAD_MISMATCH,
            E::EvidenceVersionRetired => WALLET_ATTEST_EVIDENCE_VERSION_RETIRED,
            E::EvidenceWithoutTrustChain => WALLET_ATTEST_EVIDENCE_WITHOUT_TRUST_CHAIN,
            E::EvidenceTpmIdentityInvalid => WALLET_ATTEST_EVIDENCE_TPM_IDENTITY_INVALID,
            E::NoTrustAnchor => WALLET_ATTEST_NO_TRUST_ANCHOR,
            E::UnverifiedTpm => WALLET_ATTEST_UNVERIFIED_TPM,
            E::PcrSelectionNotExpected => WALLET_ATTEST_PCR_SELECTION_NOT_EXPECTED,
            _ => WALLET_ATTEST_OTHER,
        }
    }
}

impl From<PolicyViolation> for wallet_result {
    fn from(v: PolicyViolation) -> Self {
        use PolicyViolation as V;
        match v {
            V::ChainIdNotAllowed { .. } => WALLET_POLICY_CHAIN_ID_NOT_ALLOWED,
            V::UnprotectedNotAllowed => WALLET_POLICY_UNPROTECTED_NOT_ALLOWED,
            V::ContractCreationNotAllowed => WALLET_POLICY_CONTRACT_CREATION_NOT_ALLOWED,
            V::RecipientDenied { .. } => WALLET_POLICY_RECIPIENT_DENIED,
            V::RecipientNotAllowed { .. } => WALLET_POLICY_RECIPIENT_NOT_ALLOWED,
            V::SelectorNotAllowed { .. } => WALLET_POLICY_SELECTOR_NOT_ALLOWED,
            V::MissingSelector { .. } => WALLET_POLICY_MISSING_SELECTOR,
            V::DelegationNotAllowed { .. } => WALLET_POLICY_DELEGATION_NOT_ALLOWED,
            V::ValueAboveCap { .. } => WALLET_POLICY_VALUE_ABOVE_CAP,
            V::MaxFeeAboveCap { .. } => WALLET_POLICY_MAX_FEE_ABOVE_CAP,
            V::MessagesNotAllowed => WALLET_POLICY_MESSAGES_NOT_ALLOWED,
            V::TypedDataDomainNotAllowed { .. } => WALLET_POLICY_TYPED_DATA_DOMAIN_NOT_ALLOWED,
            V::TypedDataHashNotCheckable => WALLET_POLICY_TYPED_DATA_HASH_NOT_CHECKABLE,
            V::DailyLimitExceeded { .. } => WALLET_POLICY_DAILY_LIMIT_EXCEEDED,
            V::RawHashNotAllowed => WALLET_POLICY_RAW_HASH_NOT_ALLOWED,
            V::DeniedByDefault { .. } => WALLET_POLICY_DENIED_BY_DEFAULT,
            V::MalformedTokenCall { .. } => WALLET_POLICY_MALFORMED_TOKEN_CALL,
            V::TokenNotListed { .. } => WALLET_POLICY_TOKEN_NOT_LISTED,
            V::TokenRecipientNotAllowed { .. } => WALLET_POLICY_TOKEN_RECIPIENT_NOT_ALLOWED,
            V::TokenSpenderNotAllowed { .. } => WALLET_POLICY_TOKEN_SPENDER_NOT_ALLOWED,
            V::TokenAmountAboveCap { .. } => WALLET_POLICY_TOKEN_AMOUNT_ABOVE_CAP,
            V::TokenApprovalAboveCap { .. } => WALLET_POLICY_TOKEN_APPROVAL_ABOVE_CAP,
            V::TokenDailyLimitExceeded { .. } => WALLET_POLICY_TOKEN_DAILY_LIMIT_EXCEEDED,
            V::PermitLifetimeTooLong { .. } => WALLET_POLICY_PERMIT_LIFETIME_TOO_LONG,
            V::AnyChainAuthorizationNotAllowed => WALLET_POLICY_ANY_CHAIN_AUTHORIZATION_NOT_ALLOWED,
            _ => WALLET_POLICY_OTHER,
        }
    }
}

impl From<PolicyError> for wallet_result {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::Violation(v) => v.into(),
            PolicyError::BadMagic => WALLET_POLICY_BAD_MAGIC,
            PolicyError::UnsupportedVersion(_) => WALLET_POLICY_UNSUPPORTED_VERSION,
            PolicyError::Truncated(_) => WALLET_POLICY_TRUNCATED,
            PolicyError::InvalidFlag(_) => WALLET_POLICY_INVALID_FLAG,
            PolicyError::TooMany(_) => WALLET_POLICY_TOO_MANY_ENTRIES,
            PolicyError::Unsorted(_) => WALLET_POLICY_UNSORTED,
            PolicyError::Duplicate(_) => WALLET_POLICY_DUPLICATE,
            PolicyError::ChainIdOutOfRange(_) => WALLET_POLICY_CHAIN_ID_OUT_OF_RANGE,
            PolicyError::TrailingBytes => WALLET_POLICY_TRAILING_BYTES,
            PolicyError::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            PolicyError::SpendLedgerMalformed => WALLET_POLICY_SPEND_LEDGER_MALFORMED,
            PolicyError::AuditLogMalformed => WALLET_POLICY_AUDIT_LOG_MALFORMED,
            _ => WALLET_POLICY_OTHER,
        }
    }
}

impl From<PolicyJsonError> for wallet_result {
    fn from(e: PolicyJsonError) -> Self {
        match e {
            PolicyJsonError::TooLong { .. } => WALLET_POLICY_JSON_TOO_LONG,
            PolicyJsonError::NotUtf8 { .. } => WALLET_POLICY_JSON_NOT_UTF8,
            PolicyJsonError::Syntax { .. } => WALLET_POLICY_JSON_SYNTAX,
            PolicyJsonError::NotAnObject => WALLET_POLICY_JSON_NOT_AN_OBJECT,
            PolicyJsonError::DuplicateKey(_) => WALLET_POLICY_JSON_DUPLICATE_KEY,
            PolicyJsonError::UnknownKey(_) => WALLET_POLICY_JSON_UNKNOWN_KEY,
            PolicyJsonError::Invalid { .. } => WALLET_POLICY_JSON_INVALID_VALUE,
            // The condition `PolicyError::TooMany` names, found in the JSON
            // form instead of an encoding: one code.
            PolicyJsonError::TooMany { .. } | PolicyJsonError::TooManySelectors { .. } => {
                WALLET_POLICY_TOO_MANY_ENTRIES
            }
            PolicyJsonError::DuplicateSelectorContract(_) => {
                WALLET_POLICY_JSON_DUPLICATE_SELECTOR_CONTRACT
            }
            _ => WALLET_POLICY_OTHER,
        }
    }
}

impl From<KeystoreError> for wallet_result {
    fn from(e: KeystoreError) -> Self {
        use KeystoreError as E;
        match e {
            E::JsonSyntax { .. } => WALLET_KEYSTORE_JSON_SYNTAX,
            E::JsonTruncated => WALLET_KEYSTORE_JSON_TRUNCATED,
            E::MissingField(_) => WALLET_KEYSTORE_MISSING_FIELD,
            E::WrongType(_) => WALLET_KEYSTORE_WRONG_TYPE,
            E::DuplicateCrypto => WALLET_KEYSTORE_DUPLICATE_CRYPTO,
            E::UnsupportedVersion(_) => WALLET_KEYSTORE_UNSUPPORTED_VERSION,
            E::UnsupportedCipher => WALLET_KEYSTORE_UNSUPPORTED_CIPHER,
            E::UnsupportedKdf => WALLET_KEYSTORE_UNSUPPORTED_KDF,
            E::UnsupportedPrf => WALLET_KEYSTORE_UNSUPPORTED_PRF,
            E::InvalidHex(_) => WALLET_KEYSTORE_INVALID_HEX,
            E::WrongLength { .. } => WALLET_KEYSTORE_WRONG_LENGTH,
            E::InvalidKdfParam(_) => WALLET_KEYSTORE_INVALID_KDF_PARAM,
            E::LimitExceeded(limit) => match limit {
                Limit::JsonLength { .. } => WALLET_KEYSTORE_LIMIT_JSON_LENGTH,
                Limit::ScryptN { .. } => WALLET_KEYSTORE_LIMIT_SCRYPT_N,
                Limit::ScryptMemory { .. } => WALLET_KEYSTORE_LIMIT_SCRYPT_MEMORY,
                Limit::ScryptWork { .. } => WALLET_KEYSTORE_LIMIT_SCRYPT_WORK,
                Limit::Pbkdf2Iterations { .. } => WALLET_KEYSTORE_LIMIT_PBKDF2_ITERATIONS,
                Limit::SaltLength { .. } => WALLET_KEYSTORE_LIMIT_SALT_LENGTH,
                _ => WALLET_KEYSTORE_OTHER,
            },
            E::WrongPassword => WALLET_KEYSTORE_WRONG_PASSWORD,
            E::AddressMismatch => WALLET_KEYSTORE_ADDRESS_MISMATCH,
            E::InvalidKey => WALLET_KEYSTORE_INVALID_KEY,
            // The same failure as `wallet_signer_generate`'s.
            E::Entropy => WALLET_RANDOM_FAILED,
            _ => WALLET_KEYSTORE_OTHER,
        }
    }
}

impl From<AuthorityError> for wallet_result {
    fn from(e: AuthorityError) -> Self {
        use AuthorityError as E;
        match e {
            E::WrongWallet { .. } => WALLET_AUTHORITY_WRONG_WALLET,
            E::WrongAction { .. } => WALLET_AUTHORITY_WRONG_ACTION,
            E::Replayed { .. } => WALLET_AUTHORITY_REPLAYED,
            E::NonceNotCurrent { .. } => WALLET_AUTHORITY_NONCE_NOT_CURRENT,
            E::Expired { .. } => WALLET_AUTHORITY_EXPIRED,
            E::ParamsMismatch => WALLET_AUTHORITY_PARAMS_MISMATCH,
            E::NoApprovals => WALLET_AUTHORITY_NO_APPROVALS,
            E::TooManyApprovals { .. } => WALLET_AUTHORITY_TOO_MANY_APPROVALS,
            E::MalformedSignature { .. } => WALLET_AUTHORITY_MALFORMED_SIGNATURE,
            E::NotOwner { .. } => WALLET_AUTHORITY_NOT_OWNER,
            E::DuplicateSigner { .. } => WALLET_AUTHORITY_DUPLICATE_SIGNER,
            E::TooFewApprovals { .. } => WALLET_AUTHORITY_TOO_FEW_APPROVALS,
            E::Ownerless => WALLET_AUTHORITY_OWNERLESS,
            E::NoOwners => WALLET_AUTHORITY_NO_OWNERS,
            E::TooManyOwners { .. } => WALLET_AUTHORITY_TOO_MANY_OWNERS,
            E::ZeroOwner => WALLET_AUTHORITY_ZERO_OWNER,
            E::DuplicateOwner(_) => WALLET_AUTHORITY_DUPLICATE_OWNER,
            E::ThresholdOutOfRange { .. } => WALLET_AUTHORITY_THRESHOLD_OUT_OF_RANGE,
            E::OwnersEncodingEmpty => WALLET_AUTHORITY_OWNERS_ENCODING_EMPTY,
            E::OwnersEncodingLength { .. } => WALLET_AUTHORITY_OWNERS_ENCODING_LENGTH,
            E::OwnersNotSorted { .. } => WALLET_AUTHORITY_OWNERS_NOT_SORTED,
            E::UnknownAction => WALLET_AUTHORITY_UNKNOWN_ACTION,
            E::ApprovalLength { .. } => WALLET_AUTHORITY_APPROVAL_LENGTH,
            E::ApprovalHex => WALLET_AUTHORITY_APPROVAL_HEX,
            E::JsonTooLarge { .. } => WALLET_AUTHORITY_JSON_TOO_LARGE,
            E::JsonSyntax { .. } => WALLET_AUTHORITY_JSON_SYNTAX,
            E::JsonMissingField { .. } => WALLET_AUTHORITY_JSON_MISSING_FIELD,
            E::JsonUnknownField { .. } => WALLET_AUTHORITY_JSON_UNKNOWN_FIELD,
            E::JsonDuplicateKey => WALLET_AUTHORITY_JSON_DUPLICATE_KEY,
            E::JsonWrongType { .. } => WALLET_AUTHORITY_JSON_WRONG_TYPE,
            E::JsonTypeMismatch { .. } => WALLET_AUTHORITY_JSON_TYPE_MISMATCH,
            E::JsonPrimaryType => WALLET_AUTHORITY_JSON_PRIMARY_TYPE,
            E::JsonDomainName => WALLET_AUTHORITY_JSON_DOMAIN_NAME,
            E::JsonDomainVersion => WALLET_AUTHORITY_JSON_DOMAIN_VERSION,
            E::JsonAddress(_) => WALLET_AUTHORITY_JSON_ADDRESS,
            E::JsonParamsHash => WALLET_AUTHORITY_JSON_PARAMS_HASH,
            E::JsonInteger { .. } => WALLET_AUTHORITY_JSON_INTEGER,
            E::JsonAction => WALLET_AUTHORITY_JSON_ACTION,
            E::BufferTooSmall { .. } => WALLET_BUFFER_TOO_SMALL,
            _ => WALLET_AUTHORITY_OTHER,
        }
    }
}

impl From<AuditError> for wallet_result {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::NotText => WALLET_AUDIT_NOT_TEXT,
            AuditError::Malformed { .. } => WALLET_AUDIT_MALFORMED,
            AuditError::EntryHashMismatch { .. } => WALLET_AUDIT_ENTRY_HASH_MISMATCH,
            AuditError::ChainBroken { .. } => WALLET_AUDIT_CHAIN_BROKEN,
            AuditError::SequenceGap { .. } => WALLET_AUDIT_SEQUENCE_GAP,
            AuditError::MissingStart => WALLET_AUDIT_MISSING_START,
            AuditError::HeadMismatch => WALLET_AUDIT_HEAD_MISMATCH,
            AuditError::Empty => WALLET_AUDIT_EMPTY,
            _ => WALLET_AUDIT_OTHER,
        }
    }
}

/// The single mapping from a core error to a C result code.
impl From<EnrollmentError> for wallet_result {
    fn from(e: EnrollmentError) -> Self {
        use EnrollmentError as E;
        match e {
            E::BadMagic
            | E::UnsupportedVersion
            | E::UnknownMethod
            | E::Truncated
            | E::LengthOutOfBounds
            | E::TrailingBytes => WALLET_ENROLLMENT_MALFORMED,
            E::BufferTooSmall => WALLET_BUFFER_TOO_SMALL,
            E::AkNameMismatch => WALLET_ENROLLMENT_AK_NAME_MISMATCH,
            E::AkPublic(_) => WALLET_ENROLLMENT_AK_REFUSED,
            E::EkPublicMissing | E::EkPublic(_) => WALLET_ENROLLMENT_EK_REFUSED,
            E::EkCertificateMissing => WALLET_ENROLLMENT_EK_CERTIFICATE_MISSING,
            E::ProofMalformed | E::ProofSignatureInvalid | E::ProofMismatch => {
                WALLET_ENROLLMENT_PROOF_INVALID
            }
            E::ActivationSecretMismatch => WALLET_ENROLLMENT_ACTIVATION_SECRET_MISMATCH,
            E::EkChain(_) => WALLET_ENROLLMENT_EK_CHAIN,
            E::EkKeyMismatch => WALLET_ENROLLMENT_EK_KEY_MISMATCH,
            E::AkChain(_) => WALLET_ENROLLMENT_AK_CHAIN,
            E::AkCertificateKeyMismatch => WALLET_ENROLLMENT_AK_CERTIFICATE_KEY_MISMATCH,
            E::AkTemplateMissing => WALLET_ENROLLMENT_AK_TEMPLATE_MISSING,
            E::AkTemplateMalformed => WALLET_ENROLLMENT_AK_TEMPLATE_MALFORMED,
            E::AkCertificateMissing => WALLET_ENROLLMENT_AK_CERTIFICATE_MISSING,
            _ => WALLET_ATTEST_OTHER,
        }
    }
}

impl From<TpmIdentityError> for wallet_result {
    fn from(e: TpmIdentityError) -> Self {
        match e {
            TpmIdentityError::NoEkCertificate
            | TpmIdentityError::OnlyHighRangeEkCertificates(_) => WALLET_TPM_NO_EK_CERTIFICATE,
            TpmIdentityError::Chain(ChainErrorKind::RootsUnreadable) => WALLET_TRUST_ROOTS_INVALID,
            TpmIdentityError::Chain(_) => WALLET_TPM_EK_CHAIN_INVALID,
            TpmIdentityError::EkKeyMismatch => WALLET_TPM_EK_KEY_MISMATCH,
            TpmIdentityError::EkChanged => WALLET_TPM_EK_CHANGED,
            TpmIdentityError::NowUnverified => WALLET_TPM_NOW_UNVERIFIED,
            TpmIdentityError::UnsupportedEkTemplate(_) => WALLET_TPM_EK_TEMPLATE_UNSUPPORTED,
            TpmIdentityError::Tpm(e) => e.into(),
            _ => WALLET_TPM_OTHER,
        }
    }
}

impl From<Error> for wallet_result {
    fn from(e: Error) -> Self {
        match e {
            Error::Signer(e) => e.into(),
            Error::Rlp(e) => e.into(),
            Error::Tx(e) => e.into(),
            Error::Tpm(e) => e.into(),
            Error::TpmIdentity(e) => e.into(),
            Error::Seal(e) => e.into(),
            Error::Backup(e) => e.into(),
            Error::State(e) => e.into(),
            Error::Wallet(e) => e.into(),
            Error::Attest(e) => e.into(),
            Error::Enrollment(e) => e.into(),
            Error::Policy(e) => e.into(),
            Error::PolicyJson(e) => e.into(),
            Error::Keystore(e) => e.into(),
            Error::Authority(e) => e.into(),
            Error::Audit(e) => e.into(),
            Error::TypedData(e) => match e {
                TypedDataError::TooLong { .. } => WALLET_TYPED_DATA_TOO_LONG,
                TypedDataError::NotJson => WALLET_TYPED_DATA_NOT_JSON,
                TypedDataError::Invalid(_) => WALLET_TYPED_DATA_INVALID,
                _ => WALLET_TYPED_DATA_OTHER,
            },
            _ => WALLET_UNKNOWN_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::authority::AdminAction;
    use wallet_core::backup::Field;
    use wallet_core::keystore::Field as KeystoreField;
    use wallet_core::policy::PolicyField;
    use wallet_core::signer::Address;
    use wallet_core::state::IoStep;
    use wallet_core::tpm::frame::ResponseDefect;
    use wallet_core::tpm::rc::TpmRc;
    use wallet_core::tx::U256;

    #[test]
    fn numbers_are_unique_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in wallet_result::ALL {
            seen.insert(code as u32);
            assert_eq!(wallet_result::from_code(code as u32), Some(code));
        }
        assert_eq!(seen.len(), wallet_result::ALL.len());
        let mut sorted = wallet_result::ALL.to_vec();
        sorted.sort_by_key(|r| *r as u32);
        assert_eq!(sorted, wallet_result::ALL, "ALL is kept in numeric order");
        assert_eq!(wallet_result::from_code(1), None);
        for &code in wallet_result::ALL {
            assert!(!code.message().is_empty());
        }
        assert_eq!(wallet_result::from_code(u32::MAX), None);
    }

    /// `ALL` (used by `wallet_result_message`) lists exactly the codes the
    /// header declares, with the same numbers.
    #[test]
    fn all_matches_the_header() {
        let header = include_str!("../../include/wallet.h");
        let body = header
            .split("enum wallet_result")
            .nth(1)
            .and_then(|rest| rest.split("};").next())
            .expect("wallet.h declares enum wallet_result");
        let declared: Vec<(String, u32)> = body
            .lines()
            .filter_map(|line| {
                let (name, value) = line.trim().trim_end_matches(',').split_once(" = ")?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect();
        let ours: Vec<(String, u32)> = wallet_result::ALL
            .iter()
            .map(|&code| (format!("{code:?}"), code as u32))
            .collect();
        assert_eq!(declared, ours);
    }

    #[test]
    fn every_core_error_has_its_own_code() {
        let rlp = [
            RlpError::InputTooShort,
            RlpError::LeadingZero,
            RlpError::NonCanonicalSingleByte,
            RlpError::NonCanonicalLength,
            RlpError::LengthOverflow,
            RlpError::TrailingBytes,
            RlpError::UnexpectedList,
            RlpError::UnexpectedString,
            RlpError::IntegerOverflow,
            RlpError::UnexpectedLength,
        ];
        let signer = [
            SignerError::InvalidSecretKey,
            SignerError::InvalidSecretKeyLength,
            SignerError::InvalidPublicKey,
            SignerError::SignatureScalarOutOfRange,
            SignerError::HighS,
            SignerError::InvalidRecoveryByte,
            SignerError::RecoveryFailed,
            SignerError::SigningFailed,
            SignerError::InvalidAddressLength,
            SignerError::InvalidAddressHex,
            SignerError::InvalidAddressChecksum,
        ];
        let tx = [
            TxError::EmptyInput,
            TxError::UnsupportedType(9),
            TxError::TooFewFields,
            TxError::TooManyFields,
            TxError::ChainIdZero,
            TxError::ChainIdTooLarge,
            TxError::NonZeroEip155Placeholder,
            TxError::InvalidV,
            TxError::InvalidYParity,
            TxError::InvalidSignature(SignerError::HighS),
            TxError::Recovery(SignerError::RecoveryFailed),
            TxError::ContractCreationNotAllowed,
            TxError::TooLarge,
            TxError::IntrinsicGasTooLow,
            TxError::GasLimitBelowDataFloor,
            TxError::NonceTooLarge,
            TxError::InitCodeTooLarge,
            TxError::PriorityFeeAboveMaxFee,
            TxError::FeeCostOverflow,
            TxError::NoBlobs,
            TxError::TooManyBlobs,
            TxError::InvalidBlobVersion,
            TxError::EmptyAuthorizationList,
        ];
        let transport = [
            TransportError::InvalidTcti,
            TransportError::NoDefaultTpm,
            TransportError::ConnectFailed,
            TransportError::Timeout,
            TransportError::ConnectionLost,
            TransportError::Io,
            TransportError::CommandTooLarge,
            TransportError::ResponseTooLarge { announced: 9 },
            TransportError::ResponseTruncated,
            TransportError::InjectedFailure,
            TransportError::Busy,
        ];
        let tpm = [
            TpmError::Tpm {
                command: 0x15E,
                rc: TpmRc::POLICY_FAIL,
            },
            TpmError::MalformedResponse {
                command: 0x15E,
                defect: ResponseDefect::Truncated,
            },
            TpmError::ResponseHmacMismatch { command: 0x15E },
            TpmError::CommandTooLarge,
            TpmError::InvalidPcrSelection,
            TpmError::InvalidSrkPoint,
        ];
        let seal = [
            SealError::SrkNameMismatch,
            SealError::PcrMismatch,
            SealError::InvalidSealedObject,
            SealError::UnsealMismatch,
            SealError::NoValidScalar,
        ];
        let backup = [
            BackupError::BadMagic,
            BackupError::UnsupportedVersion(2),
            BackupError::UnknownFlags(0x8000),
            BackupError::Truncated(Field::Private),
            BackupError::LengthOverBound(Field::Public),
            BackupError::EmptyField(Field::SrkName),
            BackupError::TrailingBytes,
            BackupError::IntegrityMismatch,
            BackupError::FlagsDoNotFitVersion {
                version: 1,
                flags: 0x4,
            },
        ];
        let state = [
            StateError::NotADirectory,
            StateError::InsecurePermissions(0o755),
            StateError::NotARegularFile,
            StateError::AccountExists,
            StateError::NoAccount,
            StateError::FileTooLarge,
            StateError::Io(IoStep::Rename, std::io::ErrorKind::PermissionDenied),
            StateError::StateFileTooLarge,
        ];
        let wallet = [
            WalletError::Closed,
            WalletError::NoAccount,
            WalletError::BackupNotBase64,
            WalletError::StateNotEmpty,
            WalletError::AddressMismatch,
            WalletError::PolicyBindingMismatch,
            WalletError::PolicyUnbound,
            WalletError::EmptyExportPassword,
            WalletError::WeakExportKdf,
            WalletError::KeyLockNotChosen,
            WalletError::NotPinLocked,
            WalletError::PinChangeBootOnce,
        ];
        let attest = [
            AttestError::EvidenceBadMagic,
            AttestError::EvidenceUnsupportedVersion,
            AttestError::EvidenceTruncated,
            AttestError::EvidenceLengthOutOfBounds,
            AttestError::EvidencePcrCountMismatch,
            AttestError::EvidenceTrailingBytes,
            AttestError::PcrIndexOutOfRange,
            AttestError::UnsupportedPcrBank,
            AttestError::AkNotEnrolled,
            AttestError::AkPublicMalformed,
            AttestError::AkNotEcc,
            AttestError::AkNameAlg,
            AttestError::AkAttributes,
            AttestError::AkParameters,
            AttestError::AkScheme,
            AttestError::AkCurve,
            AttestError::AkPointInvalid,
            AttestError::AkSignatureMalformed,
            AttestError::AkSignatureInvalid,
            AttestError::AttestMalformed,
            AttestError::AttestBadMagic,
            AttestError::AttestNotQuote,
            AttestError::ChallengeMismatch,
            AttestError::PcrSelectionMismatch,
            AttestError::PcrDigestMismatch,
            AttestError::WalletSignatureMalformed,
            AttestError::WalletSignatureMismatch,
            AttestError::AddressMismatch,
            AttestError::ChainIdMismatch,
            AttestError::PolicyHashMismatch,
            AttestError::PcrNotQuoted,
            AttestError::PcrValueMismatch,
            AttestError::OwnersHashMismatch,
            AttestError::ThresholdMismatch,
            AttestError::AdminNonceMismatch,
            AttestError::AuditHeadMismatch,
            AttestError::EvidenceVersionRetired,
        ];
        let someone = Address([0x35; 20]);
        let wei = U256::from(7u64);
        let violations = [
            PolicyViolation::ChainIdNotAllowed { chain_id: 5 },
            PolicyViolation::UnprotectedNotAllowed,
            PolicyViolation::ContractCreationNotAllowed,
            PolicyViolation::RecipientDenied { recipient: someone },
            PolicyViolation::RecipientNotAllowed { recipient: someone },
            PolicyViolation::SelectorNotAllowed {
                contract: someone,
                selector: [1, 2, 3, 4],
            },
            PolicyViolation::MissingSelector {
                contract: someone,
                calldata_len: 2,
            },
            PolicyViolation::DelegationNotAllowed { delegate: someone },
            PolicyViolation::ValueAboveCap {
                value: wei,
                cap: wei,
            },
            PolicyViolation::MaxFeeAboveCap {
                max_fee: None,
                cap: wei,
            },
            PolicyViolation::MessagesNotAllowed,
            PolicyViolation::TypedDataDomainNotAllowed {
                chain_id: None,
                verifying_contract: None,
            },
            PolicyViolation::TypedDataHashNotCheckable,
            PolicyViolation::RawHashNotAllowed,
            PolicyViolation::DailyLimitExceeded {
                chain_id: Some(1),
                spent: wei,
                spend: None,
                limit: wei,
            },
        ];
        let policy = [
            PolicyError::BadMagic,
            PolicyError::UnsupportedVersion(9),
            PolicyError::Truncated(PolicyField::ChainIds),
            PolicyError::InvalidFlag(PolicyField::AllowMessages),
            PolicyError::TooMany(PolicyField::RecipientsAllow),
            PolicyError::Unsorted(PolicyField::RecipientsDeny),
            PolicyError::Duplicate(PolicyField::Selectors),
            PolicyError::ChainIdOutOfRange(0),
            PolicyError::TrailingBytes,
            PolicyError::SpendLedgerMalformed,
            PolicyError::AuditLogMalformed,
        ];
        let json_error = |text: &str| wallet_core::policy::Policy::from_json(text).unwrap_err();
        let policy_json = [
            PolicyJsonError::TooLong {
                len: 1 << 20,
                limit: 1 << 18,
            },
            PolicyJsonError::NotUtf8 { valid_up_to: 3 },
            PolicyJsonError::Syntax { line: 1, column: 2 },
            PolicyJsonError::NotAnObject,
            json_error(r#"{"chain_ids": [1], "chain_ids": [2]}"#),
            json_error(r#"{"chain_id": [1]}"#),
            json_error(r#"{"chain_ids": [0]}"#),
            json_error(&format!(
                r#"{{"selectors": {{"0x{0}": [], "0x{1}": []}}}}"#,
                "ab".repeat(20),
                "AB".repeat(20)
            )),
        ];
        let keystore = [
            KeystoreError::JsonSyntax { line: 1, column: 1 },
            KeystoreError::JsonTruncated,
            KeystoreError::MissingField(KeystoreField::Mac),
            KeystoreError::WrongType(KeystoreField::Crypto),
            KeystoreError::DuplicateCrypto,
            KeystoreError::UnsupportedVersion(4),
            KeystoreError::UnsupportedCipher,
            KeystoreError::UnsupportedKdf,
            KeystoreError::UnsupportedPrf,
            KeystoreError::InvalidHex(KeystoreField::Iv),
            KeystoreError::WrongLength {
                field: KeystoreField::Iv,
                len: 3,
                expected: 16,
            },
            KeystoreError::InvalidKdfParam(KeystoreField::N),
            KeystoreError::LimitExceeded(Limit::JsonLength { len: 1 << 20 }),
            KeystoreError::LimitExceeded(Limit::ScryptN { log_n: 30 }),
            KeystoreError::LimitExceeded(Limit::ScryptMemory { bytes: 1 << 40 }),
            KeystoreError::LimitExceeded(Limit::ScryptWork { bytes: 1 << 40 }),
            KeystoreError::LimitExceeded(Limit::Pbkdf2Iterations { c: 1 << 40 }),
            KeystoreError::LimitExceeded(Limit::SaltLength { len: 1 << 20 }),
            KeystoreError::WrongPassword,
            KeystoreError::AddressMismatch,
            KeystoreError::InvalidKey,
        ];
        let authority = [
            AuthorityError::WrongWallet {
                request: someone,
                wallet: Address([1; 20]),
            },
            AuthorityError::WrongAction {
                request: AdminAction::ExportKeystore,
                expected: AdminAction::ReplacePolicy,
            },
            AuthorityError::Replayed {
                nonce: 1,
                current: 2,
            },
            AuthorityError::NonceNotCurrent {
                nonce: 3,
                current: 2,
            },
            AuthorityError::Expired {
                deadline: 1,
                now: 2,
            },
            AuthorityError::ParamsMismatch,
            AuthorityError::NoApprovals,
            AuthorityError::TooManyApprovals { count: 17 },
            AuthorityError::MalformedSignature { index: 0 },
            AuthorityError::NotOwner {
                index: 0,
                signer: someone,
            },
            AuthorityError::DuplicateSigner {
                index: 1,
                signer: someone,
            },
            AuthorityError::TooFewApprovals {
                approved: 1,
                threshold: 2,
            },
            AuthorityError::Ownerless,
            AuthorityError::NoOwners,
            AuthorityError::TooManyOwners { count: 17 },
            AuthorityError::ZeroOwner,
            AuthorityError::DuplicateOwner(someone),
            AuthorityError::ThresholdOutOfRange {
                threshold: 0,
                owners: 1,
            },
            AuthorityError::OwnersEncodingEmpty,
            AuthorityError::OwnersEncodingLength {
                expected: 22,
                actual: 23,
            },
            AuthorityError::OwnersNotSorted { index: 1 },
            AuthorityError::UnknownAction,
            AuthorityError::ApprovalLength { len: 64 },
            AuthorityError::ApprovalHex,
            AuthorityError::JsonTooLarge {
                len: 9000,
                max: 8192,
            },
            AuthorityError::JsonSyntax { line: 1, column: 1 },
            AuthorityError::JsonMissingField {
                field: "message.nonce",
            },
            AuthorityError::JsonUnknownField { object: "domain" },
            AuthorityError::JsonDuplicateKey,
            AuthorityError::JsonWrongType { field: "domain" },
            AuthorityError::JsonTypeMismatch {
                field: "types.AdminRequest",
            },
            AuthorityError::JsonPrimaryType,
            AuthorityError::JsonDomainName,
            AuthorityError::JsonDomainVersion,
            AuthorityError::JsonAddress(SignerError::InvalidAddressHex),
            AuthorityError::JsonParamsHash,
            AuthorityError::JsonInteger {
                field: "message.nonce",
            },
            AuthorityError::JsonAction,
        ];
        let audit = [
            AuditError::NotText,
            AuditError::Malformed { line: 1 },
            AuditError::EntryHashMismatch { line: 2 },
            AuditError::ChainBroken { line: 3 },
            AuditError::SequenceGap { line: 4 },
            AuditError::MissingStart,
            AuditError::HeadMismatch,
            AuditError::Empty,
        ];
        let mut codes: Vec<wallet_result> = Vec::new();
        codes.extend(rlp.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(signer.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(tx.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(transport.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(tpm.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(seal.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(backup.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(state.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(wallet.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(attest.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(violations.map(|v| wallet_result::from(Error::from(PolicyError::from(v)))));
        codes.extend(policy.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(policy_json.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(keystore.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(authority.map(|e| wallet_result::from(Error::from(e))));
        codes.extend(audit.map(|e| wallet_result::from(Error::from(e))));
        let identity = [
            TpmIdentityError::NoEkCertificate,
            TpmIdentityError::Chain(ChainErrorKind::NoIssuer),
            TpmIdentityError::EkKeyMismatch,
            TpmIdentityError::EkChanged,
            TpmIdentityError::NowUnverified,
        ];
        codes.extend(identity.map(|e| wallet_result::from(Error::from(e))));
        let fallbacks = [
            WALLET_OK,
            WALLET_UNKNOWN_ERROR,
            WALLET_RLP_OTHER,
            WALLET_TX_OTHER,
            WALLET_SIGNER_OTHER,
            WALLET_TPM_OTHER,
            WALLET_STORAGE_OTHER,
            WALLET_ATTEST_OTHER,
            WALLET_POLICY_OTHER,
            WALLET_KEYSTORE_OTHER,
            WALLET_AUTHORITY_OTHER,
            WALLET_AUDIT_OTHER,
        ];
        let mut unique = std::collections::BTreeSet::new();
        for code in &codes {
            assert!(!fallbacks.contains(code), "{code:?} is a fallback");
            assert!(unique.insert(*code as u32), "{code:?} used twice");
        }
        // Errors that wrap another keep the wrapped error's code, and both
        // flavours of a short buffer are the one generic code.
        assert_eq!(
            wallet_result::from(Error::from(TxError::Rlp(RlpError::LeadingZero))),
            WALLET_RLP_LEADING_ZERO
        );
        assert_eq!(
            wallet_result::from(Error::from(TxError::BufferTooSmall { needed: 3 })),
            WALLET_BUFFER_TOO_SMALL
        );
        assert_eq!(
            wallet_result::from(Error::from(RlpError::BufferTooSmall)),
            WALLET_BUFFER_TOO_SMALL
        );
        assert_eq!(
            wallet_result::from(Error::from(BackupError::BufferTooSmall)),
            WALLET_BUFFER_TOO_SMALL
        );
        assert_eq!(
            wallet_result::from(Error::from(AttestError::BufferTooSmall)),
            WALLET_BUFFER_TOO_SMALL
        );
        assert_eq!(
            wallet_result::from(Error::from(PolicyError::BufferTooSmall)),
            WALLET_BUFFER_TOO_SMALL
        );
        // The owners field of a version 2 file fails as every other field.
        assert_eq!(
            wallet_result::from(Error::from(BackupError::Truncated(Field::Owners))),
            WALLET_BACKUP_TRUNCATED
        );
        assert_eq!(
            wallet_result::from(Error::from(BackupError::LengthOverBound(Field::Owners))),
            WALLET_BACKUP_LENGTH_OVER_BOUND
        );
        // Wrapped errors: a TPM failure during unsealing, a malformed account
        // file, a transport failure inside a TPM command.
        assert_eq!(
            wallet_result::from(Error::from(SealError::Tpm(TpmError::InvalidSrkPoint))),
            WALLET_TPM_INVALID_SRK_POINT
        );
        assert_eq!(
            wallet_result::from(Error::from(StateError::Format(
                BackupError::IntegrityMismatch
            ))),
            WALLET_BACKUP_INTEGRITY_MISMATCH
        );
        assert_eq!(
            wallet_result::from(Error::from(TpmError::Transport(TransportError::Timeout))),
            WALLET_TPM_TIMEOUT
        );
        // One condition, one code, wherever the core finds it: the OS
        // entropy source failing, and an account sealed by another TPM
        // (seen in the account file or by the TPM).
        for entropy in [
            Error::from(TpmError::Entropy),
            Error::from(WalletError::Entropy),
        ] {
            assert_eq!(wallet_result::from(entropy), WALLET_RANDOM_FAILED);
        }
        assert_eq!(
            wallet_result::from(Error::from(StateError::SrkNameMismatch)),
            WALLET_SEAL_SRK_NAME_MISMATCH
        );
        assert_eq!(
            wallet_result::from(Error::from(KeystoreError::Entropy)),
            WALLET_RANDOM_FAILED
        );
        // A list over its capacity, in an encoding or in the JSON form.
        let over: Vec<u64> = (1..=65).collect();
        for e in [
            Error::from(PolicyError::TooMany(PolicyField::ChainIds)),
            Error::from(json_error(&format!(r#"{{"chain_ids": {over:?}}}"#))),
        ] {
            assert_eq!(wallet_result::from(e), WALLET_POLICY_TOO_MANY_ENTRIES);
        }
    }
}
