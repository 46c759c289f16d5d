"""Token rules end to end on anvil, against the project's assembled ERC-20 style contract
(``approve`` / ``allowance``, flare_wallet._demo_contract) deployed in the test by
anvil's first dev account: an approval within the token's rule is mined and the
allowance on chain is what was approved; an unlimited approval, an approval to an
unlisted spender and a transfer to an unlisted recipient are refused by the core
before anything reaches the chain (the account's nonce does not move)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import KEY, ROOT
from eth_account import Account
from flare_wallet import PolicyViolation, SecureWalletManager, Vtpm
from flare_wallet._demo_contract import ABI, INIT_CODE
from permits import eip2612_permit_document

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
    with SecureWalletManager(web3, vtpm, policy=policy, key_lock="none") as manager:
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


# ----------------------------------------------------------------- a real ERC-20 and Permit2

CONTRACTS = ROOT / "tests/contracts"
NODE_MODULES = ROOT / "tools/node/node_modules"


@pytest.fixture(scope="session")
def contracts() -> dict[str, Any]:
    """PermitToken (tests/contracts, an ERC-20 with EIP-2612 permit) and Uniswap's Permit2
    (tests/contracts/permit2), compiled by solc-js from tools/node. The output is kept in
    target/contracts under the hash of the sources and the compiler, so only a change
    compiles again (Permit2 needs the IR pipeline: about a minute on two cores)."""
    solc = NODE_MODULES / "solc/package.json"
    assert solc.exists(), "solc-js is missing: run make deps-node"
    digest = hashlib.sha256(solc.read_bytes())
    for path in sorted(CONTRACTS.rglob("*")):
        if path.is_file() and path.suffix in {".sol", ".cjs"}:
            digest.update(str(path.relative_to(CONTRACTS)).encode() + b"\0" + path.read_bytes())
    cache = ROOT / "target/contracts" / f"{digest.hexdigest()}.json"
    if not cache.exists():
        compiled = subprocess.run(
            ["node", str(CONTRACTS / "compile.cjs"), str(NODE_MODULES)],
            capture_output=True,
            check=True,
            timeout=600,
        ).stdout
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(compiled)
        partial.replace(cache)
    result: dict[str, Any] = json.loads(cache.read_text())
    return result


def deploy(web3: Any, compiled: dict[str, Any], *args: Any) -> Any:
    factory = web3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": web3.eth.accounts[0]})
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return web3.eth.contract(address=receipt["contractAddress"], abi=compiled["abi"])


def eip2612_permit(token: Any, chain_id: int, message: dict[str, Any]) -> dict[str, Any]:
    domain = {
        "name": token.functions.name().call(),
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": token.address,
    }
    return eip2612_permit_document(domain, message)


def permit_single(permit2: Any, chain_id: int, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "PermitSingle": [
                {"name": "details", "type": "PermitDetails"},
                {"name": "spender", "type": "address"},
                {"name": "sigDeadline", "type": "uint256"},
            ],
            "PermitDetails": [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint160"},
                {"name": "expiration", "type": "uint48"},
                {"name": "nonce", "type": "uint48"},
            ],
        },
        "primaryType": "PermitSingle",
        "domain": {"name": "Permit2", "chainId": chain_id, "verifyingContract": permit2.address},
        "message": message,
    }


PERMIT_SINGLE = "permit(address,((address,uint160,uint48,uint48),address,uint256),bytes)"


def test_a_real_erc20_and_permit2_are_mined_or_refused_as_the_policy_says(
    vtpm: Vtpm, web3: Any, fund: Callable[[str, int], None], contracts: dict[str, Any]
) -> None:
    supply = 10**24
    token = deploy(web3, contracts["PermitToken"], "Flare Test Token", "FTT", supply)
    permit2 = deploy(web3, contracts["Permit2"])
    chain_id = web3.eth.chain_id
    submitter = web3.eth.accounts[1]  # another account: submits what the wallet signed
    unit = 10**18
    policy = {
        "default": "deny",
        "chain_ids": [chain_id],
        "tokens": {
            token.address: {
                "max_amount": str(1000 * unit),
                "recipients_allow": [FRIEND],
                "spenders_allow": [permit2.address, submitter],
            }
        },
        "permit_max_lifetime_seconds": 3600,
    }
    with SecureWalletManager(web3, vtpm, policy=policy, key_lock="none") as manager:
        manager.import_private_key(KEY)
        owner = Account.from_key(KEY).address
        fund(owner, 10**18)
        dev = web3.eth.accounts[0]
        token.functions.transfer(owner, 5000 * unit).transact({"from": dev})
        base = int(web3.eth.get_block("latest")["baseFeePerGas"])

        def now() -> int:
            return max(int(time.time()), int(web3.eth.get_block("latest")["timestamp"]))

        def call(contract: Any, data: str) -> dict[str, Any]:
            return {
                "to": contract.address,
                "data": data,
                "value": 0,
                "nonce": web3.eth.get_transaction_count(owner),
                "gas": 200_000,
                "maxFeePerGas": 2 * base + 10**9,
                "maxPriorityFeePerGas": 10**9,
            }

        def mine(request: dict[str, Any]) -> None:
            signed = manager.sign_transaction(request)
            receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(signed))
            assert receipt["status"] == 1

        def refuse(rule: str, request: dict[str, Any]) -> None:
            nonce = web3.eth.get_transaction_count(owner)
            assert manager.check_transaction(request)["rules"] == [rule]
            with pytest.raises(PolicyViolation) as raised:
                manager.sign_transaction(request)
            assert raised.value.rule == rule
            assert web3.eth.get_transaction_count(owner) == nonce

        # A transfer within the cap to a listed recipient: mined, the balance moved.
        mine(call(token, token.encode_abi("transfer", args=[FRIEND, 100 * unit])))
        assert token.functions.balanceOf(FRIEND).call() == 100 * unit
        assert token.functions.balanceOf(owner).call() == 4900 * unit
        # An unlisted recipient, an amount above the cap, an unlimited approval: refused.
        refuse(
            "tokens.recipients_allow",
            call(token, token.encode_abi("transfer", args=[STRANGER, unit])),
        )
        refuse(
            "tokens.max_amount",
            call(token, token.encode_abi("transfer", args=[FRIEND, 1001 * unit])),
        )
        refuse(
            "tokens.allow_unlimited_approval",
            call(token, token.encode_abi("approve", args=[submitter, 2**256 - 1])),
        )
        assert token.functions.balanceOf(STRANGER).call() == 0
        assert token.functions.allowance(owner, submitter).call() == 0

        # EIP-2612: the wallet signs the structured permit, another account submits it.
        deadline = now() + 600
        message = {
            "owner": owner,
            "spender": submitter,
            "value": 500 * unit,
            "nonce": token.functions.nonces(owner).call(),
            "deadline": deadline,
        }
        signed = manager.sign_typed_data(full_message=eip2612_permit(token, chain_id, message))
        receipt = web3.eth.wait_for_transaction_receipt(
            token.functions.permit(
                owner,
                submitter,
                500 * unit,
                deadline,
                signed.v,
                signed.r.to_bytes(32, "big"),
                signed.s.to_bytes(32, "big"),
            ).transact({"from": submitter})
        )
        assert receipt["status"] == 1
        assert token.functions.allowance(owner, submitter).call() == 500 * unit
        assert token.functions.nonces(owner).call() == 1
        # A permit for a spender not on the list, or living too long: refused.
        for rule, changed in {
            "tokens.spenders_allow": {"spender": STRANGER},
            "permit_max_lifetime_seconds": {"deadline": now() + 7200},
        }.items():
            document = eip2612_permit(token, chain_id, message | changed)
            assert manager.check_typed_data(full_message=document)["rules"] == [rule]
            with pytest.raises(PolicyViolation) as raised:
                manager.sign_typed_data(full_message=document)
            assert raised.value.rule == rule

        # Permit2: the token approves Permit2, then Permit2.approve is signed and mined.
        mine(call(token, token.encode_abi("approve", args=[permit2.address, 1000 * unit])))
        assert token.functions.allowance(owner, permit2.address).call() == 1000 * unit
        expiration = now() + 600
        mine(
            call(
                permit2,
                permit2.encode_abi(
                    "approve", args=[token.address, submitter, 300 * unit, expiration]
                ),
            )
        )
        assert permit2.functions.allowance(owner, token.address, submitter).call() == [
            300 * unit,
            expiration,
            0,
        ]
        refuse(
            "tokens.spenders_allow",
            call(permit2, permit2.encode_abi("approve", args=[token.address, STRANGER, 1, 0])),
        )
        refuse(
            "permit_max_lifetime_seconds",
            call(
                permit2,
                permit2.encode_abi("approve", args=[token.address, submitter, 1, now() + 7200]),
            ),
        )

        # A Permit2 PermitSingle signed by the wallet and submitted by another account.
        details = {
            "token": token.address,
            "amount": 200 * unit,
            "expiration": now() + 900,
            "nonce": 0,
        }
        single = {"details": details, "spender": submitter, "sigDeadline": now() + 600}
        signed = manager.sign_typed_data(full_message=permit_single(permit2, chain_id, single))
        receipt = web3.eth.wait_for_transaction_receipt(
            permit2.get_function_by_signature(PERMIT_SINGLE)(
                owner,
                (
                    (token.address, details["amount"], details["expiration"], 0),
                    submitter,
                    single["sigDeadline"],
                ),
                bytes(signed.signature),
            ).transact({"from": submitter})
        )
        assert receipt["status"] == 1
        assert permit2.functions.allowance(owner, token.address, submitter).call() == [
            200 * unit,
            details["expiration"],
            1,
        ]
        for rule, document in {
            "tokens.spenders_allow": single | {"spender": STRANGER},
            "permit_max_lifetime_seconds": single
            | {"details": details | {"expiration": now() + 7200}},
        }.items():
            with pytest.raises(PolicyViolation) as raised:
                manager.sign_typed_data(full_message=permit_single(permit2, chain_id, document))
            assert raised.value.rule == rule
