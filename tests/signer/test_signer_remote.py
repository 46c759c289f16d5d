"""The FlareTrade API against the service: ``SecureWalletManager`` on
``Vtpm("signer:path=...")`` signs, refuses, attests and reports its policy as it does in
process; only the connection string differs."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable

import pytest
from conftest import CHAIN_ID, RECIPIENT, Anvil, Signer

flare_wallet = pytest.importorskip("flare_wallet", reason="the wheel is built by make wheel")

from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct, encode_typed_data  # noqa: E402
from flare_wallet import (  # noqa: E402
    AttestationError,
    PolicyViolation,
    SecureWalletManager,
    Vtpm,
    WalletError,
    verify_attestation,
)
from web3 import Web3  # noqa: E402

POLICY = {"max_value_wei": 10**17, "chain_ids": [CHAIN_ID]}


def test_secure_wallet_manager_over_the_service(
    start_signer: Callable[..., Signer], anvil: Anvil
) -> None:
    signer = start_signer(upstream=anvil.url, policy=POLICY)
    (service_account,) = signer.call("eth_accounts", [])
    anvil.fund(service_account, 10**18)
    web3 = Web3(Web3.HTTPProvider(anvil.url))

    with SecureWalletManager(web3, Vtpm(f"signer:path={signer.ipc}")) as manager:
        address = manager.load_account()
        assert address == service_account
        assert manager.policy is not None
        assert int(json.loads(manager.policy.to_json())["max_value_wei"]) == 10**17

        tx = {
            "to": RECIPIENT,
            "value": 10**15,
            "gas": 21000,
            "maxFeePerGas": 2 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "nonce": web3.eth.get_transaction_count(address),
        }
        raw = manager.sign_transaction(tx)
        assert Account.recover_transaction(raw) == address
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        assert manager.daily_spent(CHAIN_ID) == 0  # no daily limit set: nothing counted

        with pytest.raises(PolicyViolation) as refused:
            manager.sign_transaction(dict(tx, value=10**18))
        assert refused.value.rule == "max_value_wei"
        # The service's own check answers as the in-process one does, signing nothing.
        allowed = manager.check_transaction(dict(tx, nonce=tx["nonce"] + 1))
        assert allowed["allowed"] is True
        assert allowed["reason"] is None
        decision = manager.check_transaction(dict(tx, value=10**18))
        assert decision["allowed"] is False, decision
        assert decision["rules"] == ["max_value_wei"]
        assert "max_value_wei" in decision["reason"]
        # The policy's default mode is allow: an EIP-7702 authorization on its chain
        # passes, and the service's signature recovers to the account.
        assert manager.check_authorization(CHAIN_ID, RECIPIENT)["allowed"] is True
        authorization = manager.sign_authorization(CHAIN_ID, RECIPIENT, 0)
        assert Web3.to_checksum_address(authorization.authority) == address
        assert manager.check_authorization(CHAIN_ID + 1, RECIPIENT)["rules"] == ["chain_ids"]

        signed = manager.sign_message("hello from the agent")
        assert (
            Account.recover_message(
                encode_defunct(text="hello from the agent"), signature=signed.signature
            )
            == address
        )
        typed = {
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"},
                                 {"name": "chainId", "type": "uint256"}],
                "Order": [{"name": "amount", "type": "uint256"}],
            },
            "primaryType": "Order",
            "domain": {"name": "FlareTrade", "chainId": CHAIN_ID},
            "message": {"amount": 5},
        }  # fmt: skip
        signed = manager.sign_typed_data(typed)
        signable = encode_typed_data(full_message=typed)
        assert Account.recover_message(signable, signature=signed.signature) == address

        nonce = secrets.token_bytes(32)
        evidence = manager.attest(nonce)
        assert evidence["address"] == address
        # A verifier trusts only the anchors it was given: the service's evidence, like
        # any, is refused without TPM roots and an enrollment record (or an AK chain).
        with pytest.raises(AttestationError, match="no trust anchor"):
            verify_attestation(evidence, nonce, expected_address=address)

        with pytest.raises(WalletError, match="operator"):
            manager.create_account()
        with pytest.raises(WalletError, match="operator"):
            manager.backup_wallet()


def test_connection_string_from_the_environment(
    start_signer: Callable[..., Signer], monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = start_signer()
    (service_account,) = signer.call("eth_accounts", [])
    monkeypatch.setenv("FLARE_WALLET_TPM", f"signer:path={signer.ipc},account={service_account}")
    with SecureWalletManager(None, Vtpm()) as manager:
        assert manager.load_account() == service_account
        # The client holds no enrollment of the service's attestation key, so its
        # self-check says False rather than trusting what the socket answers.
        assert manager.vtpm.verify_attestation() is False
