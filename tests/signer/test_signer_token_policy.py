"""The signer's policy methods for tokens, permits and EIP-7702 authorizations:
``flare_checkTransaction`` (a Permit2 approval's expiration against
``permit_max_lifetime_seconds``), ``flare_checkTypedData``, ``eth_signTypedData_v4`` (the
core checks the permit inside the document), ``flare_checkAuthorization`` and
``flare_signAuthorization`` (the authority recovered by eth-account is the account)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import RpcError, Signer
from eth_account import Account
from eth_account.datastructures import SignedSetCodeAuthorization
from eth_account.messages import encode_typed_data
from eth_account.typed_transactions.set_code_transaction import Authorization
from eth_keys.datatypes import Signature
from permits import eip2612_permit_document

CHAIN_ID = 14
TOKEN = "0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d"  # noqa: S105 (an address)
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
FRIEND = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STRANGER = "0x3333333333333333333333333333333333333333"
DELEGATE = "0x4444444444444444444444444444444444444444"

POLICY: dict[str, Any] = {
    "default": "deny",
    "chain_ids": [CHAIN_ID],
    "tokens": {TOKEN: {"max_amount": 1000, "spenders_allow": [PERMIT2, FRIEND]}},
    "delegations_allow": [DELEGATE],
    "permit_max_lifetime_seconds": 3600,
}


def permit(owner: str, spender: str, value: int, deadline: int) -> dict[str, Any]:
    domain = {"name": "Token", "version": "1", "chainId": CHAIN_ID, "verifyingContract": TOKEN}
    message = {"owner": owner, "spender": spender, "value": value, "nonce": 0, "deadline": deadline}
    return eip2612_permit_document(domain, message)


def permit2_approve(expiration: int) -> dict[str, Any]:
    words = [TOKEN, FRIEND, 1000, expiration]
    data = "0x87517c45" + "".join(
        (w[2:].lower() if isinstance(w, str) else f"{w:x}").rjust(64, "0") for w in words
    )
    return {
        "to": PERMIT2,
        "data": data,
        "value": "0x0",
        "gas": "0x30000",
        "maxFeePerGas": "0x3b9aca00",
        "maxPriorityFeePerGas": "0x1",
        "nonce": "0x0",
        "chainId": hex(CHAIN_ID),
    }


def refused_rule(signer: Signer, method: str, params: list[Any]) -> str:
    with pytest.raises(RpcError) as raised:
        signer.call(method, params)
    assert raised.value.code == -32010, raised.value.error
    return str(raised.value.data["rule"])


def test_token_permit_and_authorization_methods(
    start_signer: Callable[..., Signer],
) -> None:
    signer = start_signer(policy=POLICY)
    [address] = signer.call("eth_accounts", [])
    now = int(time.time())

    # flare_checkTransaction: a Permit2 approval's expiration (0 is "this block").
    for expiration in (0, now + 600):
        tx = permit2_approve(expiration) | {"from": address}
        decided = signer.call("flare_checkTransaction", [tx])
        assert decided["allowed"], decided
        assert decided["mode"] == "deny"
        assert "permit_max_lifetime_seconds" in decided["rules"]
    far = signer.call("flare_checkTransaction", [permit2_approve(now + 7200) | {"from": address}])
    assert not far["allowed"]
    assert far["rule"] == "permit_max_lifetime_seconds"

    # flare_checkTypedData and eth_signTypedData_v4 read the permit in the document.
    good = permit(address, PERMIT2, 1000, now + 600)
    decided = signer.call("flare_checkTypedData", [address, good])
    assert decided == {"allowed": True, "mode": "deny", "rules": decided["rules"]}
    assert "tokens" in decided["rules"]
    cases = {
        "tokens.spenders_allow": permit(address, STRANGER, 1, now + 600),
        "tokens.allow_unlimited_approval": permit(address, PERMIT2, 1001, now + 600),
        "permit_max_lifetime_seconds": permit(address, PERMIT2, 1, now + 7200),
    }
    for rule, document in cases.items():
        checked = signer.call("flare_checkTypedData", [address, document])
        assert not checked["allowed"]
        assert checked["rule"] == rule, checked
        assert refused_rule(signer, "eth_signTypedData_v4", [address, document]) == rule
    signature = signer.call("eth_signTypedData_v4", [address, good])
    recovered = Account.recover_message(
        encode_typed_data(full_message=good), signature=bytes.fromhex(signature[2:])
    )
    assert recovered == address

    # EIP-7702 authorizations: checked, signed, recovered by eth-account.
    decided = signer.call(
        "flare_checkAuthorization", [address, {"chainId": 14, "address": DELEGATE}]
    )
    assert decided["allowed"]
    assert "delegations_allow" in decided["rules"]
    assert signer.call(
        "flare_checkAuthorization", [address, {"chainId": 14, "address": STRANGER}]
    ) | {"message": None} == {
        "allowed": False,
        "rule": "delegations_allow",
        "value": STRANGER,
        "limit": None,
        "message": None,
    }
    any_chain = {"chainId": 0, "address": DELEGATE, "nonce": 0}
    assert (
        signer.call("flare_checkAuthorization", [address, any_chain])["rule"]
        == "allow_any_chain_authorization"
    )
    assert refused_rule(signer, "flare_signAuthorization", [address, any_chain]) == (
        "allow_any_chain_authorization"
    )
    stranger = {"chainId": 14, "address": STRANGER, "nonce": 3}
    assert refused_rule(signer, "flare_signAuthorization", [address, stranger]) == (
        "delegations_allow"
    )
    signed = signer.call(
        "flare_signAuthorization", [address, {"chainId": "0xe", "address": DELEGATE, "nonce": 7}]
    )
    assert signed["chainId"] == "0xe"
    assert signed["nonce"] == "0x7"
    assert signed["address"].lower() == DELEGATE.lower()
    chain_id, nonce = int(signed["chainId"], 16), int(signed["nonce"], 16)
    y_parity, r, s = (int(signed[name], 16) for name in ("yParity", "r", "s"))
    authorization = SignedSetCodeAuthorization(
        chain_id=chain_id,
        address=bytes.fromhex(DELEGATE[2:]),
        nonce=nonce,
        y_parity=y_parity,
        r=r,
        s=s,
        signature=Signature(vrs=(y_parity, r, s)),
        authorization_hash=Authorization(chain_id, bytes.fromhex(DELEGATE[2:]), nonce).hash(),
    )
    assert authorization.authority == bytes.fromhex(address[2:])
    # Bad input is refused as invalid params, not guessed at.
    for bad in ({"chainId": 14}, {"chainId": 14, "address": DELEGATE, "extra": 1}, [1, 2]):
        with pytest.raises(RpcError) as raised:
            signer.call("flare_signAuthorization", [address, bad])
        assert raised.value.code == -32602, raised.value.error
