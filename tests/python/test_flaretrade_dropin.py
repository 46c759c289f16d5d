"""flare_wallet in place of FlareTrade's and upstream flare-ai-defai's wallet code.

Each test replays how their callers use the wallet (the arguments, return shapes and
errors they rely on) against a real swtpm and anvil. The flows run twice in a row on
the same TPM and state directory, as an agent that restarts does.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY, SwtpmProcess, enroll_simulator
from eth_account import Account
from flare_wallet import (
    NoAccountLoaded,
    SecureWalletManager,
    TEEWallet,
    Vtpm,
    WalletError,
    WalletInfo,
    WalletType,
    dropin,
)
from flare_wallet._flaretrade import wallet_logger

METAMASK_USER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"  # anvil's second dev account
METAMASK_CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def open_manager(swtpm: SwtpmProcess, state_dir: Path, web3: Any) -> SecureWalletManager:
    """FlareTrade's own call, SecureWalletManager(web3, vtpm), through the one-line shim
    (flare_wallet.dropin): the account is loaded when the state directory holds one."""
    return dropin.SecureWalletManager(web3, Vtpm(swtpm.tcti, state_dir=state_dir))


def transfer(web3: Any, sender: str, to: str, wei: int) -> dict[str, Any]:
    """FlareTrade's documented transaction dict."""
    return {
        "from": sender,
        "to": to,
        "value": wei,
        "gas": 21000,
        "gasPrice": web3.to_wei(50, "gwei"),
        "nonce": web3.eth.get_transaction_count(sender),
    }


# ---------------------------------------------------------------- SecureWalletManager


def test_flaretrade_manager_flow_runs_twice_on_the_same_state(
    swtpm: SwtpmProcess, tmp_path: Path, web3: Any, fund: Callable[[str, int], None]
) -> None:
    seen = []
    for _run in range(2):
        wallet_manager = open_manager(swtpm, tmp_path / "wallet", web3)
        try:
            address = wallet_manager.create_account()
            assert address == web3.to_checksum_address(address)
            assert wallet_manager.active_wallet == wallet_manager.account
            fund(address, web3.to_wei(1, "ether"))
            tx_params = transfer(web3, wallet_manager.account.address, METAMASK_CHECKSUMMED, 10**15)
            signed_tx = wallet_manager.sign_transaction(tx_params)
            tx_hash = web3.eth.send_raw_transaction(signed_tx)
            assert tx_hash == signed_tx.hash
            assert web3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
            enroll_simulator(wallet_manager.vtpm)
            assert wallet_manager.validate_wallet_state() is True
            backup = wallet_manager.backup_wallet()
            assert wallet_manager.restore_wallet(backup) == address
            seen.append(address)
        finally:
            wallet_manager.close()
            wallet_manager.vtpm.close()
    assert seen[0] == seen[1]


def test_signed_transaction_answers_eth_accounts_fields(imported: SecureWalletManager) -> None:
    tx = {
        "to": METAMASK_CHECKSUMMED,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 3 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": 7,
        "chainId": 14,
    }
    ours = imported.sign_transaction(tx)
    theirs = Account.sign_transaction(tx, KEY)
    assert bytes(ours) == bytes(theirs.raw_transaction)
    assert ours.raw_transaction == ours.rawTransaction == theirs.raw_transaction
    assert (ours.hash, ours.r, ours.s, ours.v) == (theirs.hash, theirs.r, theirs.s, theirs.v)
    legacy = {"to": METAMASK_CHECKSUMMED, "value": 1, "gas": 21000, "gasPrice": 10**9, "nonce": 0}
    legacy_ours = imported.sign_transaction({**legacy, "chainId": 31337})
    legacy_theirs = Account.sign_transaction({**legacy, "chainId": 31337}, KEY)
    assert (legacy_ours.v, legacy_ours.r) == (legacy_theirs.v, legacy_theirs.r)


