//! Owners, threshold and M-of-N approval of admin actions.
//!
//! An account may have owners: 1 to [`MAX_OWNERS`] Ethereum addresses and a
//! threshold M. Replacing the policy, exporting the key and replacing the
//! owners each need an [`AdminRequest`] approved by at least M distinct
//! owners with EIP-712 signatures. Owners approve rules, not transfers: they
//! never sign transactions through this module.
//!
//! # What owners sign
//!
//! The EIP-712 (v4) typed data
//!
//! ```text
//! EIP712Domain(string name,string version,address verifyingContract)
//!   name = "flare-wallet", version = "1", verifyingContract = the account's address
//! AdminRequest(string action,bytes32 paramsHash,uint64 nonce,uint64 deadline)
//! ```
//!
//! so the digest is `keccak256(0x19 0x01 || domainSeparator || hashStruct)`
//! with `domainSeparator = keccak256(keccak256(DOMAIN_TYPE) ||
//! keccak256("flare-wallet") || keccak256("1") || uint256(wallet))` and
//! `hashStruct = keccak256(keccak256(ADMIN_REQUEST_TYPE) || keccak256(action)
//! || paramsHash || uint256(nonce) || uint256(deadline))`. Any EIP-712 signer
//! produces it (eth-account `sign_typed_data`, `cast wallet sign --data`,
//! MetaMask `eth_signTypedData_v4`); with `std`,
//! [`AdminRequest::to_typed_data_json`] writes the message they take.
//!
//! `nonce` is the account's admin nonce: a request carries exactly the
//! current one and is usable once. `deadline` is a unix time in seconds; the
//! request is refused once the wallet's clock is past it.
//!
//! # `paramsHash`, per action
//!
//! An owner recomputes it from what the action will do:
//!
//! - `replace_policy`: the new policy's hash itself, SHA-256 of its canonical
//!   encoding, the value attestation reports as the policy hash
//!   ([`replace_policy_params_hash`]).
//! - `replace_owners`: the new owner set's hash, `keccak256(n || owner_1 ||
//!   ... || owner_n || threshold)` with `n` and `threshold` one byte each and
//!   the owners' 20-byte addresses sorted ascending, the value attestation
//!   reports as the owners hash ([`OwnerSet::hash`], [`replace_owners_params_hash`]).
//! - `export_keystore`: `keccak256("flare-wallet/export_keystore/v1" ||
//!   u16be(len(kdf)) || kdf || u16be(len(salt)) || salt || mac_key)`, where
//!   `kdf` is the keystore's KDF descriptor, `salt` its KDF salt and `mac_key`
//!   the keystore's own MAC key (bytes 16..32 of the derived key). Someone who
//!   sees the approval can test password guesses against it no faster than
//!   against the exported keystore itself ([`export_keystore_params_hash`]).
//!
//! # Checks
//!
//! [`verify_approvals`] checks, in this order, each failure its own
//! [`AuthorityError`]: the domain's wallet, the action, the nonce (older:
//! replayed; newer: not current), the deadline, the params hash, the number
//! of approvals, then each approval in turn (well formed, signed by an owner,
//! not a second approval by the same owner), and last the threshold. Nothing
//! is partial: one bad approval refuses the whole request.

use core::fmt;

use heapless::Vec;

use crate::keccak::{keccak256, Keccak256};
use crate::signer::{eip712_hash, recover_address, Address, Signature, SignerError};

#[cfg(feature = "std")]
pub mod json;

/// The most owners an account can have.
pub const MAX_OWNERS: usize = 16;
/// The most approvals one request can carry.
pub const MAX_APPROVALS: usize = 16;
/// The EIP-712 domain name.
pub const DOMAIN_NAME: &str = "flare-wallet";
/// The EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";
/// The EIP-712 type of an admin request.
pub const ADMIN_REQUEST_TYPE: &str =
    "AdminRequest(string action,bytes32 paramsHash,uint64 nonce,uint64 deadline)";
/// The EIP-712 type of the domain.
pub const DOMAIN_TYPE: &str = "EIP712Domain(string name,string version,address verifyingContract)";
/// Attestation reports this for an ownerless account.
pub const NO_OWNERS_HASH: [u8; 32] = [0; 32];
/// Domain separation label of the `export_keystore` params hash.
pub const EXPORT_KEYSTORE_LABEL: &[u8] = b"flare-wallet/export_keystore/v1";
/// Domain label of the `change_pin` params hash.
pub const CHANGE_PIN_LABEL: &[u8] = b"flare-wallet/change_pin/v1";
/// Length of one approval: `r || s || v`.
pub const APPROVAL_LEN: usize = 65;

