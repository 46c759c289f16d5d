//! Stateless validity rules a node applies before a transaction can enter a
//! block: intrinsic gas, EIP-2681, EIP-3860, fee sanity, blob and
//! authorization counts. Signing does not require them; call
//! [`TypedTransaction::validate`] when a transaction must be includable.

use super::{check_chain_id, TxError, TypedTransaction};

/// The rule set to validate against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Fork {
    /// Cancun (Dencun, March 2024).
    Cancun,
    /// Prague (Pectra, May 2025): adds EIP-7623's calldata floor, EIP-7702
    /// authorization costs and up to 9 blobs per block (EIP-7691).
    Prague,
}

/// EIP-3860: the largest init code a creation may carry (2 × 24576 bytes).
pub const INIT_CODE_SIZE_LIMIT: usize = 49_152;

/// EIP-4844: the version byte of a KZG blob versioned hash.
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

const TX_BASE_COST: u64 = 21_000;
const TX_CREATE_COST: u64 = 32_000;
const TX_DATA_COST_ZERO: u64 = 4;
const TX_DATA_COST_NONZERO: u64 = 16;
const ACCESS_LIST_ADDRESS_COST: u64 = 2_400;
const ACCESS_LIST_STORAGE_KEY_COST: u64 = 1_900;
const INIT_CODE_WORD_COST: u64 = 2;
const PER_EMPTY_ACCOUNT_COST: u64 = 25_000;
const TOTAL_COST_FLOOR_PER_TOKEN: u64 = 10;
const GAS_PER_BLOB: u64 = 1 << 17;

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl TypedTransaction<'_> {
    fn calldata_counts(&self) -> (u64, u64) {
        let input = self.input();
        let zeros = as_u64(input.iter().filter(|&&b| b == 0).count());
        (zeros, as_u64(input.len()) - zeros)
    }

    /// The gas charged before execution starts: the base cost, calldata,
    /// contract creation and init-code words, access-list entries and (for
    /// set-code transactions) each authorization. Saturates at `u64::MAX`.
    #[must_use]
    pub fn intrinsic_gas(&self) -> u64 {
        let (zeros, nonzeros) = self.calldata_counts();
        let mut gas = TX_BASE_COST
            .saturating_add(zeros.saturating_mul(TX_DATA_COST_ZERO))
            .saturating_add(nonzeros.saturating_mul(TX_DATA_COST_NONZERO));
        if self.to().is_create() {
            let words = as_u64(self.input().len().div_ceil(32));
            gas = gas
                .saturating_add(TX_CREATE_COST)
                .saturating_add(words.saturating_mul(INIT_CODE_WORD_COST));
        }
        for item in self.access_list().iter() {
            gas = gas.saturating_add(ACCESS_LIST_ADDRESS_COST).saturating_add(
                as_u64(item.storage_keys.len()).saturating_mul(ACCESS_LIST_STORAGE_KEY_COST),
            );
        }
        if let Some(authorizations) = self.authorization_list() {
            gas = gas.saturating_add(
                as_u64(authorizations.len()).saturating_mul(PER_EMPTY_ACCOUNT_COST),
            );
        }
        gas
    }

    /// The EIP-7623 floor (Prague): `21000 + 10 · (zero bytes + 4 · non-zero
    /// bytes)`. A Prague transaction's gas limit must reach it.
    #[must_use]
    pub fn floor_data_gas(&self) -> u64 {
        let (zeros, nonzeros) = self.calldata_counts();
        let tokens = zeros.saturating_add(nonzeros.saturating_mul(4));
        TX_BASE_COST.saturating_add(tokens.saturating_mul(TOTAL_COST_FLOOR_PER_TOKEN))
    }

    /// Checks every stateless rule a node applies under `fork`.
    ///
    /// # Errors
    /// The first rule broken: [`TxError::ChainIdZero`],
    /// [`TxError::ChainIdTooLarge`], [`TxError::NonceTooLarge`],
    /// [`TxError::InitCodeTooLarge`], [`TxError::PriorityFeeAboveMaxFee`],
    /// [`TxError::FeeCostOverflow`], [`TxError::IntrinsicGasTooLow`],
    /// [`TxError::GasLimitBelowDataFloor`], [`TxError::NoBlobs`],
    /// [`TxError::TooManyBlobs`], [`TxError::InvalidBlobVersion`] or
    /// [`TxError::EmptyAuthorizationList`].
    pub fn validate(&self, fork: Fork) -> Result<(), TxError> {
        if let Some(chain_id) = self.chain_id() {
            check_chain_id(chain_id)?;
        }
        // EIP-2681: the nonce must stay incrementable.
        if self.nonce() == u64::MAX {
            return Err(TxError::NonceTooLarge);
        }
        if self.to().is_create() && self.input().len() > INIT_CODE_SIZE_LIMIT {
            return Err(TxError::InitCodeTooLarge);
        }
        if let Some(priority) = self.max_priority_fee_per_gas() {
            if priority > self.max_fee_per_gas() {
                return Err(TxError::PriorityFeeAboveMaxFee);
            }
        }
        // The up-front cost must be representable: gasLimit · maxFee < 2^256.
        self.max_fee_per_gas()
            .checked_mul_u64(self.gas_limit())
            .ok_or(TxError::FeeCostOverflow)?;
        if self.gas_limit() < self.intrinsic_gas() {
            return Err(TxError::IntrinsicGasTooLow);
        }
        if fork >= Fork::Prague && self.gas_limit() < self.floor_data_gas() {
            return Err(TxError::GasLimitBelowDataFloor);
        }
        if let TypedTransaction::TxEip4844(tx) = self {
            let count = tx.blob_versioned_hashes.len();
            let max_blobs = match fork {
                Fork::Cancun => 6,
                Fork::Prague => 9,
            };
            if count == 0 {
                return Err(TxError::NoBlobs);
            }
            if count > max_blobs {
                return Err(TxError::TooManyBlobs);
            }
            if tx
                .blob_versioned_hashes
                .iter()
                .any(|hash| hash[0] != VERSIONED_HASH_VERSION_KZG)
            {
                return Err(TxError::InvalidBlobVersion);
            }
            tx.max_fee_per_blob_gas
                .checked_mul_u64(GAS_PER_BLOB.saturating_mul(as_u64(count)))
                .ok_or(TxError::FeeCostOverflow)?;
        }
        if let TypedTransaction::TxEip7702(tx) = self {
            if tx.authorization_list.is_empty() {
                return Err(TxError::EmptyAuthorizationList);
            }
        }
        Ok(())
    }
}
