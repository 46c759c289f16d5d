//! Transaction objects as JSON-RPC clients send them (`eth_signTransaction`,
//! `eth_sendTransaction`), read into the core's typed transactions.
//!
//! The fields are the node's: `from`, `to`, `gas` (or `gasLimit`),
//! `gasPrice`, `maxFeePerGas`, `maxPriorityFeePerGas`, `value`, `data` or
//! `input`, `nonce`, `chainId`, `type`, `accessList`. Quantities are `0x`
//! hex (a decimal string or a JSON integer is accepted too). The type is
//! `type` when given, else inferred as eth-account does: EIP-1559 fees make a
//! type-2 transaction, `gasPrice` with `accessList` a type-1, `gasPrice`
//! alone a legacy one. Blob (type 3) and set-code (type 4) transactions need
//! fields JSON-RPC clients do not send here and are refused by name.

use serde_json::{Map, Value};
use wallet_core::rlp::SliceSink;
use wallet_core::signer::Address;
use wallet_core::tx::{
    AccessList, AccessListItem, StorageKeys, TxEip1559, TxEip2930, TxKind, TxLegacy,
    TypedTransaction, B256, U256,
};

use crate::rpc::RpcError;
use crate::values::{address_value, bytes_value, quantity, quantity_u64};

/// Which transaction type a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxFlavour {
    /// Type 0 (EIP-155).
    Legacy,
    /// Type 1 (EIP-2930).
    AccessList,
    /// Type 2 (EIP-1559).
    DynamicFee,
}

/// A transaction request, possibly missing what the node can fill in.
#[derive(Clone, Debug)]
pub struct TransactionRequest {
    /// The sending account.
    pub from: Address,
    /// The recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// `gas`.
    pub gas: Option<u64>,
    /// `gasPrice` (types 0 and 1).
    pub gas_price: Option<U256>,
    /// `maxFeePerGas` (type 2).
    pub max_fee_per_gas: Option<U256>,
    /// `maxPriorityFeePerGas` (type 2).
    pub max_priority_fee_per_gas: Option<U256>,
    /// `value`, zero when absent.
    pub value: U256,
    /// `data` / `input`.
    pub input: Vec<u8>,
    /// `nonce`.
    pub nonce: Option<u64>,
    /// `chainId`.
    pub chain_id: Option<u64>,
    /// `type`, when given.
    pub explicit_type: Option<u64>,
    /// `accessList`.
    pub access_list: Vec<(Address, Vec<B256>)>,
}

const KNOWN_FIELDS: &[&str] = &[
    "from",
    "to",
    "gas",
    "gasLimit",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "value",
    "data",
    "input",
    "nonce",
    "chainId",
    "type",
    "accessList",
];

fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn access_list(value: &Value) -> Result<Vec<(Address, Vec<B256>)>, RpcError> {
    let bad = || RpcError::invalid_params("accessList must be a list of {address, storageKeys}");
    let entries = value.as_array().ok_or_else(bad)?;
    entries
        .iter()
        .map(|entry| {
            let object = entry.as_object().ok_or_else(bad)?;
            let address =
                address_value(object.get("address").ok_or_else(bad)?, "accessList address")?;
            let keys = match object.get("storageKeys") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(keys)) => keys
                    .iter()
                    .map(|key| {
                        let bytes = bytes_value(key, "accessList storage key")?;
                        B256::try_from(bytes.as_slice()).map_err(|_| {
                            RpcError::invalid_params("an accessList storage key is 32 bytes")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(bad()),
            };
            Ok((address, keys))
        })
        .collect()
}

impl TransactionRequest {
    /// Reads a transaction object.
    ///
    /// # Errors
    /// Invalid-params errors naming the field.
    pub fn from_json(value: &Value) -> Result<Self, RpcError> {
        let object = value
            .as_object()
            .ok_or_else(|| RpcError::invalid_params("the transaction must be a JSON object"))?;
        if let Some(unknown) = object
            .keys()
            .find(|key| !KNOWN_FIELDS.contains(&key.as_str()))
        {
            return Err(RpcError::invalid_params(format!(
                "transaction field {unknown:?} is not supported here"
            )));
        }
        let from = address_value(
            field(object, "from").ok_or_else(|| {
                RpcError::invalid_params("the transaction needs a 'from' address")
            })?,
            "from",
        )?;
        let to = match object.get("to") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if text.is_empty() || text == "0x" => None,
            Some(value) => Some(address_value(value, "to")?),
        };
        let gas = match (field(object, "gas"), field(object, "gasLimit")) {
            (Some(gas), _) => Some(quantity_u64(gas, "gas")?),
            (None, Some(gas)) => Some(quantity_u64(gas, "gasLimit")?),
            (None, None) => None,
        };
        let input = match (field(object, "data"), field(object, "input")) {
            (Some(data), Some(input)) => {
                let data = bytes_value(data, "data")?;
                if data != bytes_value(input, "input")? {
                    return Err(RpcError::invalid_params(
                        "data and input are both given and differ",
                    ));
                }
                data
            }
            (Some(data), None) => bytes_value(data, "data")?,
            (None, Some(input)) => bytes_value(input, "input")?,
            (None, None) => Vec::new(),
        };
        let optional_quantity =
            |name: &str| field(object, name).map(|v| quantity(v, name)).transpose();
        let optional_u64 = |name: &str| {
            field(object, name)
                .map(|v| quantity_u64(v, name))
                .transpose()
        };
        let request = Self {
            from,
            to,
            gas,
            gas_price: optional_quantity("gasPrice")?,
            max_fee_per_gas: optional_quantity("maxFeePerGas")?,
            max_priority_fee_per_gas: optional_quantity("maxPriorityFeePerGas")?,
            value: optional_quantity("value")?.unwrap_or_default(),
            input,
            nonce: optional_u64("nonce")?,
            chain_id: optional_u64("chainId")?,
            explicit_type: optional_u64("type")?,
            access_list: match field(object, "accessList") {
                Some(value) => access_list(value)?,
                None => Vec::new(),
            },
        };
        request.flavour()?;
        Ok(request)
    }

    /// The transaction type, given or inferred.
    ///
    /// # Errors
    /// Invalid-params errors for types 3 and 4, unknown types, and fee
    /// fields that do not fit the type.
    pub fn flavour(&self) -> Result<TxFlavour, RpcError> {
        let has_1559 = self.max_fee_per_gas.is_some() || self.max_priority_fee_per_gas.is_some();
        let flavour = match self.explicit_type {
            Some(0) => TxFlavour::Legacy,
            Some(1) => TxFlavour::AccessList,
            Some(2) => TxFlavour::DynamicFee,
            Some(3 | 4) => {
                return Err(RpcError::invalid_params(
                    "blob (type 3) and set-code (type 4) transactions are not accepted over JSON-RPC here",
                ))
            }
            Some(other) => {
                return Err(RpcError::invalid_params(format!(
                    "transaction type {other} is unknown"
                )))
            }
            None if has_1559 => TxFlavour::DynamicFee,
            None if self.gas_price.is_some() && !self.access_list.is_empty() => {
                TxFlavour::AccessList
            }
            None if self.gas_price.is_some() => TxFlavour::Legacy,
            // Nothing says: the node fills EIP-1559 fees.
            None => TxFlavour::DynamicFee,
        };
        match flavour {
            TxFlavour::Legacy | TxFlavour::AccessList if has_1559 => Err(RpcError::invalid_params(
                "maxFeePerGas / maxPriorityFeePerGas belong to type-2 transactions",
            )),
            TxFlavour::DynamicFee if self.gas_price.is_some() => Err(RpcError::invalid_params(
                "gasPrice cannot be mixed with EIP-1559 fees",
            )),
            TxFlavour::Legacy if !self.access_list.is_empty() => Err(RpcError::invalid_params(
                "a legacy transaction has no access list",
            )),
            _ => Ok(flavour),
        }
    }

    /// Whether every field needed to sign is there.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        let fees = match self.flavour() {
            Ok(TxFlavour::DynamicFee) => {
                self.max_fee_per_gas.is_some() && self.max_priority_fee_per_gas.is_some()
            }
            Ok(_) => self.gas_price.is_some(),
            Err(_) => false,
        };
        fees && self.gas.is_some() && self.nonce.is_some() && self.chain_id.is_some()
    }

    /// The fields of the request as a call object for `eth_estimateGas`.
    #[must_use]
    pub fn call_object(&self) -> Value {
        let mut object = Map::new();
        object.insert("from".into(), self.from.to_string().into());
        if let Some(to) = self.to {
            object.insert("to".into(), to.to_string().into());
        }
        object.insert(
            "value".into(),
            crate::values::hex_quantity(&self.value).into(),
        );
        object.insert("input".into(), crate::values::hex_bytes(&self.input).into());
        Value::Object(object)
    }

    /// Lends the request to `f` as the core's typed transaction.
    ///
    /// # Errors
    /// Invalid-params errors naming a missing field.
    pub fn with_typed<R>(&self, f: impl FnOnce(&TypedTransaction<'_>) -> R) -> Result<R, RpcError> {
        let missing =
            |name: &str| RpcError::invalid_params(format!("the transaction has no {name}"));
        let nonce = self.nonce.ok_or_else(|| missing("nonce"))?;
        let gas_limit = self.gas.ok_or_else(|| missing("gas"))?;
        let chain_id = self.chain_id.ok_or_else(|| missing("chainId"))?;
        let items: Vec<AccessListItem<'_>> = self
            .access_list
            .iter()
            .map(|(address, keys)| AccessListItem {
                address: *address,
                storage_keys: StorageKeys::from_slice(keys),
            })
            .collect();
        let access_list = AccessList::from_slice(&items);
        let to = self.to.map_or(TxKind::Create, TxKind::Call);
        let tx: TypedTransaction<'_> = match self.flavour()? {
            TxFlavour::Legacy => TypedTransaction::Legacy(TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: self.gas_price.ok_or_else(|| missing("gasPrice"))?,
                gas_limit,
                to,
                value: self.value,
                input: &self.input,
            }),
            TxFlavour::AccessList => TxEip2930 {
                chain_id,
                nonce,
                gas_price: self.gas_price.ok_or_else(|| missing("gasPrice"))?,
                gas_limit,
                to,
                value: self.value,
                input: &self.input,
                access_list,
            }
            .into(),
            TxFlavour::DynamicFee => TxEip1559 {
                chain_id,
                nonce,
                max_priority_fee_per_gas: self
                    .max_priority_fee_per_gas
                    .ok_or_else(|| missing("maxPriorityFeePerGas"))?,
                max_fee_per_gas: self
                    .max_fee_per_gas
                    .ok_or_else(|| missing("maxFeePerGas"))?,
                gas_limit,
                to,
                value: self.value,
                input: &self.input,
                access_list,
            }
            .into(),
        };
        Ok(f(&tx))
    }

    /// The unsigned signing payload the core signs.
    ///
    /// # Errors
    /// A missing field, or a transaction the core cannot encode.
    pub fn signing_payload(&self) -> Result<Vec<u8>, RpcError> {
        self.with_typed(|tx| {
            let mut out = vec![0u8; tx.signing_payload_length()];
            let mut sink = SliceSink::new(&mut out);
            tx.encode_for_signing(&mut sink)
                .map_err(|e| RpcError::invalid_params(format!("transaction: {e}")))?;
            let written = sink
                .finish()
                .map_err(|e| RpcError::invalid_params(format!("transaction: {e}")))?;
            out.truncate(written);
            Ok(out)
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_dynamic_fee_transfer() {
        let request = TransactionRequest::from_json(&json!({
            "from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
            "value": "0xde0b6b3a7640000",
            "gas": "0x5208",
            "maxFeePerGas": "0x3b9aca00",
            "maxPriorityFeePerGas": "0x1",
            "nonce": "0x0",
            "chainId": "0x7a69",
        }))
        .unwrap();
        assert_eq!(request.flavour().unwrap(), TxFlavour::DynamicFee);
        assert!(request.is_complete());
        let payload = request.signing_payload().unwrap();
        assert_eq!(payload[0], 2);
    }

    #[test]
    fn refuses_mixed_fees_unknown_fields_and_blob_types() {
        for bad in [
            json!({"from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "gasPrice": "0x1", "maxFeePerGas": "0x1"}),
            json!({"from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "colour": "blue"}),
            json!({"from": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "type": "0x3"}),
            json!({"to": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"}),
            json!({"from": 5}),
            json!([1, 2]),
        ] {
            assert!(TransactionRequest::from_json(&bad).is_err(), "{bad}");
        }
    }
}