/// An action that needs the owners' approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdminAction {
    /// Replace the account's signing policy.
    ReplacePolicy,
    /// Export the key as a Web3 Secret Storage keystore.
    ExportKeystore,
    /// Replace the owners and the threshold.
    ReplaceOwners,
    /// Seal the key again under a new PIN (a PIN-locked account).
    ChangePin,
}

impl AdminAction {
    /// Every action.
    pub const ALL: [Self; 4] = [
        Self::ReplacePolicy,
        Self::ExportKeystore,
        Self::ReplaceOwners,
        Self::ChangePin,
    ];

    /// The `action` string owners sign.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ReplacePolicy => "replace_policy",
            Self::ExportKeystore => "export_keystore",
            Self::ReplaceOwners => "replace_owners",
            Self::ChangePin => "change_pin",
        }
    }

    /// The action named by `s`, exactly as [`as_str`](Self::as_str) writes it.
    ///
    /// # Errors
    /// [`AuthorityError::UnknownAction`].
    pub fn parse(s: &str) -> Result<Self, AuthorityError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(AuthorityError::UnknownAction)
    }
}

impl fmt::Display for AdminAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an owner set, an admin request or its approvals were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorityError {
    /// The request's domain names another wallet.
    WrongWallet {
        /// The request's `verifyingContract`.
        request: Address,
        /// This wallet's address.
        wallet: Address,
    },
    /// The request approves another action.
    WrongAction {
        /// The request's action.
        request: AdminAction,
        /// The action being executed.
        expected: AdminAction,
    },
    /// The request's nonce is older than the current admin nonce: already used.
    Replayed {
        /// The request's nonce.
        nonce: u64,
        /// The account's current admin nonce.
        current: u64,
    },
    /// The request's nonce is ahead of the current admin nonce.
    NonceNotCurrent {
        /// The request's nonce.
        nonce: u64,
        /// The account's current admin nonce.
        current: u64,
    },
    /// The request's deadline has passed.
    Expired {
        /// The request's deadline (unix seconds).
        deadline: u64,
        /// The wallet's time (unix seconds).
        now: u64,
    },
    /// The request's params hash is not the hash of the parameters given.
    ParamsMismatch,
    /// The request carries no approval.
    NoApprovals,
    /// The request carries more than [`MAX_APPROVALS`] approvals.
    TooManyApprovals {
        /// How many it carries.
        count: usize,
    },
    /// An approval is not a valid signature: wrong length, `v` not 0, 1, 27
    /// or 28, `r` or `s` zero or not below n, high `s`, or nothing recoverable.
    MalformedSignature {
        /// The approval's position, from 0.
        index: usize,
    },
    /// An approval is signed by an address that is not an owner.
    NotOwner {
        /// The approval's position, from 0.
        index: usize,
        /// The address that signed it.
        signer: Address,
    },
    /// An owner approved twice.
    DuplicateSigner {
        /// The position of the second approval, from 0.
        index: usize,
        /// The owner.
        signer: Address,
    },
    /// Fewer distinct owners approved than the threshold.
    TooFewApprovals {
        /// Distinct owners that approved.
        approved: usize,
        /// The threshold.
        threshold: u8,
    },
    /// The account has no owners, so no admin action is possible.
    Ownerless,
    /// An owner set needs at least one owner.
    NoOwners,
    /// An owner set has more than [`MAX_OWNERS`] owners.
    TooManyOwners {
        /// How many it has.
        count: usize,
    },
    /// The zero address cannot be an owner.
    ZeroOwner,
    /// An address appears twice in an owner set.
    DuplicateOwner(Address),
    /// The threshold is 0 or above the number of owners.
    ThresholdOutOfRange {
        /// The threshold.
        threshold: u8,
        /// The number of owners.
        owners: usize,
    },
    /// An owner-set encoding is empty.
    OwnersEncodingEmpty,
    /// An owner-set encoding's length does not match its owner count.
    OwnersEncodingLength {
        /// The length its owner count implies.
        expected: usize,
        /// Its length.
        actual: usize,
    },
    /// The owners of an encoding are not sorted ascending.
    OwnersNotSorted {
        /// The position of the first owner out of order, from 0.
        index: usize,
    },
    /// An output buffer is too small.
    BufferTooSmall {
        /// The length needed.
        needed: usize,
    },
    /// The action string is not one of [`AdminAction::ALL`].
    UnknownAction,
    /// An approval is not 65 bytes.
    ApprovalLength {
        /// Its length in bytes.
        len: usize,
    },
    /// An approval's text is not hex.
    ApprovalHex,
    /// The typed-data JSON is longer than the parser accepts.
    JsonTooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The typed-data text is not JSON.
    JsonSyntax {
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
    },
    /// A field of the typed data is missing.
    JsonMissingField {
        /// The field, as a path (`message.nonce`).
        field: &'static str,
    },
    /// An object of the typed data has a key it must not have.
    JsonUnknownField {
        /// The object, as a path (`domain`).
        object: &'static str,
    },
    /// An object of the typed data has the same key twice.
    JsonDuplicateKey,
    /// A field of the typed data has the wrong JSON type.
    JsonWrongType {
        /// The field, as a path.
        field: &'static str,
    },
    /// A type of the typed data is not exactly the expected one.
    JsonTypeMismatch {
        /// The type (`types.AdminRequest`).
        field: &'static str,
    },
    /// `primaryType` is not `AdminRequest`.
    JsonPrimaryType,
    /// `domain.name` is not [`DOMAIN_NAME`].
    JsonDomainName,
    /// `domain.version` is not [`DOMAIN_VERSION`].
    JsonDomainVersion,
    /// `domain.verifyingContract` is not a valid address.
    JsonAddress(SignerError),
    /// `message.paramsHash` is not `0x` and 64 hex digits.
    JsonParamsHash,
    /// An integer field is not a JSON integer or decimal string within u64.
    JsonInteger {
        /// The field, as a path.
        field: &'static str,
    },
    /// `message.action` is not a known action.
    JsonAction,
}

