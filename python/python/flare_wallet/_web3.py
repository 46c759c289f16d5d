"""``TpmLocalAccount``: the TPM wallet as the ``LocalAccount`` that web3.py's signing
middleware and eth-account-shaped code expect.

web3's ``SignAndSendRawMiddlewareBuilder.build()`` accepts only a ``LocalAccount`` (or a
raw key), and ``w3.eth.send_transaction({"from": ...})`` needs that middleware to sign
for an address the node does not hold. This subclass keeps the interface and none of
the state: it holds no key, and every signature goes through the TPM wallet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, cast

from eth_account.datastructures import SignedMessage, SignedTransaction
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes

from flare_wallet._signed import SignedRawTransaction
from flare_wallet.exceptions import KeyExportForbidden, NoAccountLoaded, WalletError

if TYPE_CHECKING:
    from web3 import Web3

    from flare_wallet import _native
    from flare_wallet._manager import SecureWalletManager

__all__ = ["LocalAccountProvider", "TpmLocalAccount"]

_new_bytes = bytes.__new__

_NO_KEY = "the private key never leaves the signing core (it is sealed by the TPM)"


class TpmLocalAccount(LocalAccount):
    """A ``LocalAccount`` whose signatures come from a :class:`SecureWalletManager`'s
    TPM-sealed account. Get one from ``wallet_manager.local_account``.

    ``key``, ``bytes(account)``, ``encrypt()`` and ``unsafe_sign_hash()`` raise
    :class:`KeyExportForbidden` (the last because a bare hash can be any transaction,
    which would bypass the signing policy). With web3.py::

        w3.middleware_onion.inject(
            SignAndSendRawMiddlewareBuilder.build(wallet_manager.local_account), layer=0
        )
        w3.eth.send_transaction({"from": wallet_manager.address, "to": ..., "value": ...})
    """

    # LocalAccount.__init__ takes a key object; this class never has one, so it sets
    # only what it uses and leaves LocalAccount's key attributes undefined.
    def __init__(self, manager: SecureWalletManager, address: ChecksumAddress):
        self._manager = manager
        self._address = address

    @property
    def address(self) -> ChecksumAddress:
        """The checksummed address of the TPM-sealed account."""
        return self._address

    @property
    def key(self) -> NoReturn:
        """Refuses: the key is unsealed only inside the signing core."""
        raise KeyExportForbidden(_NO_KEY)

    def __bytes__(self) -> NoReturn:
        raise KeyExportForbidden(_NO_KEY)

    def encrypt(self, password: str, kdf: str | None = None, iterations: int | None = None) -> Any:
        """Refuses: use ``SecureWalletManager.export_keystore`` (which logs the export)."""
        raise KeyExportForbidden(
            f"{_NO_KEY}: SecureWalletManager.export_keystore(password, request=..., "
            "approvals=...) writes a keystore once the account's owners approve"
        )

    def unsafe_sign_hash(self, message_hash: Any) -> NoReturn:
        """Refuses: a bare hash could be any transaction, past the signing policy."""
        raise KeyExportForbidden(
            "the TPM wallet signs transactions and messages it can check against its "
            "policy, never a bare hash"
        )

    def _check_current(self) -> None:
        if self._manager.address != self._address:
            raise WalletError(
                f"this LocalAccount was made for {self._address}, which is no longer the "
                "wallet's account: take wallet_manager.local_account again"
            )

    def sign_transaction(
        self, transaction_dict: Mapping[str, Any], blobs: Sequence[bytes] | None = None
    ) -> SignedTransaction:
        """Sign a transaction dict with the TPM wallet; returns eth-account's
        ``SignedTransaction`` (``raw_transaction``, ``hash``, ``r``, ``s``, ``v``).
        Blob sidecars are not built here: pass ``blobVersionedHashes`` instead."""
        if blobs is not None:
            raise WalletError(
                "the TPM wallet does not build blob sidecars: sign with blobVersionedHashes "
                "and attach the blobs to the network form yourself"
            )
        self._check_current()
        signed = self._manager._sign_with_tpm(transaction_dict)
        return SignedTransaction(
            raw_transaction=HexBytes(signed),
            hash=signed.hash,
            r=signed.r,
            s=signed.s,
            v=signed.v,
        )

    def sign_message(self, signable_message: SignableMessage) -> SignedMessage:
        """Sign an EIP-191 message (``encode_defunct`` or ``encode_typed_data``)."""
        self._check_current()
        return self._manager.sign_message(signable_message)

    def sign_typed_data(
        self,
        domain_data: dict[str, Any] | None = None,
        message_types: dict[str, Any] | None = None,
        message_data: dict[str, Any] | None = None,
        full_message: dict[str, Any] | None = None,
    ) -> SignedMessage:
        """Sign EIP-712 typed data, as ``LocalAccount.sign_typed_data``."""
        self._check_current()
        return self._manager.sign_typed_data(
            domain_data, message_types, message_data, full_message=full_message
        )

    def sign_authorization(self, authorization: dict[str, Any]) -> NoReturn:
        """Refuses: put EIP-7702 authorizations in a transaction's
        ``authorizationList`` and sign the transaction."""
        raise WalletError("sign EIP-7702 authorizations inside a transaction's authorizationList")

    def __repr__(self) -> str:
        return f"TpmLocalAccount(address={self._address!r})"


class LocalAccountProvider:
    """What :class:`SecureWalletManager` gives web3-shaped callers: ``local_account``,
    signing for callers that name the TPM account, and web3's chain id read safely."""

    # Supplied by SecureWalletManager.
    web3: Web3 | None
    _native: _native.TpmWallet

    if TYPE_CHECKING:

        @property
        def address(self) -> ChecksumAddress | None: ...
        def _check_open(self) -> None: ...

    @property
    def local_account(self) -> TpmLocalAccount:
        """The account as an eth-account ``LocalAccount`` that signs through the TPM
        wallet, for web3.py's ``SignAndSendRawMiddlewareBuilder.build()``; its ``key``
        raises :class:`KeyExportForbidden`. Raises :class:`NoAccountLoaded` without an
        account."""
        address = self.address
        if address is None:
            raise NoAccountLoaded("no account loaded: create, import, load or restore one first")
        return TpmLocalAccount(cast("SecureWalletManager", self), address)

    def _sign_with_tpm(self, tx_params: Mapping[str, Any]) -> SignedRawTransaction:
        """``sign_transaction`` for callers that name the TPM account explicitly (the
        LocalAccount, TEEWallet), whichever wallet is active."""
        self._check_open()
        if self.web3 is None or not isinstance(tx_params, Mapping) or "chainId" in tx_params:
            raw = self._native.sign_transaction(tx_params)
        else:
            raw = self._native.sign_transaction(tx_params, chain_id=self._web3_chain_id())
        return _new_bytes(SignedRawTransaction, raw)

    def _web3_chain_id(self) -> int:
        """web3's chain id; a coroutine (AsyncWeb3) is refused before it reaches int()."""
        chain_id: Any = self.web3.eth.chain_id  # type: ignore[union-attr]
        if isinstance(chain_id, int):
            return chain_id
        close = getattr(chain_id, "close", None)
        if close is not None:
            close()  # an un-awaited coroutine would warn when collected
            raise WalletError(
                "this manager's web3 is an AsyncWeb3: use flare_wallet.AsyncSecureWalletManager "
                "(its methods are awaited), or put chainId in the transaction"
            )
        return int(chain_id)
