"""Token rules end to end on anvil, against the project's assembled ERC-20 style contract
(``approve`` / ``allowance``, flare_wallet._demo_contract) deployed in the test by
anvil's first dev account: an approval within the token's rule is mined and the
allowance on chain is what was approved; an unlimited approval, an approval to an
unlisted spender and a transfer to an unlisted recipient are refused by the core
before anything reaches the chain (the account's nonce does not move)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import KEY
from eth_account import Account
from flare_wallet import PolicyViolation, SecureWalletManager, Vtpm
from flare_wallet._demo_contract import ABI, INIT_CODE

SPENDER = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3333333333333333333333333333333333333333"


def test_approvals_are_mined_or_refused_as_the_token_rule_says(
    vtpm: Vtpm, web3: Any, fund: Callable[[str, int], None]
) -> None:
    deployed = web3.eth.wait_for_transaction_receipt(
        web3.eth.send_transaction({"from": web3.eth.accounts[0], "data": INIT_CODE})
    )
    assert deployed["status"] == 1
    token_address = deployed["contractAddress"]
    token = web3.eth.contract(address=token_address, abi=ABI)
    policy = {
        "default": "deny",
        "chain_ids": [web3.eth.chain_id],
        "tokens": {
            token_address: {
                "max_amount": 1000,
                "recipients_allow": [FRIEND],
                "spenders_allow": [SPENDER],
            }
        },
    }
    with SecureWalletManager(web3, vtpm, policy=policy) as manager:
        manager.import_private_key(KEY)
        owner = Account.from_key(KEY).address
        fund(owner, 10**18)
        base = int(web3.eth.get_block("latest")["baseFeePerGas"])

        def tx(data: str) -> dict[str, Any]:
            return {
                "to": token_address,
                "data": data,
                "value": 0,
                "nonce": web3.eth.get_transaction_count(owner),
                "gas": 100_000,
                "maxFeePerGas": 2 * base + 10**9,
                "maxPriorityFeePerGas": 10**9,
            }

        def approve(spender: str, amount: int) -> dict[str, Any]:
            return tx(token.encode_abi("approve", args=[spender, amount]))

        capped = manager.sign_transaction(approve(SPENDER, 1000))
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(capped))
        assert receipt["status"] == 1
        assert token.functions.allowance(owner, SPENDER).call() == 1000

        nonce = web3.eth.get_transaction_count(owner)
        refused = {
            "tokens.allow_unlimited_approval": approve(SPENDER, 2**256 - 1),
            "tokens.spenders_allow": approve(STRANGER, 5),
            "tokens.recipients_allow": tx(
                "0xa9059cbb" + STRANGER[2:].lower().rjust(64, "0") + f"{5:064x}"
            ),
        }
        for rule, request in refused.items():
            assert manager.check_transaction(request)["rules"] == [rule]
            with pytest.raises(PolicyViolation) as raised:
                manager.sign_transaction(request)
            assert raised.value.rule == rule
        assert web3.eth.get_transaction_count(owner) == nonce
        assert token.functions.allowance(owner, STRANGER).call() == 0
        # A revocation (approval of 0) is always allowed, and mined.
        revoke = manager.sign_transaction(approve(SPENDER, 0))
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(revoke))
        assert receipt["status"] == 1
        assert token.functions.allowance(owner, SPENDER).call() == 0
