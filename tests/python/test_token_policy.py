"""Token rules, deny mode, permits and EIP-7702 authorizations through the wallet on
swtpm, cross-checked against eth-account: the typed-data digest the core computes for
every permit kind equals ``encode_typed_data``'s, and ``sign_authorization`` equals
``Account.sign_authorization`` byte for byte."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from flare_wallet import PolicyViolation, SecureWalletManager, Vtpm

TOKEN = "0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d"  # noqa: S105 (an address)
OTHER_TOKEN = "0x2222222222222222222222222222222222222222"  # noqa: S105 (an address)
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3333333333333333333333333333333333333333"
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
DELEGATE = "0x4444444444444444444444444444444444444444"
MAX = 2**256 - 1

POLICY: dict[str, Any] = {
    "default": "deny",
    "chain_ids": [14, 114],
    "recipients_allow": [FRIEND],
    "tokens": {
        TOKEN: {
            "max_amount": "1000000000000000000000",
            "daily_limit": "1500000000000000000000",
            "recipients_allow": [FRIEND],
            "spenders_allow": [PERMIT2, FRIEND],
        }
    },
    "delegations_allow": [DELEGATE],
    "permit_max_lifetime_seconds": 3600,
}


@pytest.fixture
def deny(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    with SecureWalletManager(None, vtpm, policy=POLICY, key_lock="none") as manager:
        manager.import_private_key(KEY)
        yield manager


def call(selector: str, *words: int | str) -> str:
    data = selector
    for word in words:
        if isinstance(word, str):
            data += word[2:].lower().rjust(64, "0")
        else:
            data += f"{word:064x}"
    return data


def tx(to: str, data: str = "0x", value: int = 0) -> dict[str, Any]:
    return {
        "to": to,
        "data": data,
        "value": value,
        "nonce": 0,
        "gas": 100_000,
        "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 1,
        "chainId": 14,
    }


TRANSFER = "0xa9059cbb"
APPROVE = "0x095ea7b3"


def test_check_transaction_explains_deny_mode(deny: SecureWalletManager) -> None:
    allowed = deny.check_transaction(tx(TOKEN, call(TRANSFER, FRIEND, 10**18)))
    assert allowed["allowed"]
    assert allowed["mode"] == "deny"
    assert "tokens" in allowed["rules"]
    assert "chain_ids" in allowed["rules"]
    plain = deny.check_transaction(tx(FRIEND, value=1))
    assert plain["allowed"]
    assert "recipients_allow" in plain["rules"]
    cases = {
        "tokens.recipients_allow": tx(TOKEN, call(TRANSFER, STRANGER, 1)),
        "tokens.max_amount": tx(TOKEN, call(TRANSFER, FRIEND, 10**21 + 1)),
        "tokens.allow_unlimited_approval": tx(TOKEN, call(APPROVE, PERMIT2, MAX)),
        "tokens.spenders_allow": tx(TOKEN, call(APPROVE, STRANGER, 5)),
        "default": tx(OTHER_TOKEN, call(TRANSFER, FRIEND, 1)),
        "recipients_allow": tx(STRANGER, value=1),
        # Short calldata is refused, not guessed at.
        "tokens": tx(TOKEN, call(TRANSFER, FRIEND)),
    }
    for rule, request in cases.items():
        refused = deny.check_transaction(request)
        assert not refused["allowed"], (rule, refused)
        assert refused["rules"] == [rule], (rule, refused)
        assert rule in refused["reason"]
        with pytest.raises(PolicyViolation) as raised:
            deny.sign_transaction(request)
        assert raised.value.rule == rule
    # Refusals to sign are in the audit log; checks are not.
    refused_rules = [e["rule"] for e in deny.audit_entries() if e["event"] == "refuse"]
    assert refused_rules == list(cases)


def test_token_daily_limit_counts_signed_transfers(deny: SecureWalletManager) -> None:
    half = 700 * 10**18
    for nonce in (0, 1):
        request = tx(TOKEN, call(TRANSFER, FRIEND, half)) | {"nonce": nonce}
        deny.sign_transaction(request)
    third = tx(TOKEN, call(TRANSFER, FRIEND, half)) | {"nonce": 2}
    refused = deny.check_transaction(third)
    assert refused["rules"] == ["tokens.daily_limit"], refused
    assert "1400000000000000000000" in refused["reason"]
    small = tx(TOKEN, call(TRANSFER, FRIEND, 10**20)) | {"nonce": 2}
    assert deny.check_transaction(small)["allowed"]


def permit_documents(deadline: int) -> dict[str, dict[str, Any]]:
    """One document of every permit kind the core reads."""
    domain2612 = {"name": "Token", "version": "1", "chainId": 14, "verifyingContract": TOKEN}
    permit2 = {"name": "Permit2", "chainId": 14, "verifyingContract": PERMIT2}
    details = {"token": TOKEN, "amount": 10**20, "expiration": deadline, "nonce": 0}
    permitted = {"token": TOKEN, "amount": 10**20}
    domain_type = [
        {"name": "name", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ]
    details_type = [
        {"name": "token", "type": "address"},
        {"name": "amount", "type": "uint160"},
        {"name": "expiration", "type": "uint48"},
        {"name": "nonce", "type": "uint48"},
    ]
    permissions_type = [
        {"name": "token", "type": "address"},
        {"name": "amount", "type": "uint256"},
    ]
    return {
        "eip2612": {
            "types": {
                "Permit": [
                    {"name": "owner", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ]
            },
            "primaryType": "Permit",
            "domain": domain2612,
            "message": {
                "owner": Account.from_key(KEY).address,
                "spender": FRIEND,
                "value": 10**20,
                "nonce": 0,
                "deadline": deadline,
            },
        },
        "dai": {
            "types": {
                "Permit": [
                    {"name": "holder", "type": "address"},
                    {"name": "spender", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "expiry", "type": "uint256"},
                    {"name": "allowed", "type": "bool"},
                ]
            },
            "primaryType": "Permit",
            "domain": domain2612,
            "message": {
                "holder": Account.from_key(KEY).address,
                "spender": FRIEND,
                "nonce": 0,
                "expiry": deadline,
                "allowed": False,
            },
        },
        "single": {
            "types": {
                "EIP712Domain": domain_type,
                "PermitSingle": [
                    {"name": "details", "type": "PermitDetails"},
                    {"name": "spender", "type": "address"},
                    {"name": "sigDeadline", "type": "uint256"},
                ],
                "PermitDetails": details_type,
            },
            "primaryType": "PermitSingle",
            "domain": permit2,
            "message": {"details": details, "spender": FRIEND, "sigDeadline": deadline},
        },
        "batch": {
            "types": {
                "EIP712Domain": domain_type,
                "PermitBatch": [
                    {"name": "details", "type": "PermitDetails[]"},
                    {"name": "spender", "type": "address"},
                    {"name": "sigDeadline", "type": "uint256"},
                ],
                "PermitDetails": details_type,
            },
            "primaryType": "PermitBatch",
            "domain": permit2,
            "message": {
                "details": [details, details],
                "spender": FRIEND,
                "sigDeadline": deadline,
            },
        },
        "transfer": {
            "types": {
                "EIP712Domain": domain_type,
                "PermitTransferFrom": [
                    {"name": "permitted", "type": "TokenPermissions"},
                    {"name": "spender", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ],
                "TokenPermissions": permissions_type,
            },
            "primaryType": "PermitTransferFrom",
            "domain": permit2,
            "message": {
                "permitted": permitted,
                "spender": FRIEND,
                "nonce": 7,
                "deadline": deadline,
            },
        },
        "batch_transfer": {
            "types": {
                "EIP712Domain": domain_type,
                "PermitBatchTransferFrom": [
                    {"name": "permitted", "type": "TokenPermissions[]"},
                    {"name": "spender", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                ],
                "TokenPermissions": permissions_type,
            },
            "primaryType": "PermitBatchTransferFrom",
            "domain": permit2,
            "message": {
                "permitted": [permitted],
                "spender": FRIEND,
                "nonce": 7,
                "deadline": deadline,
            },
        },
        "witness": {
            "types": {
                "EIP712Domain": domain_type,
                "PermitWitnessTransferFrom": [
                    {"name": "permitted", "type": "TokenPermissions"},
                    {"name": "spender", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "deadline", "type": "uint256"},
                    {"name": "witness", "type": "Order"},
                ],
                "TokenPermissions": permissions_type,
                "Order": [
                    {"name": "buyer", "type": "address"},
                    {"name": "minOut", "type": "uint256"},
                ],
            },
            "primaryType": "PermitWitnessTransferFrom",
            "domain": permit2,
            "message": {
                "permitted": permitted,
                "spender": FRIEND,
                "nonce": 7,
                "deadline": deadline,
                "witness": {"buyer": FRIEND, "minOut": 5},
            },
        },
    }


@pytest.mark.parametrize(
    "kind", ["eip2612", "dai", "single", "batch", "transfer", "batch_transfer", "witness"]
)
def test_every_permit_kind_signs_eth_accounts_digest(kind: str, deny: SecureWalletManager) -> None:
    document = permit_documents(int(time.time()) + 600)[kind]
    decision = deny.check_typed_data(document)
    assert decision["allowed"], decision
    assert "tokens" in decision["rules"]
    assert "permit_max_lifetime_seconds" in decision["rules"]
    signed = deny.sign_typed_data(document)
    expected = Account.sign_message(encode_typed_data(full_message=document), KEY)
    assert signed.message_hash == _hash_eip191_message(encode_typed_data(full_message=document))
    assert signed.signature == expected.signature


def test_permits_outside_the_token_rule_are_refused(deny: SecureWalletManager) -> None:
    now = int(time.time())
    too_late = permit_documents(now + 7200)["single"]
    refused = deny.check_typed_data(too_late)
    assert refused["rules"] == ["permit_max_lifetime_seconds"], refused
    stranger = permit_documents(now + 600)["transfer"]
    stranger["message"]["spender"] = STRANGER
    assert deny.check_typed_data(stranger)["rules"] == ["tokens.spenders_allow"]
    unlimited = permit_documents(now + 600)["eip2612"]
    unlimited["message"]["value"] = MAX
    assert deny.check_typed_data(unlimited)["rules"] == ["tokens.allow_unlimited_approval"]
    dai_forever = permit_documents(now + 600)["dai"]
    dai_forever["message"]["allowed"] = True
    assert deny.check_typed_data(dai_forever)["rules"] == ["tokens.allow_unlimited_approval"]
    unlisted = permit_documents(now + 600)["single"]
    unlisted["message"]["details"]["token"] = OTHER_TOKEN
    assert deny.check_typed_data(unlisted)["rules"] == ["tokens"]
    with pytest.raises(PolicyViolation) as raised:
        deny.sign_typed_data(unlisted)
    assert raised.value.rule == "tokens"
    # Typed data of no kind the policy reads, and no listed domain: deny mode refuses.
    mail = {
        "types": {"Mail": [{"name": "contents", "type": "string"}]},
        "primaryType": "Mail",
        "domain": {"name": "Mail", "chainId": 14, "verifyingContract": STRANGER},
        "message": {"contents": "hi"},
    }
    assert deny.check_typed_data(mail)["rules"] == ["typed_data_domains"]


def test_an_allow_policy_signs_mail_as_eth_account(imported: SecureWalletManager) -> None:
    mail = {
        "types": {
            "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"},
            ],
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "version": "1", "chainId": 1,
                   "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!",
        },
    }  # fmt: skip
    expected = Account.sign_message(encode_typed_data(full_message=mail), KEY)
    assert imported.sign_typed_data(mail).signature == expected.signature
    three = imported.sign_typed_data(mail["domain"], mail["types"], mail["message"])
    assert three.signature == expected.signature
    assert imported.check_typed_data(mail) == {
        "allowed": True, "mode": "allow", "rules": [], "reason": None,
    }  # fmt: skip


@pytest.mark.parametrize(("chain_id", "nonce"), [(14, 0), (114, 7), (14, 2**64 - 1)])
def test_sign_authorization_equals_eth_account(
    chain_id: int, nonce: int, deny: SecureWalletManager
) -> None:
    signed = deny.sign_authorization(chain_id, DELEGATE, nonce)
    expected = Account.sign_authorization(
        {"chainId": chain_id, "address": DELEGATE, "nonce": nonce}, KEY
    )
    assert signed == expected
    assert deny.check_authorization(chain_id, DELEGATE)["rules"] == [
        "chain_ids",
        "delegations_allow",
    ]


def test_authorizations_outside_the_policy_are_refused(deny: SecureWalletManager) -> None:
    for chain_id, delegate, rule in [
        (0, DELEGATE, "allow_any_chain_authorization"),
        (1, DELEGATE, "chain_ids"),
        (14, STRANGER, "delegations_allow"),
    ]:
        assert deny.check_authorization(chain_id, delegate)["rules"] == [rule]
        with pytest.raises(PolicyViolation) as raised:
            deny.sign_authorization(chain_id, delegate, 0)
        assert raised.value.rule == rule


def test_any_chain_authorization_when_allowed(vtpm: Vtpm) -> None:
    rules = {"delegations_allow": [DELEGATE], "allow_any_chain_authorization": True}
    with SecureWalletManager(None, vtpm, policy=rules, key_lock="none") as manager:
        manager.import_private_key(KEY)
        signed = manager.sign_authorization(0, DELEGATE, 3)
        expected = Account.sign_authorization({"chainId": 0, "address": DELEGATE, "nonce": 3}, KEY)
        assert signed == expected
