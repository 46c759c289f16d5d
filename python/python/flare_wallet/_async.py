"""``AsyncSecureWalletManager``: the wallet for asyncio code and ``AsyncWeb3``.

With ``AsyncWeb3`` every node read (``w3.eth.chain_id``, ``get_balance``) is a coroutine,
which the synchronous manager cannot use. Here the node is awaited on the event loop,
and each TPM call (unsealing, signing, quoting) runs in a worker thread, so the loop
keeps serving other tasks; the core releases the GIL while it talks to the TPM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from eth_account.datastructures import SignedMessage
from eth_account.messages import SignableMessage
from eth_typing import ChecksumAddress

from flare_wallet._flaretrade import WEI_PER_ETHER, WalletType
from flare_wallet._manager import PublicAccount, SecureWalletManager
from flare_wallet._native import Policy
from flare_wallet._signed import SignedRawTransaction
from flare_wallet._vtpm import Vtpm
from flare_wallet._web3 import TpmLocalAccount

if TYPE_CHECKING:
    from web3 import AsyncWeb3

__all__ = ["AsyncSecureWalletManager"]


class AsyncSecureWalletManager:
    """The :class:`SecureWalletManager` API with awaitable methods, for ``AsyncWeb3``.

    ``web3`` is an ``AsyncWeb3`` (or None); ``vtpm``, ``key_mode`` and ``policy`` are as
    for :class:`SecureWalletManager`. Make the account with ``await
    create_account()``, ``await load_account()`` or ``await load_or_create_account()``.
    A missing ``chainId`` is awaited from ``web3.eth.chain_id``; ``sign_transaction``
    returns the same bytes type as the synchronous manager.
    """

    def __init__(
        self,
        web3: AsyncWeb3[Any] | None = None,
        vtpm: Vtpm | None = None,
        *,
        key_mode: str = "cached",
        policy: Policy | Mapping[str, Any] | None = None,
        key_lock: str | None = None,
        pin: str | None = None,
    ):
        self.web3 = web3
        # The synchronous manager never sees the AsyncWeb3: every chain id it gets is
        # an int awaited here.
        self.sync_manager = SecureWalletManager(
            None, vtpm, key_mode=key_mode, policy=policy, key_lock=key_lock, pin=pin
        )
        self.vtpm = self.sync_manager.vtpm
        self.logger = self.sync_manager.logger

    # ------------------------------------------------------------ accounts

    @property
    def address(self) -> ChecksumAddress | None:
        """The checksummed address of the loaded account, or None."""
        return self.sync_manager.address

    @property
    def account(self) -> PublicAccount | None:
        """The loaded account's public view (``.address``), or None."""
        return self.sync_manager.account

    @property
    def local_account(self) -> TpmLocalAccount:
        """As :attr:`SecureWalletManager.local_account` (web3's async signing middleware
        calls its ``sign_transaction`` on the event loop)."""
        return self.sync_manager.local_account

    async def create_account(self) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.create_account`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.create_account)

    async def load_account(self) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.load_account`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.load_account)

    async def load_or_create_account(self) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.load_or_create_account`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.load_or_create_account)

    async def import_private_key(self, private_key: str | bytes) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.import_private_key`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.import_private_key, private_key)

    # ------------------------------------------------------------ signing

    async def _chain_id(self) -> int:
        if self.web3 is None:
            raise ValueError("chainId is missing and this manager has no web3 to read it from")
        return int(await self.web3.eth.chain_id)

    async def sign_transaction(self, tx_params: Mapping[str, Any]) -> SignedRawTransaction:
        """Sign a transaction dict (as :meth:`SecureWalletManager.sign_transaction`); a
        missing ``chainId`` is awaited from web3 first."""
        if isinstance(tx_params, Mapping) and "chainId" not in tx_params:
            tx_params = {**tx_params, "chainId": await self._chain_id()}
        return await asyncio.to_thread(self.sync_manager.sign_transaction, tx_params)

    async def sign_message(self, message: str | bytes | SignableMessage) -> SignedMessage:
        """As :meth:`SecureWalletManager.sign_message`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.sign_message, message)

    async def sign_typed_data(
        self,
        domain_data: Mapping[str, Any] | None = None,
        message_types: Mapping[str, Any] | None = None,
        message_data: Mapping[str, Any] | None = None,
        full_message: Mapping[str, Any] | None = None,
    ) -> SignedMessage:
        """As :meth:`SecureWalletManager.sign_typed_data`, off the event loop."""
        return await asyncio.to_thread(
            self.sync_manager.sign_typed_data,
            domain_data,
            message_types,
            message_data,
            full_message,
        )

    # ------------------------------------------------------------ attestation, backup

    async def attest(self, nonce: bytes, *, chain_id: int | None = None) -> dict[str, Any]:
        """As :meth:`SecureWalletManager.attest`; the chain id is awaited from web3 when
        not given (0 without web3)."""
        if chain_id is None:
            chain_id = await self._chain_id() if self.web3 is not None else 0
        return await asyncio.to_thread(self.sync_manager.attest, nonce, chain_id=chain_id)

    async def validate_wallet_state(self) -> bool:
        """As :meth:`SecureWalletManager.validate_wallet_state`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.validate_wallet_state)

    async def backup_wallet(self) -> str:
        """As :meth:`SecureWalletManager.backup_wallet`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.backup_wallet)

    async def restore_wallet(self, backup_data: str) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.restore_wallet`, off the event loop."""
        return await asyncio.to_thread(self.sync_manager.restore_wallet, backup_data)

    # ------------------------------------------------------------ external wallets

    @property
    def external_wallets(self) -> dict[ChecksumAddress, Any]:
        """The connected external wallets by address (``WalletInfo`` values)."""
        return self.sync_manager.external_wallets

    @property
    def active_wallet(self) -> PublicAccount | ChecksumAddress | None:
        """As :attr:`SecureWalletManager.active_wallet`."""
        return self.sync_manager.active_wallet

    def connect_external_wallet(
        self, address: str, wallet_type: str, chain_id: str | None = None
    ) -> ChecksumAddress:
        """As :meth:`SecureWalletManager.connect_external_wallet` (no I/O)."""
        return self.sync_manager.connect_external_wallet(address, wallet_type, chain_id)

    def disconnect_wallet(self, address: str | None = None) -> None:
        """As :meth:`SecureWalletManager.disconnect_wallet` (no I/O)."""
        self.sync_manager.disconnect_wallet(address)

    def get_connected_wallets(self) -> list[dict[str, Any]]:
        """As :meth:`SecureWalletManager.get_connected_wallets` (no I/O)."""
        return self.sync_manager.get_connected_wallets()

    def set_active_wallet(self, address: str | None = None) -> None:
        """As :meth:`SecureWalletManager.set_active_wallet` (no I/O)."""
        self.sync_manager.set_active_wallet(address)

    async def get_wallet_balance(self, address: str | None = None) -> dict[str, Any]:
        """As :meth:`SecureWalletManager.get_wallet_balance`, the balance awaited from
        the AsyncWeb3. Raises ``ValueError`` as it does."""
        manager = self.sync_manager
        try:
            if address is not None:
                from eth_utils.address import to_checksum_address

                target = to_checksum_address(address)
                if target != manager.address and target not in manager.external_wallets:
                    raise ValueError(f"Wallet {address} is not connected")
            else:
                active = manager.active_wallet
                if active is None:
                    raise ValueError("No active wallet available")
                target = active if isinstance(active, str) else active.address
            if self.web3 is None:
                raise ValueError("this manager has no web3 to read balances with")
            wei = int(await self.web3.eth.get_balance(target))
        except Exception as error:
            raise ValueError(f"Failed to check wallet balance: {error}") from error
        whole, fraction = divmod(wei, WEI_PER_ETHER)
        balance: dict[str, Any] = {
            "address": target,
            "eth_balance": wei,
            "eth_formatted": f"{whole}.{fraction * 10_000 // WEI_PER_ETHER:04d} ETH",
            "tokens": [],
        }
        if target == manager.address:
            balance["wallet_type"] = WalletType.TEE.value
        elif target in manager.external_wallets:
            balance["wallet_type"] = manager.external_wallets[target].wallet_type.value
        return balance

    # ------------------------------------------------------------ life cycle

    def close(self) -> None:
        """As :meth:`SecureWalletManager.close`."""
        self.sync_manager.close()

    async def aclose(self) -> None:
        """:meth:`close`, off the event loop."""
        await asyncio.to_thread(self.sync_manager.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Async{self.sync_manager!r}"
