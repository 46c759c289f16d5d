"""Everything FlareTrade's and upstream flare-ai-defai's wallet modules export, from
flare_wallet, for a one-line shim in the application's own package::

    # <app>/blockchain/wallet/__init__.py
    from flare_wallet.dropin import *  # noqa: F403

``SecureWalletManager`` here differs from :class:`flare_wallet.SecureWalletManager` in
one default: ``account="load_or_create"``, because FlareTrade calls
``create_account()`` at every start and expects it to work again on the same state
(the sealed account persists; the first run creates it, later runs load it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flare_wallet._confidential_space import wallet_nonces
from flare_wallet._flaretrade import AttestationValidator, TEEWallet, WalletInfo, WalletType
from flare_wallet._manager import AccountMode
from flare_wallet._manager import SecureWalletManager as _BaseManager
from flare_wallet._native import Policy
from flare_wallet._token_validation import AttestationTokenValidator
from flare_wallet._vtpm import Vtpm
from flare_wallet.exceptions import (
    NoAccountLoaded,
    TokenValidationError,
    VtpmAttestationError,
    WalletError,
)

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "AttestationTokenValidator",
    "AttestationValidator",
    "NoAccountLoaded",
    "SecureWalletManager",
    "TEEWallet",
    "TokenValidationError",
    "Vtpm",
    "VtpmAttestationError",
    "WalletError",
    "WalletInfo",
    "WalletType",
    "wallet_nonces",
]


class SecureWalletManager(_BaseManager):
    """:class:`flare_wallet.SecureWalletManager` with ``account="load_or_create"`` by
    default: the state directory's account is loaded when the manager is made (or
    created when there is none), and ``create_account()`` returns it."""

    def __init__(
        self,
        web3: Web3 | None = None,
        vtpm: Vtpm | None = None,
        *,
        key_mode: str = "cached",
        policy: Policy | Mapping[str, Any] | None = None,
        account: AccountMode | None = "load_or_create",
        trust_roots: bytes | str | os.PathLike[str] | None = None,
        allow_unverified_tpm: bool = False,
    ):
        super().__init__(
            web3,
            vtpm,
            key_mode=key_mode,
            policy=policy,
            account=account,
            trust_roots=trust_roots,
            allow_unverified_tpm=allow_unverified_tpm,
        )
