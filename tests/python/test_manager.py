"""SecureWalletManager: accounts, key modes, backups, messages and its errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import KEY
from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from flare_wallet import (
    InvalidTransaction,
    KeyExportForbidden,
    PublicAccount,
    SecureWalletManager,
    TpmError,
    Vtpm,
    WalletError,
)

TX = {
    "to": "0x000000000000000000000000000000000000dEaD",
    "value": 1,
    "gas": 21000,
    "gasPrice": 10**9,
    "nonce": 0,
    "chainId": 1,
}


def test_accounts_create_load_and_public_view(tmp_path: Path) -> None:
    with (
        Vtpm.simulator(tmp_path / "state", tpm_state_dir=tmp_path / "tpm") as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        assert manager.account is None
        assert manager.address is None
        address = manager.create_account()
        assert manager.account == PublicAccount(address)
        assert manager.account.address == address == manager.address
        with pytest.raises(KeyExportForbidden):
            _ = manager.account.key
        with pytest.raises(WalletError, match="already exists"):
            manager.create_account()
    # The same TPM (its state kept) and state directory: the account loads again.
    with (
        Vtpm.simulator(tmp_path / "state", tpm_state_dir=tmp_path / "tpm") as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        assert manager.address is None
        assert manager.load_account() == address
        raw = manager.sign_transaction(TX)
        assert Account.recover_transaction(raw) == address


def test_load_without_an_account_says_what_to_do(vtpm: Vtpm) -> None:
    with (
        SecureWalletManager(None, vtpm) as manager,
        pytest.raises(WalletError, match="create_account"),
    ):
        manager.load_account()


def test_signing_without_an_account_or_chain_id(vtpm: Vtpm) -> None:
    with SecureWalletManager(None, vtpm) as manager:
        with pytest.raises(WalletError, match="no account"):
            manager.sign_transaction(TX)
        manager.import_private_key(KEY)
        no_chain = {k: v for k, v in TX.items() if k != "chainId"}
        with pytest.raises(InvalidTransaction, match="chainId is missing"):
            manager.sign_transaction(no_chain)


def test_key_modes_sign_the_same_bytes(vtpm: Vtpm) -> None:
    with SecureWalletManager(None, vtpm, key_mode="strict") as strict:
        strict.import_private_key(KEY)
        strict_raw = strict.sign_transaction(TX)
    with SecureWalletManager(None, vtpm, key_mode="cached") as cached:
        assert cached.sign_transaction(TX) == strict_raw
    assert strict_raw == Account.sign_transaction(TX, KEY).raw_transaction
    with pytest.raises(WalletError, match="key_mode"):
        SecureWalletManager(None, vtpm, key_mode="lazy")


def test_backup_restores_on_the_same_tpm_only(tmp_path: Path) -> None:
    with (
        Vtpm.simulator(tmp_path / "a", tpm_state_dir=tmp_path / "tpm") as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        address = manager.create_account()
        backup = manager.backup_wallet()
        assert manager.restore_wallet(backup) == address  # the loaded account: checked only
        assert KEY[2:] not in backup
    with (
        Vtpm.simulator(tmp_path / "b", tpm_state_dir=tmp_path / "tpm") as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        assert manager.restore_wallet(backup) == address
        assert Account.recover_transaction(manager.sign_transaction(TX)) == address
        other = Account.create()
        with pytest.raises(WalletError, match="new, empty state_dir"):
            manager.restore_wallet(_backup_of_another_account(tmp_path / "tpm2", other.key.hex()))
    with Vtpm.simulator() as stranger, SecureWalletManager(None, stranger) as manager:
        with pytest.raises(TpmError, match="another TPM"):
            manager.restore_wallet(backup)
        assert manager.address is None
    with (
        Vtpm.simulator() as vtpm,
        SecureWalletManager(None, vtpm) as manager,
        pytest.raises(WalletError, match="base64"),
    ):
        manager.restore_wallet("not a backup!")


def _backup_of_another_account(tpm_dir: Path, key: str) -> str:
    with Vtpm.simulator(tpm_state_dir=tpm_dir) as vtpm, SecureWalletManager(None, vtpm) as m:
        m.import_private_key(key)
        return m.backup_wallet()


def test_sign_message_forms(imported: SecureWalletManager) -> None:
    expected = Account.sign_message(encode_defunct(text="hi"), KEY)
    assert imported.sign_message("hi") == expected
    assert imported.sign_message(b"hi") == expected
    assert imported.sign_message(encode_defunct(hexstr="0x6869")) == expected
    with pytest.raises(WalletError, match="version"):
        imported.sign_message(SignableMessage(b"\x00", b"\x11" * 20, b"data"))
    with pytest.raises(WalletError, match="header"):
        imported.sign_message(SignableMessage(b"E", b"thereum Signed Message:\n9", b"hi"))
    with pytest.raises(WalletError, match="str, bytes or a SignableMessage"):
        imported.sign_message(42)  # type: ignore[arg-type]


def test_attest_and_validate(imported: SecureWalletManager) -> None:
    assert imported.validate_wallet_state() is True
    with pytest.raises(WalletError, match="nonce is bytes"):
        imported.attest("nonce")  # type: ignore[arg-type]


def test_close(vtpm: Vtpm) -> None:
    manager = SecureWalletManager(None, vtpm)
    manager.import_private_key(KEY)
    manager.close()
    manager.close()
    with pytest.raises(WalletError, match="closed"):
        manager.sign_transaction(TX)
    assert not vtpm.closed  # a Vtpm given by the caller stays open...
    assert vtpm.address == Account.from_key(KEY).address
    with SecureWalletManager(None, vtpm) as again:
        assert again.sign_transaction(TX)


def test_repr_shows_no_secret(imported: SecureWalletManager) -> None:
    assert KEY[2:] not in repr(imported)
    assert "address=" in repr(imported)
