//! The strict RLP decoder over arbitrary bytes, against the `rlp` crate.
//!
//! The input is walked as one whole RLP tree with `rlp::Item::decode`
//! (descending into every list payload). Whenever the core accepts, encoding
//! the tree again with `encode_bytes` / `encode_list_header` must give back
//! the input byte for byte: the decoder accepts the canonical form only.
//!
//! The accept/reject decision is compared with `rlp` 0.6.1 walking the same
//! tree. That crate's views are lazy and do fewer checks than the core on
//! their own, so the walk asks it for each check explicitly:
//! - Trailing bytes after the top-level item: its `Rlp` view never looks past
//!   the first item; the walk compares `payload_info().total()` with the
//!   input length itself.
//! - `0x81 b` with `b < 0x80` (a single byte wrapped in a string header): its
//!   structural walk (`payload_info`, `at`, `iter`) accepts it and only
//!   `decode_value` refuses it; the walk calls `decode_value` on every string.
//! - Items inside a list payload are walked one after the other with
//!   `payload_info`, which bounds each item by what is left of the payload.
//!
//! With those explicit, both crates must agree on every input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::rlp::{encode_bytes, encode_list_header, Item, RlpSink};

/// Collects the re-encoding.
struct VecSink(Vec<u8>);

impl RlpSink for VecSink {
    fn put(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The core: the whole of `buf` as a sequence of items, each walked down.
/// Returns the re-encoding of the sequence.
fn core_walk(mut buf: &[u8]) -> Option<Vec<u8>> {
    let mut out = VecSink(Vec::new());
    while !buf.is_empty() {
        match Item::decode(&mut buf).ok()? {
            Item::Bytes(payload) => encode_bytes(payload, &mut out),
            Item::List(payload) => {
                let inner = core_walk(payload)?;
                encode_list_header(inner.len(), &mut out);
                out.put(&inner);
            }
        }
    }
    Some(out.0)
}

/// The `rlp` crate: the whole of `buf` as a sequence of items, each walked down.
fn parity_walk(mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        let view = rlp::Rlp::new(buf);
        let Ok(info) = view.payload_info() else {
            return false;
        };
        let (item, rest) = buf.split_at(info.total());
        let nested = rlp::Rlp::new(item);
        let ok = if nested.is_list() {
            parity_walk(&item[info.header_len..])
        } else {
            nested.decoder().decode_value(|_| Ok(())).is_ok()
        };
        if !ok {
            return false;
        }
        buf = rest;
    }
    true
}

fuzz_target!(|data: &[u8]| {
    // One item, nothing after it, in both decoders.
    let core = {
        let mut buf = data;
        match Item::decode(&mut buf) {
            Ok(_) if buf.is_empty() => core_walk(data),
            _ => None,
        }
    };
    let parity = !data.is_empty()
        && rlp::Rlp::new(data)
            .payload_info()
            .is_ok_and(|info| info.total() == data.len())
        && parity_walk(data);
    assert_eq!(
        core.is_some(),
        parity,
        "the core and the rlp crate disagree on {data:02x?}"
    );
    if let Some(encoded) = core {
        assert_eq!(encoded, data, "re-encoding changed an accepted input");
    }
});