def test_external_wallets_follow_flaretrade(swtpm: SwtpmProcess, tmp_path: Path, web3: Any) -> None:
    with open_manager(swtpm, tmp_path / "wallet", web3) as wallet_manager:
        own = wallet_manager.create_account()
        connected = wallet_manager.connect_external_wallet(METAMASK_USER, "MetaMask", "14")
        assert connected == web3.to_checksum_address(METAMASK_USER)
        assert wallet_manager.active_wallet == connected
        info = wallet_manager.external_wallets[connected]
        assert isinstance(info, WalletInfo)
        assert (info.wallet_type, info.chain_id, info.label) == (
            WalletType.METAMASK,
            "14",
            "Metamask Wallet",
        )
        assert wallet_manager.connect_external_wallet(
            "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", "a-wallet-we-never-heard-of"
        )
        wallets = wallet_manager.get_connected_wallets()
        assert [w["type"] for w in wallets] == ["tee", "metamask", "external"]
        assert [w["is_active"] for w in wallets] == [False, False, True]
        assert wallets[0] == {
            "address": own,
            "type": "tee",
            "label": "TEE Protected Wallet",
            "is_active": False,
        }

        balance = wallet_manager.get_wallet_balance(METAMASK_USER)
        assert balance["eth_balance"] == web3.eth.get_balance(connected)
        assert balance["eth_formatted"].endswith(" ETH")
        assert balance["wallet_type"] == "metamask"
        assert balance["tokens"] == []

        # The active wallet is external: it signs in its frontend, not here.
        with pytest.raises(NotImplementedError):
            wallet_manager.sign_transaction(transfer(web3, own, METAMASK_CHECKSUMMED, 1))

        wallet_manager.set_active_wallet(METAMASK_USER)
        assert wallet_manager.active_wallet == connected
        wallet_manager.set_active_wallet(None)
        assert wallet_manager.active_wallet == wallet_manager.account
        assert wallet_manager.get_wallet_balance()["wallet_type"] == "tee"

        wallet_manager.set_active_wallet(METAMASK_USER)
        wallet_manager.disconnect_wallet()
        assert connected not in wallet_manager.external_wallets
        assert wallet_manager.active_wallet == wallet_manager.account
        wallet_manager.disconnect_wallet("not an address")  # ignored, as FlareTrade does

        for bad_call in (
            lambda: wallet_manager.connect_external_wallet("0x1234", "metamask"),
            lambda: wallet_manager.get_wallet_balance(METAMASK_USER),  # disconnected
            lambda: wallet_manager.set_active_wallet(METAMASK_USER),
        ):
            with pytest.raises(ValueError, match="connect"):
                bad_call()
        wallet_manager.vtpm.close()


def test_no_account_and_no_active_wallet_are_value_errors(vtpm: Vtpm, web3: Any) -> None:
    with SecureWalletManager(web3, vtpm) as wallet_manager:
        for call in (
            lambda: wallet_manager.sign_transaction(
                {"to": METAMASK_CHECKSUMMED, "value": 1, "gas": 21000, "gasPrice": 1, "nonce": 0}
            ),
            wallet_manager.backup_wallet,
            wallet_manager.load_account,
        ):
            with pytest.raises(ValueError, match="no account") as raised:
                call()
            assert isinstance(raised.value, NoAccountLoaded)
            assert isinstance(raised.value, WalletError)
        with pytest.raises(ValueError, match="No active wallet"):
            wallet_manager.get_wallet_balance()
        with pytest.raises(ValueError, match="No TEE wallet"):
            wallet_manager.set_active_wallet(None)


def test_create_account_on_an_existing_account_keeps_refusing(vtpm: Vtpm) -> None:
    with SecureWalletManager(None, vtpm) as wallet_manager:
        address = wallet_manager.create_account()
        with pytest.raises(WalletError, match=r"load_account\(\) opens it"):
            wallet_manager.create_account()
        assert wallet_manager.load_or_create_account() == address


