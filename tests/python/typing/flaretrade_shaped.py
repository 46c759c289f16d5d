"""A module written the way FlareTrade and upstream flare-ai-defai annotate their wallet
code, checked with ``mypy --strict`` against flare_wallet's types (``make stubtest``).
It is type-checked only, never run."""

from __future__ import annotations

from typing import Any

from eth_account.datastructures import SignedMessage
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from flare_wallet import AsyncSecureWalletManager, wallet_nonces
from flare_wallet.dropin import (
    AttestationValidator,
    SecureWalletManager,
    TEEWallet,
    Vtpm,
    VtpmAttestationError,
    WalletInfo,
    WalletType,
)
from web3 import AsyncWeb3, Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import TxParams


class FlareProvider:
    """Upstream's FlareProvider over the TPM wallet."""

    def __init__(self, web3: Web3, wallet_manager: SecureWalletManager) -> None:
        self.w3 = web3
        self.wallet_manager = wallet_manager
        self.address: ChecksumAddress | None = None

    def generate_account(self) -> ChecksumAddress:
        self.address = self.wallet_manager.create_account()
        return self.address

    def create_send_flr_tx(self, to_address: str, amount: float) -> TxParams:
        if not self.address:
            raise ValueError("Account does not exist")
        tx: TxParams = {
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
        return tx

    def sign_and_send_transaction(self, tx: TxParams) -> str:
        signed_tx = self.wallet_manager.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed_tx.raw_transaction)
        self.w3.eth.wait_for_transaction_receipt(tx_hash)
        return "0x" + tx_hash.hex()

    def send_with_middleware(self, to_address: ChecksumAddress) -> bytes:
        signer: LocalAccount = self.wallet_manager.local_account
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(signer), layer=0)
        sender = self.wallet_manager.address
        assert sender is not None
        value = self.w3.to_wei(1, "wei")
        return bytes(
            self.w3.eth.send_transaction({"from": sender, "to": to_address, "value": value})
        )


def flaretrade_manager(web3: Web3) -> list[dict[str, Any]]:
    wallet_manager = SecureWalletManager(web3, Vtpm())
    address: ChecksumAddress = wallet_manager.create_account()
    external: ChecksumAddress = wallet_manager.connect_external_wallet(
        "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "metamask", "14"
    )
    info: WalletInfo = wallet_manager.external_wallets[external]
    assert info.wallet_type is WalletType.METAMASK
    wallet_manager.set_active_wallet(None)
    balance: dict[str, Any] = wallet_manager.get_wallet_balance(address)
    assert balance["eth_balance"] >= 0
    signed_raw = wallet_manager.sign_transaction(
        {"from": address, "to": external, "value": 1, "gas": 21000, "gasPrice": 1, "nonce": 0}
    )
    raw_bytes: bytes = signed_raw  # what send_raw_transaction takes
    assert raw_bytes == signed_raw.raw_transaction
    assert signed_raw.v >= 0
    typed: SignedMessage = wallet_manager.sign_typed_data(
        {"name": "FlareTrade", "chainId": 14},
        {"Order": [{"name": "amount", "type": "uint256"}]},
        {"amount": 1},
    )
    assert typed.signature
    assert wallet_manager.validate_wallet_state() in (True, False)
    wallet_manager.logger.bind(service="wallet_manager").info("checked")
    return wallet_manager.get_connected_wallets()


def tee_wallet(web3: Web3) -> dict[str, Any]:
    wallet = TEEWallet(web3)
    address: str | None = wallet.get_address()
    if wallet.is_unlocked() and address is not None:
        balance: int = wallet.get_balance()
        assert balance >= 0
    return wallet.attestation_info()


def attestation_route(vtpm: Vtpm, wallet_manager: SecureWalletManager, message: str) -> str:
    if not vtpm.attestation_requested:
        vtpm.attestation_requested = True
        return "send a challenge"
    try:
        token: str = vtpm.get_token(
            wallet_nonces(wallet_manager.address or "", message), audience="https://rp.example"
        )
    except VtpmAttestationError as error:
        return str(error)
    vtpm.attestation_requested = False
    result = AttestationValidator(audience="https://rp.example").validate_token(token)
    return token if result["valid"] else "invalid"


async def async_agent(w3: AsyncWeb3[Any]) -> str:
    async with AsyncSecureWalletManager(w3) as wallet_manager:
        address: ChecksumAddress = await wallet_manager.load_or_create_account()
        signed = await wallet_manager.sign_transaction(
            {"from": address, "to": address, "value": 0, "gas": 21000, "gasPrice": 1, "nonce": 0}
        )
        evidence = await wallet_manager.attest(b"\x00" * 32)
        assert evidence
        return signed.to_0x_hex()


def upstream_main() -> Vtpm:
    # Upstream's import-time calls.
    simulated = Vtpm(simulate=True)
    Vtpm(url="http://localhost", unix_socket_path="/run/container_launcher/teeserver.sock")
    return simulated