impl fmt::Display for AuthorityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AuthorityError as E;
        match *self {
            E::WrongWallet { request, wallet } => write!(
                f,
                "admin request is for wallet {request}, not this wallet {wallet}"
            ),
            E::WrongAction { request, expected } => write!(
                f,
                "admin request approves {request}, not {expected}"
            ),
            E::Replayed { nonce, current } => write!(
                f,
                "admin request nonce {nonce} was already used (the current admin nonce is {current})"
            ),
            E::NonceNotCurrent { nonce, current } => write!(
                f,
                "admin request nonce {nonce} is ahead of the current admin nonce {current}"
            ),
            E::Expired { deadline, now } => write!(
                f,
                "admin request expired at {deadline} (unix seconds); it is now {now}"
            ),
            E::ParamsMismatch => f.write_str(
                "admin request paramsHash is not the hash of the parameters given",
            ),
            E::NoApprovals => f.write_str("admin request carries no approval"),
            E::TooManyApprovals { count } => write!(
                f,
                "admin request carries {count} approvals; at most {MAX_APPROVALS} are accepted"
            ),
            E::MalformedSignature { index } => write!(
                f,
                "approval {index} is not a valid signature (65 bytes r||s||v, v 0/1/27/28, low s)"
            ),
            E::NotOwner { index, signer } => write!(
                f,
                "approval {index} is signed by {signer}, which is not an owner of this account"
            ),
            E::DuplicateSigner { index, signer } => write!(
                f,
                "approval {index} is a second approval by owner {signer}"
            ),
            E::TooFewApprovals {
                approved,
                threshold,
            } => write!(
                f,
                "{approved} distinct owners approved; this account needs {threshold}"
            ),
            E::Ownerless => f.write_str(
                "this account has no owners: its policy can never change and its key can never \
                 leave the TPM; create an account with owners (owners=[...], threshold=M) to \
                 allow admin actions",
            ),
            E::NoOwners => f.write_str("an owner set needs at least one owner"),
            E::TooManyOwners { count } => write!(
                f,
                "{count} owners given; at most {MAX_OWNERS} are allowed"
            ),
            E::ZeroOwner => f.write_str("the zero address cannot be an owner"),
            E::DuplicateOwner(address) => write!(f, "owner {address} is given twice"),
            E::ThresholdOutOfRange { threshold, owners } => write!(
                f,
                "threshold {threshold} is out of range: it must be 1 to {owners} (the number of owners)"
            ),
            E::OwnersEncodingEmpty => f.write_str("owner-set encoding is empty"),
            E::OwnersEncodingLength { expected, actual } => write!(
                f,
                "owner-set encoding is {actual} bytes; its owner count needs {expected}"
            ),
            E::OwnersNotSorted { index } => write!(
                f,
                "owner-set encoding: owner {index} is not above the one before (owners must be sorted ascending)"
            ),
            E::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            E::UnknownAction => f.write_str(
                "unknown admin action (expected replace_policy, export_keystore or replace_owners)",
            ),
            E::ApprovalLength { len } => write!(
                f,
                "an approval is {len} bytes; it must be 65 (r || s || v)"
            ),
            E::ApprovalHex => f.write_str("an approval is not hex (130 digits, 0x optional)"),
            E::JsonTooLarge { len, max } => write!(
                f,
                "admin request JSON is {len} bytes; at most {max} are accepted"
            ),
            E::JsonSyntax { line, column } => write!(
                f,
                "admin request is not valid JSON (line {line}, column {column})"
            ),
            E::JsonMissingField { field } => {
                write!(f, "admin request JSON lacks `{field}`")
            }
            E::JsonUnknownField { object } => {
                write!(f, "admin request JSON: `{object}` has an unknown key")
            }
            E::JsonDuplicateKey => f.write_str("admin request JSON has a key given twice"),
            E::JsonWrongType { field } => {
                write!(f, "admin request JSON: `{field}` has the wrong JSON type")
            }
            E::JsonTypeMismatch { field } => write!(
                f,
                "admin request JSON: `{field}` is not the flare-wallet type definition"
            ),
            E::JsonPrimaryType => {
                f.write_str("admin request JSON: `primaryType` must be \"AdminRequest\"")
            }
            E::JsonDomainName => write!(
                f,
                "admin request JSON: `domain.name` must be \"{DOMAIN_NAME}\""
            ),
            E::JsonDomainVersion => write!(
                f,
                "admin request JSON: `domain.version` must be \"{DOMAIN_VERSION}\""
            ),
            E::JsonAddress(e) => write!(
                f,
                "admin request JSON: `domain.verifyingContract` is not an address: {e}"
            ),
            E::JsonParamsHash => f.write_str(
                "admin request JSON: `message.paramsHash` must be 0x and 64 hex digits",
            ),
            E::JsonInteger { field } => write!(
                f,
                "admin request JSON: `{field}` must be an integer (JSON number or decimal string) from 0 to 2^64-1"
            ),
            E::JsonAction => f.write_str(
                "admin request JSON: `message.action` must be replace_policy, export_keystore or replace_owners",
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AuthorityError {}

/// The owners of an account and its threshold: 1 to [`MAX_OWNERS`] distinct
/// non-zero addresses, kept sorted ascending, and `1 <= threshold <= n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerSet {
    owners: Vec<Address, MAX_OWNERS>,
    threshold: u8,
}

impl OwnerSet {
    /// The longest encoding: the count, 16 addresses, the threshold.
    pub const MAX_ENCODED_LEN: usize = 1 + 20 * MAX_OWNERS + 1;

    /// An owner set of `owners` (any order) and `threshold`.
    ///
    /// # Errors
    /// [`AuthorityError::NoOwners`], [`AuthorityError::TooManyOwners`],
    /// [`AuthorityError::ZeroOwner`], [`AuthorityError::DuplicateOwner`],
    /// [`AuthorityError::ThresholdOutOfRange`], checked in this order.
    pub fn new(owners: &[Address], threshold: u8) -> Result<Self, AuthorityError> {
        if owners.is_empty() {
            return Err(AuthorityError::NoOwners);
        }
        let mut sorted: Vec<Address, MAX_OWNERS> =
            Vec::from_slice(owners).map_err(|()| AuthorityError::TooManyOwners {
                count: owners.len(),
            })?;
        if sorted.contains(&Address::ZERO) {
            return Err(AuthorityError::ZeroOwner);
        }
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(AuthorityError::DuplicateOwner(pair[0]));
        }
        check_threshold(threshold, sorted.len())?;
        Ok(Self {
            owners: sorted,
            threshold,
        })
    }

    /// The owners, sorted ascending.
    #[must_use]
    pub fn owners(&self) -> &[Address] {
        &self.owners
    }

    /// How many distinct owners must approve an admin action.
    #[must_use]
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// Whether `address` is an owner.
    #[must_use]
    pub fn contains(&self, address: &Address) -> bool {
        self.owners.binary_search(address).is_ok()
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        1 + 20 * self.owners.len() + 1
    }

    /// Writes `n (u8) || n sorted 20-byte addresses || threshold (u8)` and
    /// returns its length.
    ///
    /// # Errors
    /// [`AuthorityError::BufferTooSmall`] (nothing is written then).
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, AuthorityError> {
        let len = self.encoded_len();
        let out = out
            .get_mut(..len)
            .ok_or(AuthorityError::BufferTooSmall { needed: len })?;
        let (count, rest) = out.split_at_mut(1);
        // At most MAX_OWNERS (16) owners: the count fits a byte.
        count[0] = u8::try_from(self.owners.len()).map_err(|_| AuthorityError::TooManyOwners {
            count: self.owners.len(),
        })?;
        let (addresses, threshold) = rest.split_at_mut(rest.len() - 1);
        for (slot, owner) in addresses.chunks_exact_mut(20).zip(&self.owners) {
            slot.copy_from_slice(&owner.0);
        }
        threshold[0] = self.threshold;
        Ok(len)
    }

    /// Parses an encoding strictly: the exact length for its count, owners
    /// sorted strictly ascending and non-zero, a threshold in range.
    ///
    /// # Errors
    /// [`AuthorityError::OwnersEncodingEmpty`], [`AuthorityError::NoOwners`],
    /// [`AuthorityError::TooManyOwners`], [`AuthorityError::OwnersEncodingLength`],
    /// [`AuthorityError::ZeroOwner`], [`AuthorityError::DuplicateOwner`],
    /// [`AuthorityError::OwnersNotSorted`], [`AuthorityError::ThresholdOutOfRange`].
    pub fn decode(bytes: &[u8]) -> Result<Self, AuthorityError> {
        let (&count, rest) = bytes
            .split_first()
            .ok_or(AuthorityError::OwnersEncodingEmpty)?;
        let count = usize::from(count);
        if count == 0 {
            return Err(AuthorityError::NoOwners);
        }
        if count > MAX_OWNERS {
            return Err(AuthorityError::TooManyOwners { count });
        }
        let expected = 1 + 20 * count + 1;
        if bytes.len() != expected {
            return Err(AuthorityError::OwnersEncodingLength {
                expected,
                actual: bytes.len(),
            });
        }
        let (addresses, threshold) = rest.split_at(rest.len() - 1);
        let mut owners: Vec<Address, MAX_OWNERS> = Vec::new();
        for (index, chunk) in addresses.chunks_exact(20).enumerate() {
            let mut address = Address::ZERO;
            address.0.copy_from_slice(chunk);
            if address == Address::ZERO {
                return Err(AuthorityError::ZeroOwner);
            }
            if let Some(last) = owners.last() {
                if *last == address {
                    return Err(AuthorityError::DuplicateOwner(address));
                }
                if *last > address {
                    return Err(AuthorityError::OwnersNotSorted { index });
                }
            }
            owners
                .push(address)
                .map_err(|_| AuthorityError::TooManyOwners { count })?;
        }
        let threshold = threshold[0];
        check_threshold(threshold, owners.len())?;
        Ok(Self { owners, threshold })
    }

    /// `keccak256` of the encoding: the owners hash that attestation reports
    /// and that a `replace_owners` request commits to.
    #[must_use]
    pub fn hash(&self) -> [u8; 32] {
        let mut buf = [0u8; Self::MAX_ENCODED_LEN];
        match self.encode(&mut buf) {
            Ok(len) => keccak256(buf.get(..len).unwrap_or(&buf)),
            // Unreachable: the buffer has the maximal length.
            Err(_) => keccak256(&buf),
        }
    }
}

