//! Variable-length transaction lists (access lists, storage keys, blob hashes,
//! authorizations) that never allocate.
//!
//! An [`ItemList`] is either a caller's slice (when building a transaction)
//! or a borrowed view over RLP that was fully validated when the transaction
//! was decoded. Both iterate the same way, compare equal when their elements
//! are equal, and encode to the same bytes.

use core::fmt;
use core::marker::PhantomData;

use crate::rlp::{self, Encodable, RlpError, RlpSink};
use crate::signer::Address;

/// A 32-byte word: a storage key or a blob versioned hash.
pub type B256 = [u8; 32];

/// An element that can live in an [`ItemList`].
pub trait ListElement<'a>: Sized + Copy + Encodable {
    /// Reads one element in canonical RLP.
    ///
    /// # Errors
    /// Any [`RlpError`] for a malformed element.
    fn decode_element(buf: &mut &'a [u8]) -> Result<Self, RlpError>;
}

impl ListElement<'_> for B256 {
    fn decode_element(buf: &mut &[u8]) -> Result<Self, RlpError> {
        rlp::decode_fixed::<32>(buf)
    }
}

enum Repr<'a, T> {
    Slice(&'a [T]),
    /// A list payload whose `len` elements all decoded cleanly.
    Rlp {
        payload: &'a [u8],
        len: usize,
    },
}

/// A list of `T`: a caller's slice, or a validated view over RLP.
pub struct ItemList<'a, T> {
    repr: Repr<'a, T>,
}

impl<'a, T> ItemList<'a, T> {
    /// An empty list.
    pub const EMPTY: Self = Self {
        repr: Repr::Slice(&[]),
    };

    /// The list holding the elements of `items`.
    #[must_use]
    pub const fn from_slice(items: &'a [T]) -> Self {
        Self {
            repr: Repr::Slice(items),
        }
    }

    /// The number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::Slice(items) => items.len(),
            Repr::Rlp { len, .. } => len,
        }
    }

    /// Whether the list has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a, T: ListElement<'a>> ItemList<'a, T> {
    /// Reads an RLP list of `T`, validating every element, and keeps a view
    /// over it.
    ///
    /// # Errors
    /// [`RlpError::UnexpectedString`] if the item is not a list, or the first
    /// error of any element.
    pub fn decode(buf: &mut &'a [u8]) -> Result<Self, RlpError> {
        let payload = rlp::decode_list(buf)?;
        let mut cursor = payload;
        let mut len = 0usize;
        while !cursor.is_empty() {
            T::decode_element(&mut cursor)?;
            len += 1;
        }
        Ok(Self {
            repr: Repr::Rlp { payload, len },
        })
    }

    /// The elements in order.
    #[must_use]
    pub fn iter(&self) -> ItemIter<'a, T> {
        ItemIter {
            repr: match self.repr {
                Repr::Slice(items) => Repr::Slice(items),
                Repr::Rlp { payload, len } => Repr::Rlp { payload, len },
            },
            _element: PhantomData,
        }
    }

    fn payload_length(&self) -> usize {
        match self.repr {
            Repr::Slice(items) => items
                .iter()
                .fold(0usize, |acc, item| acc.saturating_add(item.length())),
            Repr::Rlp { payload, .. } => payload.len(),
        }
    }
}

impl<'a, T: ListElement<'a>> Encodable for ItemList<'a, T> {
    fn length(&self) -> usize {
        let payload = self.payload_length();
        rlp::list_header_length(payload).saturating_add(payload)
    }

    fn encode(&self, out: &mut dyn RlpSink) {
        rlp::encode_list_header(self.payload_length(), out);
        match self.repr {
            Repr::Slice(items) => {
                for item in items {
                    item.encode(out);
                }
            }
            // Validated canonical RLP re-encodes to itself.
            Repr::Rlp { payload, .. } => out.put(payload),
        }
    }
}

impl<T> Clone for ItemList<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ItemList<'_, T> {}

impl<T> Clone for Repr<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Repr<'_, T> {}

impl<T> Default for ItemList<'_, T> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<'a, T> From<&'a [T]> for ItemList<'a, T> {
    fn from(items: &'a [T]) -> Self {
        Self::from_slice(items)
    }
}

impl<'a, T: ListElement<'a> + PartialEq> PartialEq for ItemList<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: ListElement<'a> + Eq> Eq for ItemList<'a, T> {}

impl<'a, T: ListElement<'a> + fmt::Debug> fmt::Debug for ItemList<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: ListElement<'a>> IntoIterator for ItemList<'a, T> {
    type Item = T;
    type IntoIter = ItemIter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`ItemList`], yielding elements by value.
pub struct ItemIter<'a, T> {
    repr: Repr<'a, T>,
    _element: PhantomData<T>,
}

impl<'a, T: ListElement<'a>> Iterator for ItemIter<'a, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match &mut self.repr {
            Repr::Slice(items) => {
                let (first, rest) = items.split_first()?;
                *items = rest;
                Some(*first)
            }
            Repr::Rlp { payload, len } => {
                if payload.is_empty() {
                    return None;
                }
                // The payload was validated when the list was decoded, so this
                // cannot fail; if it somehow did, the iteration just ends.
                match T::decode_element(payload) {
                    Ok(item) => {
                        *len = len.saturating_sub(1);
                        Some(item)
                    }
                    Err(_) => {
                        *payload = &[];
                        None
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = match self.repr {
            Repr::Slice(items) => items.len(),
            Repr::Rlp { len, .. } => len,
        };
        (remaining, Some(remaining))
    }
}

impl<'a, T: ListElement<'a>> ExactSizeIterator for ItemIter<'a, T> {}

/// The storage keys of one access-list entry.
pub type StorageKeys<'a> = ItemList<'a, B256>;

/// One EIP-2930 access-list entry: an address and the storage keys it warms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessListItem<'a> {
    /// The account.
    pub address: Address,
    /// Its storage keys.
    pub storage_keys: StorageKeys<'a>,
}

impl AccessListItem<'_> {
    fn payload_length(&self) -> usize {
        21usize.saturating_add(self.storage_keys.length())
    }
}

impl Encodable for AccessListItem<'_> {
    fn length(&self) -> usize {
        let payload = self.payload_length();
        rlp::list_header_length(payload).saturating_add(payload)
    }

    fn encode(&self, out: &mut dyn RlpSink) {
        rlp::encode_list_header(self.payload_length(), out);
        self.address.encode(out);
        self.storage_keys.encode(out);
    }
}

impl<'a> ListElement<'a> for AccessListItem<'a> {
    fn decode_element(buf: &mut &'a [u8]) -> Result<Self, RlpError> {
        let mut fields = rlp::decode_list(buf)?;
        let address = rlp::decode_address(&mut fields)?;
        let storage_keys = StorageKeys::decode(&mut fields)?;
        rlp::expect_end(fields)?;
        Ok(Self {
            address,
            storage_keys,
        })
    }
}

/// An EIP-2930 access list.
pub type AccessList<'a> = ItemList<'a, AccessListItem<'a>>;

/// The blob versioned hashes of an EIP-4844 transaction.
pub type BlobVersionedHashes<'a> = ItemList<'a, B256>;
