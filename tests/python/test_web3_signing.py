"""web3.py's habits: the signing middleware with the TPM wallet's LocalAccount, and
``w3.eth.send_transaction`` from the wallet's address, on anvil. Runs under web3 7
(the project venv) and web3 8 (``make test-web3-8``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import KEY
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from flare_wallet import KeyExportForbidden, PolicyViolation, SecureWalletManager, Vtpm
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder

RECIPIENT = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


@pytest.fixture
def own_web3(anvil: Any) -> Web3:
    """A Web3 of this test's own, so the middleware does not reach other tests."""
    return Web3(Web3.HTTPProvider(anvil.url))


def test_send_transaction_through_the_signing_middleware(
    vtpm: Vtpm, own_web3: Web3, fund: Callable[[str, int], None]
) -> None:
    with SecureWalletManager(own_web3, vtpm) as wallet_manager:
        address = wallet_manager.create_account()
        fund(address, own_web3.to_wei(1, "ether"))
        own_web3.middleware_onion.inject(
            SignAndSendRawMiddlewareBuilder.build(wallet_manager.local_account), layer=0
        )
        before = own_web3.eth.get_balance(RECIPIENT)
        # web3 fills gas, fees, nonce and chainId; the TPM wallet signs.
        tx_hash = own_web3.eth.send_transaction({"from": address, "to": RECIPIENT, "value": 12345})
        receipt = own_web3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        assert receipt["from"] == address
        assert own_web3.eth.get_balance(RECIPIENT) - before == 12345


def test_the_policy_holds_through_the_middleware(
    vtpm: Vtpm, own_web3: Web3, fund: Callable[[str, int], None]
) -> None:
    with SecureWalletManager(
        own_web3, vtpm, policy={"max_value_wei": 1000}, key_lock="none"
    ) as wallet_manager:
        address = wallet_manager.create_account()
        fund(address, own_web3.to_wei(1, "ether"))
        own_web3.middleware_onion.inject(
            SignAndSendRawMiddlewareBuilder.build(wallet_manager.local_account), layer=0
        )
        nonce = own_web3.eth.get_transaction_count(address)
        with pytest.raises(PolicyViolation, match="max_value_wei"):
            own_web3.eth.send_transaction({"from": address, "to": RECIPIENT, "value": 1001})
        assert own_web3.eth.get_transaction_count(address) == nonce


def test_local_account_is_a_local_account_without_a_key(
    imported: SecureWalletManager,
) -> None:
    account = imported.local_account
    assert isinstance(account, LocalAccount)
    assert account.address == Account.from_key(KEY).address
    with pytest.raises(KeyExportForbidden):
        _ = account.key
    with pytest.raises(KeyExportForbidden):
        bytes(account)
    with pytest.raises(KeyExportForbidden):
        account.encrypt("a password")
    with pytest.raises(KeyExportForbidden):
        account.unsafe_sign_hash(b"\x01" * 32)
    assert KEY[2:] not in repr(account)
    message = encode_defunct(text="FlareTrade")
    expected = Account.from_key(KEY).sign_message(message)
    assert account.sign_message(message).signature == expected.signature
    tx = {"to": RECIPIENT, "value": 1, "gas": 21000, "gasPrice": 10**9, "nonce": 3, "chainId": 14}
    signed = account.sign_transaction(tx)
    assert signed == Account.sign_transaction(tx, KEY)
