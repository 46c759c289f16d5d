"""The rest of FlareTrade's wallet surface: wallet types, external wallets, ``TEEWallet``
and ``AttestationValidator``, over the TPM-sealed account.

FlareTrade's ``SecureWalletManager`` keeps a list of external wallets (MetaMask,
WalletConnect, Ledger...) beside its own TEE account, and one of them is active. Those
wallets sign in the user's browser, never here: this module only records them, reads
their balances and says which is active. Arguments, return shapes and errors follow
FlareTrade's (a ``ValueError`` wherever it raises one).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, MutableMapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from flare_wallet.exceptions import TokenValidationError, TpmError, WalletError

if TYPE_CHECKING:
    from web3 import Web3

    from flare_wallet._manager import PublicAccount, SecureWalletManager
    from flare_wallet._token_validation import AttestationTokenValidator

__all__ = ["AttestationValidator", "TEEWallet", "WalletInfo", "WalletType", "wallet_logger"]

WEI_PER_ETHER = 10**18


def _render_with_context(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
    """structlog processor: the event, then its bound context as key=value pairs."""
    event = str(event_dict.pop("event", ""))
    context = " ".join(f"{key}={value}" for key, value in event_dict.items())
    return f"{event} [{context}]" if context else event


def wallet_logger(name: str, **context: Any) -> Any:
    """A logger that FlareTrade code can ``.bind()``: a structlog logger when structlog
    is installed (the application's configuration when it made one, else one that
    writes through the stdlib logger ``name``), a stdlib logger otherwise."""
    try:
        import structlog
    except ImportError:
        return logging.getLogger(name)
    if structlog.is_configured():
        return structlog.get_logger(name).bind(**context)
    return structlog.wrap_logger(
        logging.getLogger(name),
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=[structlog.stdlib.PositionalArgumentsFormatter(), _render_with_context],
    ).bind(**context)


class WalletType(Enum):
    """The kinds of wallet a manager knows: its own TPM-sealed one and external ones."""

    TEE = "tee"
    METAMASK = "metamask"
    WALLETCONNECT = "walletconnect"
    LEDGER = "ledger"
    EXTERNAL = "external"


class WalletInfo:
    """An external wallet connected to the manager: address, type, chain id and label."""

    def __init__(
        self,
        address: ChecksumAddress,
        wallet_type: WalletType,
        chain_id: str | None = None,
        label: str | None = None,
    ):
        self.address = address
        self.wallet_type = wallet_type
        self.chain_id = chain_id
        self.label = label or f"{wallet_type.value.capitalize()} Wallet"

    def __repr__(self) -> str:
        return (
            f"WalletInfo(address={self.address!r}, wallet_type={self.wallet_type}, "
            f"chain_id={self.chain_id!r}, label={self.label!r})"
        )


class ExternalWallets:
    """FlareTrade's external-wallet methods of ``SecureWalletManager``.

    The TPM account is the active wallet until an external one is connected or chosen
    with :meth:`set_active_wallet`; while an external wallet is active,
    ``sign_transaction`` raises ``NotImplementedError`` (that wallet signs in its own
    frontend), as FlareTrade's does.
    """

    # Supplied by SecureWalletManager.
    web3: Web3 | None
    logger: Any
    external_wallets: dict[ChecksumAddress, WalletInfo]
    _active_external: ChecksumAddress | None

    if TYPE_CHECKING:

        @property
        def address(self) -> ChecksumAddress | None: ...
        @property
        def account(self) -> PublicAccount | None: ...

    def _init_external_wallets(self) -> None:
        self.external_wallets = {}
        self._active_external = None

    @property
    def active_wallet(self) -> PublicAccount | ChecksumAddress | None:
        """The active wallet: an external wallet's address, else the TPM account's public
        view (``.address``), else None."""
        if self._active_external is not None:
            return self._active_external
        return self.account

    def connect_external_wallet(
        self, address: str, wallet_type: str, chain_id: str | None = None
    ) -> ChecksumAddress:
        """Record an external wallet and make it the active one; returns its checksummed
        address. An unknown ``wallet_type`` becomes ``external``. Raises ``ValueError``
        for an address that is not one."""
        try:
            checksummed = to_checksum_address(address)
        except (TypeError, ValueError) as error:
            self.logger.warning("external wallet not connected: %s", error)
            raise ValueError(f"Failed to connect external wallet: {error}") from error
        try:
            kind = WalletType(str(wallet_type).lower())
        except ValueError:
            kind = WalletType.EXTERNAL
        self.external_wallets[checksummed] = WalletInfo(checksummed, kind, chain_id)
        self._active_external = checksummed
        self.logger.info("connected %s wallet %s (chain %s)", kind.value, checksummed, chain_id)
        return checksummed

    def disconnect_wallet(self, address: str | None = None) -> None:
        """Forget an external wallet (the active one when ``address`` is None); the TPM
        account becomes active again if the forgotten one was. Unknown or malformed
        addresses are ignored, as FlareTrade does."""
        if address is None:
            target = self._active_external
        else:
            try:
                target = to_checksum_address(address)
            except (TypeError, ValueError) as error:
                self.logger.warning("disconnect_wallet(%r): %s", address, error)
                return
        if target is None:
            return
        info = self.external_wallets.pop(target, None)
        if self._active_external == target:
            self._active_external = None
        if info is not None:
            self.logger.info("disconnected %s wallet %s", info.wallet_type.value, target)

    def get_connected_wallets(self) -> list[dict[str, Any]]:
        """Every wallet as a dict: the TPM account first (``type`` ``"tee"``), then the
        external ones, each with ``address``, ``type``, ``label`` and ``is_active``
        (external ones also ``chain_id``)."""
        wallets: list[dict[str, Any]] = []
        own = self.address
        if own is not None:
            wallets.append(
                {
                    "address": own,
                    "type": WalletType.TEE.value,
                    "label": "TEE Protected Wallet",
                    "is_active": self._active_external is None,
                }
            )
        for address, info in self.external_wallets.items():
            wallets.append(
                {
                    "address": address,
                    "type": info.wallet_type.value,
                    "label": info.label,
                    "chain_id": info.chain_id,
                    "is_active": self._active_external == address,
                }
            )
        return wallets

    def get_wallet_balance(self, address: str | None = None) -> dict[str, Any]:
        """The balance of a connected wallet (the active one when ``address`` is None),
        read through the manager's web3: ``address``, ``eth_balance`` (wei),
        ``eth_formatted`` (``"1.2345 ETH"``), ``tokens`` (empty) and ``wallet_type``.
        Raises ``ValueError`` for a wallet that is not connected, no active wallet, no
        web3, or a node that does not answer."""
        try:
            own = self.address
            if address is not None:
                target = to_checksum_address(address)
                if target != own and target not in self.external_wallets:
                    raise ValueError(f"Wallet {address} is not connected")
            elif self._active_external is not None:
                target = self._active_external
            elif own is not None:
                target = own
            else:
                raise ValueError("No active wallet available")
            if self.web3 is None:
                raise ValueError("this manager has no web3 to read balances with")
            wei = self.web3.eth.get_balance(target)
            if not isinstance(wei, int):
                raise ValueError(
                    "this manager's web3 is asynchronous: use AsyncSecureWalletManager"
                )
        except Exception as error:
            self.logger.warning("balance of %s not read: %s", address, error)
            raise ValueError(f"Failed to check wallet balance: {error}") from error
        whole, fraction = divmod(wei, WEI_PER_ETHER)
        balance: dict[str, Any] = {
            "address": target,
            "eth_balance": wei,
            # Integer arithmetic: a float rounds balances above 2**53 wei.
            "eth_formatted": f"{whole}.{fraction * 10_000 // WEI_PER_ETHER:04d} ETH",
            "tokens": [],
        }
        if target == own:
            balance["wallet_type"] = WalletType.TEE.value
        elif target in self.external_wallets:
            balance["wallet_type"] = self.external_wallets[target].wallet_type.value
        return balance

    def set_active_wallet(self, address: str | None = None) -> None:
        """Make a connected external wallet active, or the TPM account when ``address``
        is None. Raises ``ValueError`` when that wallet is not there."""
        if address is None:
            if self.address is None:
                raise ValueError("No TEE wallet available")
            self._active_external = None
            return
        try:
            checksummed = to_checksum_address(address)
        except (TypeError, ValueError) as error:
            raise ValueError(f"Wallet {address} is not connected: {error}") from error
        if checksummed == self.address:
            self._active_external = None
        elif checksummed in self.external_wallets:
            self._active_external = checksummed
        else:
            raise ValueError(f"Wallet {address} is not connected")


class TEEWallet:
    """FlareTrade's ``TEEWallet`` over the TPM-sealed account of a
    :class:`SecureWalletManager`.

    ``TEEWallet(web3)`` opens the default TPM (``Vtpm()``) and loads its account, or
    creates one; ``TEEWallet(web3, wallet_manager)`` shares a manager's account. The
    wallet is unlocked while the account is loaded.
    """

    def __init__(self, web3: Web3 | None, wallet_manager: SecureWalletManager | None = None):
        from flare_wallet._manager import SecureWalletManager

        self.web3 = web3
        if wallet_manager is None:
            wallet_manager = SecureWalletManager(web3, account="load_or_create")
        self.wallet_manager = wallet_manager
        self.logger = wallet_logger("flare_wallet.tee_wallet", module="tee_wallet")

    @property
    def address(self) -> ChecksumAddress | None:
        """The account's checksummed address, or None."""
        return self.wallet_manager.address

    @property
    def simulate_attestation(self) -> bool:
        """Whether the TPM is a software simulator (attestation proves nothing then)."""
        return self.wallet_manager.vtpm.is_simulator

    def is_unlocked(self) -> bool:
        """Whether an account is loaded and can sign."""
        return self.wallet_manager.address is not None

    def get_address(self) -> ChecksumAddress | None:
        """The account's checksummed address, or None."""
        return self.wallet_manager.address

    def sign_transaction(self, tx_params: Mapping[str, Any]) -> str:
        """Sign a transaction dict in the TPM wallet; returns the raw signed transaction
        as 0x-hex. Raises ``ValueError`` when the wallet is locked or signing fails."""
        if not self.is_unlocked():
            raise ValueError("Wallet must be unlocked before signing transactions")
        try:
            signed = self.wallet_manager._sign_with_tpm(tx_params)
        except (WalletError, ValueError) as error:
            self.logger.warning("transaction not signed: %s", error)
            raise ValueError(f"Failed to sign transaction: {error}") from error
        return signed.to_0x_hex()

    def get_balance(self) -> int:
        """The account's balance in wei (0 when the node cannot be read, as FlareTrade's).
        Raises ``ValueError`` without an account."""
        address = self.wallet_manager.address
        if address is None:
            raise ValueError("Wallet not initialized")
        if self.web3 is None:
            raise ValueError("this TEEWallet has no web3 to read the balance with")
        try:
            return int(self.web3.eth.get_balance(address))
        except Exception as error:
            self.logger.warning("balance not read: %s", error)
            return 0

    def attestation_info(self) -> dict[str, Any]:
        """What the TPM attests now: ``attested`` (a fresh quote and the wallet's
        signature verified), ``type`` (``"vTPM"``, or ``"simulated"`` on a software TPM),
        ``address``, ``policy_hash`` and, with web3, the latest block's ``timestamp``."""
        attested = self.wallet_manager.validate_wallet_state()
        info: dict[str, Any] = {
            "attested": attested,
            "type": "simulated" if self.simulate_attestation else "vTPM",
            "address": self.wallet_manager.address,
            "policy_hash": self.wallet_manager.policy_hash,
        }
        if self.simulate_attestation:
            info["message"] = "software TPM (swtpm): for development only, proves nothing"
        if self.web3 is not None:
            try:
                info["timestamp"] = int(self.web3.eth.get_block("latest")["timestamp"])
            except Exception as error:
                self.logger.warning("latest block not read: %s", error)
        return info


