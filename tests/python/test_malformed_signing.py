"""Malformed transaction dicts given to a TPM-backed wallet: each raises InvalidTransaction
before the TPM is asked for anything, and nothing is signed."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import KEY
from eth_account import Account
from flare_wallet import InvalidTransaction, SecureWalletManager, Vtpm
from hypothesis import given, settings
from tx_strategies import malformed_transactions, transactions


@pytest.fixture
def strict(vtpm: Vtpm) -> Any:
    # Strict mode unseals the key for every signature: a request that reached the
    # signing step would show up as TPM commands.
    with SecureWalletManager(None, vtpm, key_mode="strict") as manager:
        manager.import_private_key(KEY)
        yield manager


def test_malformed_dicts_are_refused_before_the_tpm(strict: SecureWalletManager) -> None:
    native = strict.vtpm._native

    @settings(max_examples=400)
    @given(malformed_transactions())
    def run(case: tuple[str, Any]) -> None:
        how, tx = case
        before = native.tpm_commands_sent
        with pytest.raises(InvalidTransaction) as raised:
            strict.sign_transaction(tx)
        assert str(raised.value), how
        assert native.tpm_commands_sent == before, f"the TPM was used for a dict with {how}"

    run()


def test_a_wrong_from_is_refused(strict: SecureWalletManager) -> None:
    other = Account.create().address

    @settings(max_examples=30)
    @given(transactions())
    def run(tx: dict[str, Any]) -> None:
        with pytest.raises(InvalidTransaction, match="'from' is"):
            strict.sign_transaction(dict(tx, **{"from": other}))

    run()


def test_a_valid_dict_does_reach_the_tpm(strict: SecureWalletManager) -> None:
    """The control for the check above: strict signing does count TPM commands."""
    native = strict.vtpm._native
    before = native.tpm_commands_sent
    strict.sign_transaction(
        {"to": None, "gas": 60000, "gasPrice": 1, "nonce": 0, "chainId": 1, "data": "0x00"}
    )
    assert native.tpm_commands_sent > before