fn check_threshold(threshold: u8, owners: usize) -> Result<(), AuthorityError> {
    if threshold == 0 || usize::from(threshold) > owners {
        return Err(AuthorityError::ThresholdOutOfRange { threshold, owners });
    }
    Ok(())
}

/// One admin request: what owners sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminRequest {
    /// The account's address: the domain's `verifyingContract`.
    pub wallet: Address,
    /// The action approved.
    pub action: AdminAction,
    /// The hash of the action's parameters (see the module documentation).
    pub params_hash: [u8; 32],
    /// The account's admin nonce the request is for.
    pub nonce: u64,
    /// The last unix second at which the request may be executed.
    pub deadline: u64,
}

impl AdminRequest {
    /// EIP-712 `hashStruct`: `keccak256(typeHash || keccak256(action) ||
    /// paramsHash || uint256(nonce) || uint256(deadline))`.
    #[must_use]
    pub fn struct_hash(&self) -> [u8; 32] {
        let mut h = Keccak256::new();
        h.update(&keccak256(ADMIN_REQUEST_TYPE.as_bytes()));
        h.update(&keccak256(self.action.as_str().as_bytes()));
        h.update(&self.params_hash);
        h.update(&uint256(self.nonce));
        h.update(&uint256(self.deadline));
        h.finalize()
    }