class AttestationValidator:
    """FlareTrade's ``AttestationValidator`` over :class:`AttestationTokenValidator` and
    the TPM quote verifier.

    ``validate_token(token)`` returns ``{"valid": bool, "errors": [...], "claims":
    {...}}``. With ``simulate=True`` it accepts only tokens simulated by this process
    (``Vtpm(simulate=True).get_token``), never a blanket yes. ``verify_environment()``
    attests the wallet's TPM (``vtpm``) with a fresh nonce.
    """

    def __init__(
        self,
        simulate: bool = False,
        *,
        audience: str = "https://sts.google.com",
        validator: AttestationTokenValidator | None = None,
        vtpm: Any = None,
    ):
        from flare_wallet._confidential_space import (
            SIMULATED_ISSUER,
            SIMULATED_SWNAME,
            ConfidentialSpaceTokens,
        )
        from flare_wallet._token_validation import AttestationTokenValidator

        self.simulate = simulate
        self.vtpm = vtpm
        self.logger = wallet_logger(
            "flare_wallet.attestation_validator", service="attestation_validator"
        )
        if validator is None:
            if simulate:
                validator = AttestationTokenValidator(
                    audience,
                    issuer=SIMULATED_ISSUER,
                    jwks=ConfidentialSpaceTokens.simulation_jwks(),
                    allow_debug=True,
                    swname=SIMULATED_SWNAME,
                )
                self.logger.warning(
                    "AttestationValidator(simulate=True): accepts simulated tokens only"
                )
            else:
                validator = AttestationTokenValidator(audience)
        self.validator = validator

    def validate_token(self, token: str, nonces: Sequence[str] | None = None) -> dict[str, Any]:
        """Validate an attestation token: ``{"valid": True, "errors": [], "claims": ...}``
        or ``{"valid": False, "errors": [reason]}``."""
        try:
            claims = self.validator.validate_token(token, nonces=nonces)
        except TokenValidationError as error:
            self.logger.warning("attestation token refused: %s", error)
            return {"valid": False, "errors": [str(error)]}
        return {"valid": True, "errors": [], "claims": claims}

    def verify_environment(self) -> dict[str, Any]:
        """Attest the wallet's TPM with a fresh nonce and verify the quote:
        ``{"valid": bool, "errors": [...]}``."""
        if self.vtpm is None:
            return {"valid": False, "errors": ["no Vtpm given to AttestationValidator"]}
        try:
            valid = bool(self.vtpm.verify_attestation())
        except (TpmError, WalletError) as error:
            return {"valid": False, "errors": [str(error)]}
        errors = [] if valid else ["the TPM attestation did not verify (or no account)"]
        info = {"valid": valid, "errors": errors}
        if getattr(self.vtpm, "is_simulator", False):
            info["info"] = "software TPM (swtpm): for development only"
        return info
