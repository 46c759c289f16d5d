"""End to end on anvil: a TPM-sealed account sends a transfer of every transaction type,
each is mined with status 1, and every balance moves by exactly what it should."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_account.typed_transactions.base import Blob, BlobPooledTransactionData
from flare_wallet import SecureWalletManager, Vtpm
from hexbytes import HexBytes

RECIPIENT = "0x000000000000000000000000000000000000bEEF"


@pytest.fixture
def funded(
    vtpm: Vtpm, web3: Any, fund: Callable[[str, int], None]
) -> Iterator[SecureWalletManager]:
    with SecureWalletManager(web3, vtpm) as manager:
        fund(manager.create_account(), 10 * 10**18)
        yield manager


def fees(web3: Any) -> dict[str, int]:
    base = int(web3.eth.get_block("latest")["baseFeePerGas"])
    return {"maxFeePerGas": 2 * base + 10**9, "maxPriorityFeePerGas": 10**9}


def with_blob_sidecar(signed: bytes, sidecar: BlobPooledTransactionData) -> bytes:
    """The network form of a blob transaction: the signed body and its blobs, commitments
    and proofs (EIP-4844). The signature covers only the body, which the core produced."""
    body = rlp.decode(signed[1:])
    return b"\x03" + rlp.encode(
        [
            body,
            [blob.as_bytes() for blob in sidecar.blobs],
            [c.as_bytes() for c in sidecar.commitments],
            [p.as_bytes() for p in sidecar.proofs],
        ]
    )


@pytest.mark.parametrize("tx_type", [0, 1, 2, 3, 4])
def test_a_transfer_of_each_type_is_mined(
    tx_type: int, funded: SecureWalletManager, web3: Any
) -> None:
    sender = funded.address
    assert sender is not None
    value = 10**15 + tx_type
    tx: dict[str, Any] = {
        "to": RECIPIENT,
        "value": value,
        "nonce": web3.eth.get_transaction_count(sender),
        "chainId": web3.eth.chain_id,
        "gas": 100_000,
    }
    sidecar = None
    authority = None
    if tx_type in (0, 1):
        tx["gasPrice"] = 2 * int(web3.eth.gas_price)
        if tx_type == 1:
            tx["accessList"] = [{"address": RECIPIENT, "storageKeys": ["0x01"]}]
    else:
        tx.update(fees(web3))
    if tx_type == 3:
        sidecar = BlobPooledTransactionData(blobs=[Blob(data=HexBytes(b"\x00" * 4096 * 32))])
        tx["maxFeePerBlobGas"] = 10**9
        tx["blobVersionedHashes"] = [h.as_bytes() for h in sidecar.versioned_hashes]
    if tx_type == 4:
        authority = Account.create()
        tx["authorizationList"] = [
            authority.sign_authorization(
                {"chainId": web3.eth.chain_id, "address": RECIPIENT, "nonce": 0}
            )
        ]

    sender_before = web3.eth.get_balance(sender)
    recipient_before = web3.eth.get_balance(RECIPIENT)
    signed = funded.sign_transaction(tx)
    assert (signed[0] if signed[0] < 0x80 else 0) == tx_type
    raw = with_blob_sidecar(signed, sidecar) if sidecar is not None else signed
    receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(raw))

    assert receipt["status"] == 1
    assert receipt["type"] == tx_type
    assert receipt["from"] == sender
    cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    if tx_type == 3:
        cost += receipt["blobGasUsed"] * receipt["blobGasPrice"]
    assert web3.eth.get_balance(sender) == sender_before - value - cost
    assert web3.eth.get_balance(RECIPIENT) == recipient_before + value
    if authority is not None:
        # EIP-7702: the authority's code now delegates to the authorized address.
        assert bytes(web3.eth.get_code(authority.address)) == b"\xef\x01\x00" + bytes.fromhex(
            RECIPIENT[2:]
        )


def test_contract_creation_and_call(funded: SecureWalletManager, web3: Any) -> None:
    from flare_wallet._demo_contract import ABI, INIT_CODE, RUNTIME_CODE

    sender = funded.address
    deploy = {
        "data": INIT_CODE,
        "gas": 200_000,
        "nonce": web3.eth.get_transaction_count(sender),
        **fees(web3),
    }
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(funded.sign_transaction(deploy))
    )
    assert receipt["status"] == 1
    contract = receipt["contractAddress"]
    assert bytes(web3.eth.get_code(contract)) == RUNTIME_CODE

    token = web3.eth.contract(address=contract, abi=ABI)
    spender = web3.eth.accounts[3]
    call = token.functions.approve(spender, 12345).build_transaction(
        {"from": sender, "nonce": web3.eth.get_transaction_count(sender)}
    )
    receipt = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_raw_transaction(funded.sign_transaction(call))
    )
    assert receipt["status"] == 1
    (event,) = token.events.Approval().process_receipt(receipt)
    assert (event["args"]["owner"], event["args"]["spender"], event["args"]["value"]) == (
        sender,
        spender,
        12345,
    )
    assert token.functions.allowance(sender, spender).call() == 12345