    /// The digest owners sign: `keccak256(0x19 0x01 ||
    /// domain_separator(wallet) || struct_hash)`.
    #[must_use]
    pub fn signing_hash(&self) -> [u8; 32] {
        eip712_hash(&domain_separator(&self.wallet), &self.struct_hash())
    }
}

fn uint256(value: u64) -> [u8; 32] {
    let mut word = [0u8; 32];
    word[24..].copy_from_slice(&value.to_be_bytes());
    word
}

/// The EIP-712 domain separator of `wallet`: `keccak256(keccak256(DOMAIN_TYPE)
/// || keccak256(DOMAIN_NAME) || keccak256(DOMAIN_VERSION) || uint256(wallet))`.
#[must_use]
pub fn domain_separator(wallet: &Address) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(&keccak256(DOMAIN_TYPE.as_bytes()));
    h.update(&keccak256(DOMAIN_NAME.as_bytes()));
    h.update(&keccak256(DOMAIN_VERSION.as_bytes()));
    h.update(&[0u8; 12]);
    h.update(&wallet.0);
    h.finalize()
}

/// The params hash of `replace_policy`: the new policy's hash, unchanged.
#[must_use]
pub fn replace_policy_params_hash(policy_hash: &[u8; 32]) -> [u8; 32] {
    *policy_hash
}

