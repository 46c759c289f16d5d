"""Transaction dicts read by the Rust core: the same signing hash as eth-account, and a
clear InvalidTransaction for every malformed dict (no TPM needed here)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account._utils.legacy_transactions import (
    serializable_unsigned_transaction_from_dict,
)
from eth_utils import keccak
from flare_wallet import InvalidTransaction, WalletError, signing_hash, signing_payload
from hypothesis import given, settings
from hypothesis import strategies as st
from tx_strategies import (
    MAX_CHAIN_ID,
    TX_TYPES,
    UINT64_MAX,
    UINT256_MAX,
    as_eth_account_dict,
    malformed_transactions,
    transactions,
)

RECIPIENT = "0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"
BASE = {"nonce": 0, "gas": 21000, "to": RECIPIENT, "value": 1, "chainId": 1}


def eth_account_hash(tx: dict[str, Any]) -> bytes:
    unsigned = serializable_unsigned_transaction_from_dict(as_eth_account_dict(tx))
    return bytes(unsigned.hash())


@settings(max_examples=400)
@given(transactions())
def test_signing_hash_matches_eth_account(tx: dict[str, Any]) -> None:
    assert signing_hash(tx) == eth_account_hash(tx)


@settings(max_examples=100)
@given(transactions())
def test_signing_payload_is_what_gets_hashed(tx: dict[str, Any]) -> None:
    payload = signing_payload(tx)
    assert keccak(payload) == signing_hash(tx)
    kind = payload[0] if payload[0] < 0x80 else 0
    assert kind in TX_TYPES


@pytest.mark.parametrize("tx_type", TX_TYPES)
@settings(max_examples=20)
@given(data=st.data())
def test_type_is_inferred_as_eth_account_infers_it(tx_type: int, data: st.DataObject) -> None:
    tx = data.draw(transactions(tx_type=tx_type))
    tx.pop("type", None)
    if tx_type == 1:
        tx.setdefault("accessList", [])  # gasPrice + accessList is what says type 1
    payload = signing_payload(tx)
    assert (payload[0] if payload[0] < 0x80 else 0) == tx_type


def test_missing_chain_id_is_filled_only_when_given() -> None:
    tx = dict(BASE, gasPrice=1)
    del tx["chainId"]
    with pytest.raises(InvalidTransaction, match="chainId is missing"):
        signing_payload(tx)
    assert signing_hash(tx, chain_id=5) == eth_account_hash(dict(tx, chainId=5))
    # A chainId in the dict wins over the fallback.
    assert signing_hash(dict(tx, chainId=7), chain_id=5) == eth_account_hash(dict(tx, chainId=7))


def test_a_mapping_that_is_not_a_dict_is_read() -> None:
    from web3.datastructures import AttributeDict

    tx = dict(BASE, maxFeePerGas=2, maxPriorityFeePerGas=1)
    assert signing_hash(AttributeDict(tx)) == eth_account_hash(tx)


def test_input_is_calldata_like_data() -> None:
    tx = dict(BASE, gasPrice=1)
    assert signing_hash(dict(tx, input="0xabcd")) == signing_hash(dict(tx, data=b"\xab\xcd"))
    with pytest.raises(InvalidTransaction, match="either 'data' or 'input'"):
        signing_hash(dict(tx, input="0xabcd", data="0xabcd"))


@pytest.mark.parametrize(
    ("tx", "message"),
    [
        (dict(BASE, gasPrice=1, maxFeePerGas=2), "gasPrice cannot be combined"),
        (dict(BASE, type=2, gasPrice=1), "gasPrice cannot be combined"),
        (dict(BASE, type=1, maxFeePerGas=1), "'maxFeePerGas' does not belong"),
        (dict(BASE, gasPrice=1, authorizationList=[]), "'authorizationList' does not belong"),
        (dict(BASE, gasLimit=21000, gasPrice=1), "the gas limit is called 'gas'"),
        (dict(BASE, gasPrice=1, chainId=0), "chain id 0"),
        (dict(BASE, gasPrice=2**256), "below 2\\*\\*256"),
        (dict(BASE, gasPrice=-1), "must not be negative"),
        (dict(BASE, gasPrice=1, nonce=2**64), "below 2\\*\\*64"),
        (dict(BASE, gasPrice=1, data="0x123"), "odd number of hex digits"),
        (dict(BASE, gasPrice=1, data="abcd"), "0x-prefixed"),
        (dict(BASE, gasPrice=True), "not a bool"),
        (dict(BASE, gasPrice="12"), "0x-prefixed hex"),
        (dict(BASE, gasPrice=1, to=RECIPIENT.lower()), "checksummed address"),
        (dict(BASE, maxFeePerGas=1, maxPriorityFeePerGas=1, authorizationList=[]), "empty"),
        ({"nonce": 0, "gas": 1, "chainId": 1, "maxFeePerGas": 1}, "needs maxPriorityFeePerGas"),
        (dict(BASE, type=5, gasPrice=1), "type must be"),
        (
            dict(
                BASE,
                to=None,
                maxFeePerGas=1,
                maxPriorityFeePerGas=1,
                maxFeePerBlobGas=1,
                blobVersionedHashes=["0x01" + "00" * 31],
            ),
            "'to' is required",
        ),
    ],
)
def test_documented_refusals(tx: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidTransaction, match=message):
        signing_payload(tx)


def test_invalid_transaction_is_a_value_error_and_a_wallet_error() -> None:
    with pytest.raises(ValueError, match="unknown transaction field"):
        signing_payload(dict(BASE, gasPrice=1, colour="blue"))
    assert issubclass(InvalidTransaction, WalletError)


@settings(max_examples=600)
@given(malformed_transactions())
def test_malformed_dicts_raise_invalid_transaction(case: tuple[str, Any]) -> None:
    how, tx = case
    with pytest.raises(InvalidTransaction) as raised:
        signing_payload(tx)
    assert str(raised.value), f"no message for a dict with {how}"


def test_extreme_valid_values_are_accepted() -> None:
    tx = dict(BASE, gasPrice=UINT256_MAX, value=hex(UINT256_MAX), nonce=UINT64_MAX)
    tx["gas"] = UINT64_MAX
    tx["chainId"] = MAX_CHAIN_ID
    assert signing_hash(tx) == eth_account_hash(tx)


def test_from_must_name_the_sender() -> None:
    sender = "0x5ce9454909639D2D17A3F753ce7d93fa0b9aB12E"
    tx = dict(BASE, gasPrice=1, **{"from": sender})
    assert signing_hash(tx, sender=sender) == eth_account_hash(dict(BASE, gasPrice=1))
    assert signing_hash(dict(tx, **{"from": sender.lower()}), sender=sender)
    with pytest.raises(InvalidTransaction, match="'from' is 0x09616C3d"):
        signing_hash(dict(tx, **{"from": RECIPIENT}), sender=sender)


def _case_variants(checksummed: str) -> list[str]:
    """Spellings of one address: its checksum, all lower, all upper, one letter's case
    flipped, and the checksum digits behind a '0X' prefix."""
    digits = checksummed[2:]
    variants = [checksummed, "0x" + digits.lower(), "0x" + digits.upper(), "0X" + digits]
    letters = [i for i, c in enumerate(digits) if c.isalpha()]
    if letters:
        i = letters[0]
        variants.append("0x" + digits[:i] + digits[i].swapcase() + digits[i + 1 :])
    return variants


@settings(max_examples=300)
@given(st.binary(min_size=20, max_size=20) | st.sampled_from([b"\x00" * 19 + b"\x01"]))
def test_to_is_accepted_exactly_in_its_checksum_form(raw: bytes) -> None:
    """'to' follows eth-utils' is_checksum_address, for every spelling of an address
    (including the ones whose checksum form has letters of a single case)."""
    from eth_utils import is_checksum_address, to_checksum_address

    for text in _case_variants(to_checksum_address(raw)):
        tx = dict(BASE, gasPrice=1, to=text)
        if is_checksum_address(text):
            assert signing_hash(tx) == eth_account_hash(tx)
        else:
            with pytest.raises(InvalidTransaction):
                signing_hash(tx)