def test_the_account_option(vtpm: Vtpm) -> None:
    with pytest.raises(WalletError, match="account must be"):
        SecureWalletManager(None, vtpm, account="create")  # type: ignore[arg-type]
    with pytest.raises(NoAccountLoaded):
        SecureWalletManager(None, vtpm, account="load")
    with SecureWalletManager(None, vtpm, account="load_or_create") as first:
        created = first.address
        assert created is not None
    with SecureWalletManager(None, vtpm, account="load") as second:
        assert second.address == created
    # The shim's star import gives FlareTrade's names.
    assert {"SecureWalletManager", "TEEWallet", "WalletType", "WalletInfo", "Vtpm"} <= set(
        dropin.__all__
    )


def test_validate_wallet_state_is_false_when_the_tpm_is_down(
    swtpm: SwtpmProcess, tmp_path: Path
) -> None:
    with SecureWalletManager(None, Vtpm(swtpm.tcti, state_dir=tmp_path / "w")) as wallet_manager:
        wallet_manager.create_account()
        enroll_simulator(wallet_manager.vtpm)
        assert wallet_manager.validate_wallet_state() is True
        swtpm.stop()
        assert wallet_manager.validate_wallet_state() is False
        wallet_manager.vtpm.close()


def test_the_logger_binds_and_reaches_stdlib_logging(
    imported: SecureWalletManager, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("structlog")
    # FlareTrade's own code does logger.bind(service=...) on the manager's logger.
    bound = imported.logger.bind(service="wallet_manager", request="r-1")
    with caplog.at_level(logging.INFO, logger="flare_wallet.wallet_manager"):
        bound.info("external_wallet_connected", address=imported.address)
    assert "external_wallet_connected" in caplog.text
    assert "request=r-1" in caplog.text


def test_the_logger_is_stdlib_without_structlog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "structlog", None)  # import structlog now fails
    logger = wallet_logger("flare_wallet.wallet_manager", service="wallet_manager")
    assert isinstance(logger, logging.Logger)


def test_sign_typed_data_takes_eth_accounts_forms(imported: SecureWalletManager) -> None:
    domain = {"name": "FlareTrade", "version": "1", "chainId": 14}
    types = {"Order": [{"name": "amount", "type": "uint256"}]}
    message = {"amount": 5}
    full = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            **types,
        },
        "primaryType": "Order",
        "domain": domain,
        "message": message,
    }
    expected = Account.from_key(KEY).sign_typed_data(domain, types, message).signature
    assert imported.sign_typed_data(domain, types, message).signature == expected
    assert (
        imported.sign_typed_data(
            domain_data=domain, message_types=types, message_data=message
        ).signature
        == expected
    )
    assert imported.sign_typed_data(full).signature == expected
    assert imported.sign_typed_data(full_message=full).signature == expected


# ---------------------------------------------------------------- TEEWallet


def test_tee_wallet_callers_flow_runs_twice(
    swtpm: SwtpmProcess, tmp_path: Path, web3: Any, fund: Callable[[str, int], None]
) -> None:
    addresses = []
    for _run in range(2):
        with open_manager(swtpm, tmp_path / "wallet", web3) as wallet_manager:
            wallet = TEEWallet(web3, wallet_manager)
            enroll_simulator(wallet_manager.vtpm)
            # FlareTrade's FlareProvider: get_address, is_unlocked, get_balance,
            # attestation_info.
            assert wallet.is_unlocked()
            address = wallet.get_address()
            assert address is not None
            fund(address, 10**17)
            before = wallet.get_balance()
            assert before == web3.eth.get_balance(address)
            raw_hex = wallet.sign_transaction(transfer(web3, address, METAMASK_CHECKSUMMED, 10**9))
            assert raw_hex.startswith("0x")
            tx_hash = web3.eth.send_raw_transaction(raw_hex)
            assert web3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1
            assert wallet.get_balance() < before
            info = wallet.attestation_info()
            assert info["attested"] is True
            assert info["type"] == "vTPM"  # a TPM reached by TCTI, not one we started
            assert info["timestamp"] == web3.eth.get_block("latest")["timestamp"]
            with pytest.raises(ValueError, match="Failed to sign"):
                wallet.sign_transaction({"from": METAMASK_USER, "to": address, "value": 1})
            addresses.append(address)
            wallet_manager.vtpm.close()
    assert addresses[0] == addresses[1]