/// The params hash of `replace_owners`: the new owner set's [`OwnerSet::hash`].
#[must_use]
pub fn replace_owners_params_hash(owners: &OwnerSet) -> [u8; 32] {
    owners.hash()
}

/// The params hash of `export_keystore`: `keccak256(EXPORT_KEYSTORE_LABEL ||
/// u16be(len) || kdf_descriptor || u16be(len) || salt || mac_key)`.
///
/// Both inputs are meant to be short (a KDF descriptor and a 32-byte salt);
/// a length above 65535 is written as 65535.
#[must_use]
pub fn export_keystore_params_hash(
    kdf_descriptor: &[u8],
    salt: &[u8],
    mac_key: &[u8; 16],
) -> [u8; 32] {
    let len = |bytes: &[u8]| u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes();
    let mut h = Keccak256::new();
    h.update(EXPORT_KEYSTORE_LABEL);
    h.update(&len(kdf_descriptor));
    h.update(kdf_descriptor);
    h.update(&len(salt));
    h.update(salt);
    h.update(mac_key);
    h.finalize()
}

/// The params hash of `change_pin`: `keccak256(CHANGE_PIN_LABEL ||
/// key_lock_mode || u32be(pcr_bitmap) || boot_once_pcr)`, the public
/// descriptor of the key lock the key is sealed under afterwards
/// ([`crate::backup::KEY_LOCK_PIN`] and the other mode bits; the PCR
/// bitmap of the bound PCRs; the boot-once PCR or 0).
///
/// Neither PIN goes in: a hash of a PIN could be brute-forced by anyone who
/// sees the approval. The request's wallet, action and admin nonce bind it to
/// this account and this one change.
#[must_use]
pub fn change_pin_params_hash(key_lock_mode: u8, pcr_bitmap: u32, boot_once_pcr: u8) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(CHANGE_PIN_LABEL);
    h.update(&[key_lock_mode]);
    h.update(&pcr_bitmap.to_be_bytes());
    h.update(&[boot_once_pcr]);
    h.finalize()
}

