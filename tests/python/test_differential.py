"""flare_wallet against eth-account, byte for byte: transactions of every type signed with
an imported key, personal messages and EIP-712 typed data."""

from __future__ import annotations

import json
from typing import Any

from conftest import KEY, VECTORS
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from flare_wallet import SecureWalletManager, Vtpm
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st
from tx_strategies import as_eth_account_dict, transactions

BATCH = 8
BATCHES = 130  # 1,040 transactions


def test_a_thousand_transactions_sign_byte_identically(
    imported: SecureWalletManager, eth_account: LocalAccount
) -> None:
    signed = 0
    types_seen: set[int] = set()

    @settings(max_examples=BATCHES)
    @given(st.lists(transactions(sender=eth_account.address), min_size=BATCH, max_size=BATCH))
    def run(batch: list[dict[str, Any]]) -> None:
        nonlocal signed
        for tx in batch:
            ours = imported.sign_transaction(tx)
            theirs = eth_account.sign_transaction(as_eth_account_dict(tx)).raw_transaction
            assert ours == theirs, tx
            types_seen.add(ours[0] if ours[0] < 0x80 else 0)
            signed += 1

    run()
    assert signed >= 1000
    assert types_seen == {0, 1, 2, 3, 4}


def test_strict_mode_signs_the_same_bytes(vtpm: Vtpm, eth_account: LocalAccount) -> None:
    with SecureWalletManager(None, vtpm, key_mode="strict") as strict:
        strict.import_private_key(KEY)

        @settings(max_examples=25)
        @given(transactions())
        def run(tx: dict[str, Any]) -> None:
            ours = strict.sign_transaction(tx)
            assert ours == eth_account.sign_transaction(as_eth_account_dict(tx)).raw_transaction

        run()


@settings(max_examples=200)
@given(message=st.one_of(st.text(max_size=200), st.binary(max_size=300)))
def test_messages_sign_identically(
    message: str | bytes, imported: SecureWalletManager, eth_account: LocalAccount
) -> None:
    signable = encode_defunct(text=message) if isinstance(message, str) else encode_defunct(message)
    expected = eth_account.sign_message(signable)
    assert imported.sign_message(message) == expected
    assert imported.sign_message(signable) == expected


MAIL = json.loads((VECTORS / "eip712/mail.json").read_text())


def test_eip712_mail_vector(vtpm: Vtpm) -> None:
    full_message = {k: MAIL[k] for k in ("domain", "types", "primaryType", "message")}
    expected = MAIL["expected"]
    with SecureWalletManager(None, vtpm) as manager:
        assert manager.import_private_key(MAIL["private_key"]) == expected["address"]
        signed = manager.sign_typed_data(full_message)
    assert signed.message_hash == HexBytes(expected["digest"])
    assert signed.signature == HexBytes(expected["signature"])
    assert (signed.v, hex(signed.r), hex(signed.s)) == (
        expected["v"],
        hex(int(expected["r"], 16)),
        hex(int(expected["s"], 16)),
    )
    assert signed == Account.sign_typed_data(MAIL["private_key"], full_message=full_message)


names = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)


@st.composite
def typed_data(draw: st.DrawFn) -> dict[str, Any]:
    """A random EIP-712 message over a struct of simple fields (and one nested struct)."""
    fields = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    kinds = ["uint256", "address", "bool", "string", "bytes32", "bytes", "int64"]
    values: dict[str, Any] = {}
    types: list[dict[str, str]] = []
    for field in fields:
        kind = draw(st.sampled_from(kinds))
        types.append({"name": field, "type": kind})
        values[field] = draw(
            {
                "uint256": st.integers(0, 2**256 - 1),
                "address": st.binary(min_size=20, max_size=20).map(
                    lambda b: Account.from_key(b"\x01" * 12 + b).address
                ),
                "bool": st.booleans(),
                "string": st.text(max_size=30),
                "bytes32": st.binary(min_size=32, max_size=32),
                "bytes": st.binary(max_size=40),
                "int64": st.integers(-(2**63), 2**63 - 1),
            }[kind]
        )
    types.append({"name": "inner", "type": "Inner"})
    values["inner"] = {"note": draw(st.text(max_size=10))}
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "Outer": types,
            "Inner": [{"name": "note", "type": "string"}],
        },
        "primaryType": "Outer",
        "domain": {"name": draw(st.text(max_size=12)), "chainId": draw(st.integers(1, 2**40))},
        "message": values,
    }


@settings(max_examples=60)
@given(message=typed_data())
def test_typed_data_signs_identically(
    message: dict[str, Any], imported: SecureWalletManager, eth_account: LocalAccount
) -> None:
    expected = eth_account.sign_message(encode_typed_data(full_message=message))
    assert imported.sign_typed_data(message) == expected
    assert (
        imported.sign_typed_data(
            domain_data=message["domain"],
            message_types={k: v for k, v in message["types"].items() if k != "EIP712Domain"},
            message_data=message["message"],
        )
        == expected
    )