def test_tee_wallet_on_a_simulator_says_so(vtpm: Vtpm, web3: Any) -> None:
    with SecureWalletManager(web3, vtpm) as wallet_manager:
        wallet = TEEWallet(web3, wallet_manager)
        assert not wallet.is_unlocked()
        with pytest.raises(ValueError, match="unlocked"):
            wallet.sign_transaction({"to": METAMASK_CHECKSUMMED, "value": 1})
        with pytest.raises(ValueError, match="not initialized"):
            wallet.get_balance()
        wallet_manager.create_account()
        info = wallet.attestation_info()
        assert (info["attested"], info["type"]) == (True, "simulated")


# ---------------------------------------------------------------- upstream FlareProvider


@dataclass
class QueuedTx:
    msg: str
    tx: dict[str, Any]


@dataclass
class FlareProviderShape:
    """Upstream's FlareProvider with its private key replaced by the TPM wallet: the
    lines a user changes are generate_account and sign_and_send_transaction."""

    wallet: SecureWalletManager
    address: str | None = None
    tx_queue: list[QueuedTx] = field(default_factory=list)

    @property
    def w3(self) -> Any:
        return self.wallet.web3

    def reset(self) -> None:
        self.address = None
        self.tx_queue = []

    def generate_account(self) -> str:
        self.address = self.wallet.create_account()
        return self.address

    def create_send_flr_tx(self, to_address: str, amount: float) -> dict[str, Any]:
        if not self.address:
            raise ValueError("Account does not exist")
        return {
            "from": self.address,
            "nonce": self.w3.eth.get_transaction_count(self.address),
            "to": self.w3.to_checksum_address(to_address),
            "value": self.w3.to_wei(amount, unit="ether"),
            "gas": 21000,
            "maxFeePerGas": self.w3.eth.gas_price,
            "maxPriorityFeePerGas": self.w3.eth.max_priority_fee,
            "chainId": self.w3.eth.chain_id,
            "type": 2,
        }

    def sign_and_send_transaction(self, tx: dict[str, Any]) -> str:
        signed_tx = self.wallet.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed_tx.raw_transaction)
        self.w3.eth.wait_for_transaction_receipt(tx_hash)
        return "0x" + tx_hash.hex()

    def check_balance(self) -> float:
        if not self.address:
            raise ValueError("Account does not exist")
        return float(self.w3.from_wei(self.w3.eth.get_balance(self.address), "ether"))


def test_upstream_flare_provider_flow_runs_twice(
    swtpm: SwtpmProcess, tmp_path: Path, web3: Any, fund: Callable[[str, int], None]
) -> None:
    addresses = []
    for _run in range(2):
        with open_manager(swtpm, tmp_path / "wallet", web3) as wallet_manager:
            provider = FlareProviderShape(wallet_manager)
            address = provider.generate_account()
            provider.reset()  # the chat's /reset, then a new "generate account"
            assert provider.generate_account() == address
            fund(address, web3.to_wei(2, "ether"))
            before = provider.check_balance()
            tx = provider.create_send_flr_tx(METAMASK_USER, 0.5)
            provider.tx_queue.append(QueuedTx("send 0.5 FLR", tx))
            tx_hash = provider.sign_and_send_transaction(provider.tx_queue.pop().tx)
            receipt = web3.eth.get_transaction_receipt(tx_hash)
            assert receipt["status"] == 1
            assert receipt["from"] == address
            assert before - provider.check_balance() >= 0.5
            addresses.append(address)
            wallet_manager.vtpm.close()
    assert addresses[0] == addresses[1]