/// What the wallet expects, checked against a request and its approvals.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// This wallet's address.
    pub wallet: Address,
    /// The account's owners.
    pub owners: &'a OwnerSet,
    /// The wallet's current admin nonce: the request must carry exactly it.
    pub nonce: u64,
    /// The wallet's time, unix seconds.
    pub now: u64,
    /// The action being executed.
    pub action: AdminAction,
    /// The hash of the parameters given at execution.
    pub params_hash: [u8; 32],
}

/// Checks a request and its approvals (65-byte `r || s || v`, `v` in
/// {0, 1, 27, 28}) and returns the distinct approving owners, sorted.
///
/// Nothing is partial: every approval given must be valid, and at least
/// `threshold` distinct owners must approve.
///
/// # Errors
/// The [`AuthorityError`] of the first check that fails, in the order of
/// the module documentation.
pub fn verify_approvals(
    expected: &Expected<'_>,
    request: &AdminRequest,
    approvals: &[[u8; APPROVAL_LEN]],
) -> Result<Vec<Address, MAX_APPROVALS>, AuthorityError> {
    if request.wallet != expected.wallet {
        return Err(AuthorityError::WrongWallet {
            request: request.wallet,
            wallet: expected.wallet,
        });
    }
    if request.action != expected.action {
        return Err(AuthorityError::WrongAction {
            request: request.action,
            expected: expected.action,
        });
    }
    if request.nonce < expected.nonce {
        return Err(AuthorityError::Replayed {
            nonce: request.nonce,
            current: expected.nonce,
        });
    }
    if request.nonce > expected.nonce {
        return Err(AuthorityError::NonceNotCurrent {
            nonce: request.nonce,
            current: expected.nonce,
        });
    }
    if expected.now > request.deadline {
        return Err(AuthorityError::Expired {
            deadline: request.deadline,
            now: expected.now,
        });
    }
    if request.params_hash != expected.params_hash {
        return Err(AuthorityError::ParamsMismatch);
    }
    if approvals.is_empty() {
        return Err(AuthorityError::NoApprovals);
    }
    if approvals.len() > MAX_APPROVALS {
        return Err(AuthorityError::TooManyApprovals {
            count: approvals.len(),
        });
    }
    let digest = request.signing_hash();
    let mut approved: Vec<Address, MAX_APPROVALS> = Vec::new();
    for (index, approval) in approvals.iter().enumerate() {
        let malformed = AuthorityError::MalformedSignature { index };
        let signature = Signature::from_rsv_bytes(approval).map_err(|_| malformed)?;
        let signer = recover_address(&digest, &signature).map_err(|_| malformed)?;
        if !expected.owners.contains(&signer) {
            return Err(AuthorityError::NotOwner { index, signer });
        }
        match approved.binary_search(&signer) {
            Ok(_) => return Err(AuthorityError::DuplicateSigner { index, signer }),
            Err(at) => {
                approved
                    .insert(at, signer)
                    .map_err(|_| AuthorityError::TooManyApprovals {
                        count: approvals.len(),
                    })?
            }
        }
    }
    let threshold = expected.owners.threshold();
    if approved.len() < usize::from(threshold) {
        return Err(AuthorityError::TooFewApprovals {
            approved: approved.len(),
            threshold,
        });
    }
    Ok(approved)
}

/// An approval from its bytes: exactly 65 (`r || s || v`). The signature
/// itself is checked by [`verify_approvals`].
///
/// # Errors
/// [`AuthorityError::ApprovalLength`].
pub fn parse_approval_bytes(bytes: &[u8]) -> Result<[u8; APPROVAL_LEN], AuthorityError> {
    bytes
        .try_into()
        .map_err(|_| AuthorityError::ApprovalLength { len: bytes.len() })
}

/// An approval from hex: 130 hex digits, `0x` optional, either case.
///
/// # Errors
/// [`AuthorityError::ApprovalHex`] for a non-hex character or an odd number
/// of digits, [`AuthorityError::ApprovalLength`] for any other length.
pub fn parse_approval_hex(text: &str) -> Result<[u8; APPROVAL_LEN], AuthorityError> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text)
        .as_bytes();
    if !digits.len().is_multiple_of(2) || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(AuthorityError::ApprovalHex);
    }
    if digits.len() != 2 * APPROVAL_LEN {
        return Err(AuthorityError::ApprovalLength {
            len: digits.len() / 2,
        });
    }
    let mut out = [0u8; APPROVAL_LEN];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
    }
    Ok(out)
}

/// The value of an ASCII hex digit (checked by the caller); 0 otherwise.
pub(crate) fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}
