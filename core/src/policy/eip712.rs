//! The EIP-712 domain, kept as fields so the policy can check it, and its
//! separator.

use crate::keccak::{keccak256, Keccak256};
use crate::signer::{eip712_hash, Address};
use crate::tx::U256;

/// An EIP-712 domain (`EIP712Domain`): each field optional, as in the EIP.
///
/// The domain's type is made of the fields present, in the EIP's order
/// (`name`, `version`, `chainId`, `verifyingContract`, `salt`), so a domain
/// with only a name and a chain id has the type
/// `EIP712Domain(string name,uint256 chainId)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Eip712Domain<'a> {
    /// The dApp or protocol name (`string name`).
    pub name: Option<&'a str>,
    /// The signing domain's major version (`string version`).
    pub version: Option<&'a str>,
    /// The chain id (`uint256 chainId`).
    pub chain_id: Option<U256>,
    /// The contract that verifies the signature (`address verifyingContract`).
    pub verifying_contract: Option<Address>,
    /// A disambiguating salt (`bytes32 salt`).
    pub salt: Option<[u8; 32]>,
}

impl Eip712Domain<'_> {
    /// `keccak256` of the domain's type string, e.g.
    /// `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`.
    #[must_use]
    pub fn type_hash(&self) -> [u8; 32] {
        let members: [(bool, &str); 5] = [
            (self.name.is_some(), "string name"),
            (self.version.is_some(), "string version"),
            (self.chain_id.is_some(), "uint256 chainId"),
            (
                self.verifying_contract.is_some(),
                "address verifyingContract",
            ),
            (self.salt.is_some(), "bytes32 salt"),
        ];
        let mut hasher = Keccak256::new();
        hasher.update(b"EIP712Domain(");
        let mut first = true;
        for (_, member) in members.iter().filter(|(present, _)| *present) {
            if !first {
                hasher.update(b",");
            }
            hasher.update(member.as_bytes());
            first = false;
        }
        hasher.update(b")");
        hasher.finalize()
    }

    /// The domain separator: `hashStruct(domain)`, the type hash followed by
    /// each present field encoded as EIP-712 `encodeData` does (strings as
    /// their keccak256, the chain id as 32 bytes, the address left-padded to
    /// 32 bytes, the salt as it is).
    #[must_use]
    pub fn separator(&self) -> [u8; 32] {
        let mut hasher = Keccak256::new();
        hasher.update(&self.type_hash());
        if let Some(name) = self.name {
            hasher.update(&keccak256(name.as_bytes()));
        }
        if let Some(version) = self.version {
            hasher.update(&keccak256(version.as_bytes()));
        }
        if let Some(chain_id) = self.chain_id {
            hasher.update(&chain_id.0);
        }
        if let Some(contract) = self.verifying_contract {
            hasher.update(&[0u8; 12]);
            hasher.update(&contract.0);
        }
        if let Some(salt) = self.salt {
            hasher.update(&salt);
        }
        hasher.finalize()
    }

    /// The digest signed for a message of this domain:
    /// `keccak256(0x19 0x01 || separator || struct_hash)`.
    #[must_use]
    pub fn signing_hash(&self, struct_hash: &[u8; 32]) -> [u8; 32] {
        eip712_hash(&self.separator(), struct_hash)
    }
}
