"""``SecureWalletManager``: the FlareTrade wallet API over the TPM-sealed signing core."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, Self, cast, overload

from eth_account.datastructures import SignedMessage
from eth_account.messages import SignableMessage, encode_defunct, encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from flare_wallet._admin import (
    ADMIN_ACTIONS,
    ADMIN_PARAMETERS,
    DEFAULT_DEADLINE_SECONDS,
    approval_items,
    owner_arguments,
    request_action,
    request_text,
)
from flare_wallet._attestation import evidence_from_native
from flare_wallet._flaretrade import ExternalWallets, wallet_logger
from flare_wallet._keystore import kdf_arguments, keystore_text, password_buffer
from flare_wallet._native import Policy
from flare_wallet._native import harden_process as _native_harden_process
from flare_wallet._native import owners_hash as _native_owners_hash
from flare_wallet._policy import as_policy
from flare_wallet._signed import SignedRawTransaction
from flare_wallet._vtpm import Vtpm, _key_bytes
from flare_wallet._web3 import LocalAccountProvider
from flare_wallet.exceptions import (
    AdminApprovalError,
    KeyExportForbidden,
    NoAccountLoaded,
    TpmError,
    WalletError,
)

if TYPE_CHECKING:
    from web3 import Web3

__all__ = ["PublicAccount", "SecureWalletManager"]

KEY_MODES = ("cached", "strict")
# What a manager does about the account when it is made (see SecureWalletManager).
AccountMode = Literal["load", "load_or_create"]
ACCOUNT_MODES = (None, "load", "load_or_create")
_new_bytes = bytes.__new__
PERSONAL_SIGN_HEADER = b"thereum Signed Message:\n"


class PublicAccount:
    """The public side of the wallet's account: ``.address``, never a key."""

    __slots__ = ("_address",)

    def __init__(self, address: str):
        self._address = cast(ChecksumAddress, address)

    @property
    def address(self) -> ChecksumAddress:
        """The checksummed address."""
        return self._address

    @property
    def key(self) -> NoReturn:
        """Refuses: the key stays sealed in the TPM and unsealed only inside the core."""
        raise KeyExportForbidden("the private key never leaves the signing core")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicAccount) and other._address == self._address

    def __hash__(self) -> int:
        return hash(self._address)

    def __repr__(self) -> str:
        return f"PublicAccount(address={self._address!r})"


def _signed_message(message_hash: bytes, rsv: bytes) -> SignedMessage:
    return SignedMessage(
        message_hash=HexBytes(message_hash),
        r=int.from_bytes(rsv[:32], "big"),
        s=int.from_bytes(rsv[32:64], "big"),
        v=rsv[64],
        signature=HexBytes(rsv),
    )


def _domain_fields(domain: object) -> dict[str, Any] | None:
    """The EIP-712 domain's fields as the core takes them, or None when they cannot be
    given that way (the core then signs the hashes alone). The core rebuilds the
    separator from these fields and uses them only when it equals eth-account's."""
    if not isinstance(domain, Mapping):
        return None
    fields: dict[str, Any] = {}
    for key, value in domain.items():
        if key in ("name", "version") and isinstance(value, str):
            fields[key] = value
        elif key == "chainId":
            if isinstance(value, str):
                try:
                    value = int(value, 0)
                except ValueError:
                    return None
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
                return None
            fields["chain_id"] = value
        elif key == "verifyingContract" and isinstance(value, str):
            fields["verifying_contract"] = value
        elif key == "verifyingContract" and isinstance(value, bytes | bytearray):
            fields["verifying_contract"] = "0x" + bytes(value).hex()
        elif key == "salt" and isinstance(value, bytes | bytearray) and len(value) == 32:
            fields["salt"] = bytes(value)
        elif key == "salt" and isinstance(value, str):
            try:
                fields["salt"] = bytes(HexBytes(value))
            except ValueError:
                return None
            if len(fields["salt"]) != 32:
                return None
        else:
            return None
    return fields


def _json_value(value: Any) -> Any:
    """A typed-data value as the core reads it: integers as decimal strings (exact at
    any size), bytes as 0x-hex; mappings and sequences element by element."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    raise WalletError(f"typed data holds a {type(value).__name__}, which EIP-712 has no type for")


def _primary_type(types: Mapping[str, Any]) -> str:
    """The one struct type no other type refers to (eth-account's rule for the
    three-argument form)."""
    names = [name for name in types if name != "EIP712Domain"]
    referenced = {
        str(member.get("type", "")).split("[")[0]
        for name in names
        for member in types[name]
        if isinstance(member, Mapping)
    }
    roots = [name for name in names if name not in referenced]
    if len(roots) != 1:
        raise WalletError(
            "typed data: the primary type cannot be inferred (give full_message with primaryType)"
        )
    return roots[0]


def _typed_data_document(
    domain_data: Mapping[str, Any] | None,
    message_types: Mapping[str, Any] | None,
    message_data: Mapping[str, Any] | None,
    full_message: Mapping[str, Any] | None,
) -> str:
    """The typed-data document as the JSON text the core parses, checks and hashes."""
    if full_message is not None:
        document = {
            "types": full_message.get("types"),
            "primaryType": full_message.get("primaryType"),
            "domain": full_message.get("domain"),
            "message": full_message.get("message"),
        }
    else:
        if message_types is None or message_data is None:
            raise WalletError("typed data needs message_types and message_data, or full_message")
        document = {
            "types": dict(message_types),
            "primaryType": _primary_type(message_types),
            "domain": domain_data if domain_data is not None else {},
            "message": message_data,
        }
    return json.dumps(_json_value(document))


def _decision(native: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "allowed": bool(native["allowed"]),
        "mode": native["mode"],
        "rules": list(native["rules"]),
        "reason": native["reason"],
    }


class SecureWalletManager(ExternalWallets, LocalAccountProvider):
    """An Ethereum account sealed by a TPM, with the FlareTrade wallet manager's API.

    ``web3`` (optional) fills a missing ``chainId`` from ``web3.eth.chain_id`` and binds
    attestations to the node's chain. ``vtpm`` is the :class:`Vtpm` holding the account
    (``Vtpm()``, the default TPM, when None; it is then closed with the manager).
    ``key_mode`` is ``"cached"`` (the unsealed key stays until :meth:`close` on a page of
    its own that is locked in RAM, left out of core dumps and wiped when the key goes) or
    ``"strict"`` (unsealed for each signature, then wiped).

    ``harden_process`` (on by default) makes this process non-dumpable when the key is
    cached (``PR_SET_DUMPABLE 0``: no core dump, no ``ptrace`` by other processes of the
    same user, ``/proc/PID/mem`` for root only). It changes the host process, which is
    why it is an option: pass False to keep core dumps, or to attach a debugger.

    ``policy`` (a :class:`Policy` or its dict) is the signing policy an account created
    or imported by this manager is bound to (the default policy when None: everything
    but unprotected transactions). The core checks it before every signature and raises
    :class:`PolicyViolation`, naming the rule and the value, when it refuses. An account
    keeps its policy in its sealed file: :meth:`load_account` refuses an account bound to
    another policy than a ``policy`` given here. A dict policy refuses raw-hash signing
    (EIP-712 given only as hashes) unless it sets ``allow_raw_hashes``; the default policy
    allows it.

    ``owners`` (1 to 16 addresses) and ``threshold`` (M) make the accounts this manager
    creates or imports administered by those owners: the policy changes, the key is
    exported and the owners are replaced only when M of them sign an EIP-712 request
    (:meth:`admin_request`, :meth:`execute_admin`). The caller of this manager (an agent)
    cannot do any of it alone. Without owners an account is ownerless: its policy never
    changes and its key never leaves the TPM (:class:`OwnerlessAccount`).

    One manager may be shared between threads: the core serialises calls and releases
    the GIL while it talks to the TPM or signs. The key mode belongs to the Vtpm's
    wallet, so managers sharing one Vtpm share the mode the last of them set.

    ``account`` says what happens to the state directory's account when the manager is
    made: None (nothing: call :meth:`create_account`, :meth:`load_account`...),
    ``"load"`` (load it) or ``"load_or_create"`` (load it, or create one when there is
    none; :meth:`create_account` then also returns the existing account instead of
    refusing, so code that creates an account on every start runs again on the same
    state). FlareTrade's external wallets (:meth:`connect_external_wallet` and the rest)
    live beside the TPM account; ``logger`` is a structlog logger when structlog is
    installed (FlareTrade binds it), a stdlib one otherwise.

    ``key_lock`` says what an unsealer of a new account's key must present besides TPM
    access and the account file: ``"pin"`` (``pin`` below; wrong PINs count towards the
    TPM's dictionary-attack lockout), ``"pcr"`` (the current values of ``pcrs``),
    ``"boot-once"`` (the first unseal of each boot; the key then stays cached), joined by
    ``+``, or ``"none"``: then any local process with TPM access and the account file can
    unseal it. An account with a ``policy`` or ``owners`` must name its key lock (``"none"``
    included): creating or importing one without ``key_lock`` (or ``pin``/``pcrs``) raises
    :class:`WalletError`. For an agent, ``"pin"`` is the recommended choice, or
    ``"boot-once"`` for a long-lived process that keeps the key cached. A plain wallet (no
    policy, no owners) defaults to ``"none"``. ``pin`` is also presented when an account is
    loaded or restored; :meth:`change_pin` changes it with the owners' approval.

    ``trust_roots`` and ``allow_unverified_tpm`` apply when the manager opens the default
    TPM itself (``vtpm`` None) and are passed to :class:`Vtpm`: the TPM's EK certificate
    must chain to ``trust_roots`` (PEM, or a PEM file or folder; ``$FLARE_WALLET_TPM_ROOTS``
    when None), or the TPM is refused unless ``allow_unverified_tpm=True`` (insecure: the
    account then records an unverified TPM and its evidence says so). Given with a
    ``vtpm``, they raise :class:`WalletError`: that TPM was opened with its own.
    """

    def __init__(
        self,
        web3: Web3 | None = None,
        vtpm: Vtpm | None = None,
        *,
        key_mode: str = "cached",
        policy: Policy | Mapping[str, Any] | None = None,
        owners: Sequence[str] | None = None,
        threshold: int | None = None,
        account: AccountMode | None = None,
        key_lock: str | None = None,
        pin: str | None = None,
        pcrs: Sequence[int] | None = None,
        harden_process: bool = True,
        trust_roots: bytes | str | os.PathLike[str] | None = None,
        allow_unverified_tpm: bool = False,
    ):
        if key_mode not in KEY_MODES:
            raise WalletError(f"key_mode must be 'cached' or 'strict', not {key_mode!r}")
        if account not in ACCOUNT_MODES:
            raise WalletError(f"account must be None, 'load' or 'load_or_create', not {account!r}")
        self._policy = as_policy(policy)
        self._owners = owner_arguments(owners, threshold)
        self.web3 = web3
        if vtpm is not None and (trust_roots is not None or allow_unverified_tpm):
            raise WalletError(
                "trust_roots and allow_unverified_tpm are for the TPM the manager opens: "
                "pass them to Vtpm(...) when you give a vtpm"
            )
        self._owns_vtpm = vtpm is None
        self.vtpm = (
            vtpm
            if vtpm is not None
            else Vtpm(trust_roots=trust_roots, allow_unverified_tpm=allow_unverified_tpm)
        )
        self._native = self.vtpm._native
        self._native.key_mode = key_mode
        self._key_mode = key_mode
        if harden_process and key_mode == "cached":
            _native_harden_process()
        self._closed = False
        self._account_mode = account
        self._key_lock = key_lock
        self._pin = pin
        self._pcrs = list(pcrs) if pcrs is not None else None
        self.logger = wallet_logger("flare_wallet.wallet_manager", service="wallet_manager")
        self._init_external_wallets()
        try:
            if account == "load":
                self.load_account()
            elif account == "load_or_create":
                self.load_or_create_account()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ accounts

    @property
    def address(self) -> ChecksumAddress | None:
        """The checksummed address of the loaded account, or None."""
        return cast(ChecksumAddress | None, self._native.address)

    @property
    def account(self) -> PublicAccount | None:
        """The loaded account's public view (``.address``), or None."""
        address = self._native.address
        return None if address is None else PublicAccount(address)

    @property
    def key_mode(self) -> str:
        """``"cached"`` or ``"strict"``."""
        return self._key_mode

    @property
    def key_lock(self) -> str:
        """What an unsealer of the loaded account's key must present: ``"pin"``,
        ``"pcr"``, ``"boot-once"`` joined by ``+``, or ``"none"`` (any local process
        with TPM access and the account file can unseal it), as the evidence names it."""
        return self._native.key_lock

    def _lock_options(self) -> dict[str, Any]:
        return {"key_lock": self._key_lock, "pin": self._pin, "pcrs": self._pcrs}

    def _check_open(self) -> None:
        if self._closed:
            raise WalletError("this SecureWalletManager is closed")

    def create_account(self) -> ChecksumAddress:
        """Create a key with TPM entropy, sealed by the TPM; returns its checksummed
        address. The state directory must not already hold an account (a manager made
        with ``account="load_or_create"`` returns that account instead)."""
        self._check_open()
        if self._account_mode == "load_or_create":
            return self.load_or_create_account()
        address = self._native.create_account(
            policy=self._policy, **self._owner_options(), **self._lock_options()
        )
        self.logger.info("created account %s (sealed by the TPM)", address)
        return cast(ChecksumAddress, address)

    def load_or_create_account(self) -> ChecksumAddress:
        """Load the state directory's account, or create one (as :meth:`create_account`)
        when it holds none; returns the checksummed address. Code that makes its
        account at every start uses this to run again on the same state."""
        self._check_open()
        try:
            return self.load_account()
        except NoAccountLoaded:
            pass
        try:
            address = self._native.create_account(
                policy=self._policy, **self._owner_options(), **self._lock_options()
            )
        except WalletError as create_error:
            # Another process may have created it in between: then it loads; otherwise
            # the creation's own error is the one to report.
            try:
                return self.load_account()
            except NoAccountLoaded:
                raise create_error from None
        self.logger.info("created account %s (sealed by the TPM)", address)
        return cast(ChecksumAddress, address)

    def load_account(self) -> ChecksumAddress:
        """Load the sealed account of the state directory; returns its address. Raises
        :class:`NoAccountLoaded` (also a ``ValueError``) when it holds none."""
        self._check_open()
        address = cast(ChecksumAddress, self._native.load_account(pin=self._pin))
        bound = self._native.policy
        if self._policy is not None and bound != self._policy:
            stated = "none" if bound is None else bound.hash
            raise WalletError(
                f"account {address} is bound to policy {stated}, not to the policy given "
                f"to this manager ({self._policy.hash}): call replace_policy() to change "
                "it, or pass policy=None to use the account's own"
            )
        self._check_owners(address)
        return address

    def _check_owners(self, address: str) -> None:
        """Refuses an account whose owners are not the ones given to this manager."""
        if self._owners is None:
            return
        expected = sorted(owner.lower() for owner in self._owners[0])
        if [owner.lower() for owner in self.owners] != expected or (
            self.threshold != self._owners[1]
        ):
            raise WalletError(
                f"account {address} has other owners ({self.threshold} of {self.owners}) "
                "than the ones given to this manager: pass owners=None to use the "
                "account's own"
            )

    def _owner_options(self) -> dict[str, Any]:
        if self._owners is None:
            return {}
        owners, threshold = self._owners
        return {"owners": owners, "threshold": threshold}

    @property
    def owners(self) -> list[str]:
        """The loaded account's owners (checksummed, sorted by address); [] for an
        ownerless account or without an account."""
        found = self._native.owners
        return [] if found is None else list(found[0])

    @property
    def threshold(self) -> int:
        """How many distinct owners must approve an admin action; 0 for an ownerless
        account or without an account."""
        found = self._native.owners
        return 0 if found is None else found[1]

    @property
    def admin_nonce(self) -> int:
        """The nonce the next admin request must carry: how many admin actions the
        account has executed (0 without an account)."""
        nonce = self._native.admin_nonce
        return 0 if nonce is None else nonce

    def import_private_key(self, private_key: str | bytes) -> ChecksumAddress:
        """Seal an existing private key (hex or 32 bytes) as the account; returns its
        address. The caller should then drop its own copy of the key."""
        self._check_open()
        address = self._native.import_key(
            _key_bytes(private_key),
            policy=self._policy,
            **self._owner_options(),
            **self._lock_options(),
        )
        self.logger.info("imported account %s (now sealed by the TPM)", address)
        return cast(ChecksumAddress, address)

    # ------------------------------------------------------------ signing

    def sign_transaction(self, tx_params: Mapping[str, Any]) -> SignedRawTransaction:
        """Sign a transaction dict and return the raw signed transaction for
        ``web3.eth.send_raw_transaction``: bytes (a ``HexBytes``) that also answer
        ``.raw_transaction``, ``.rawTransaction``, ``.hash``, ``.r``, ``.s`` and ``.v``.

        The dict follows eth-account's rules (ints or 0x-hex, ``from`` must be this
        account, ``gasPrice`` or the EIP-1559 fees, ``type`` inferred, ``data`` or
        ``input``, ``accessList``, ``authorizationList``, ``maxFeePerBlobGas``,
        ``blobVersionedHashes``); the bytes equal eth-account's for the same key. A
        missing ``chainId`` is read from web3; without web3 it is an error (``"chainId":
        None`` asks for an unprotected legacy transaction, which the policy refuses unless
        it sets ``allow_unprotected``). Raises :class:`InvalidTransaction` for a malformed
        dict and :class:`PolicyViolation` for one the policy refuses, with nothing
        signed. While an external wallet is active (:meth:`set_active_wallet`) it raises
        ``NotImplementedError``: that wallet signs in its own frontend.
        """
        # The hot path of an agent: each line here costs a measurable part of the
        # signature's time (BENCHMARKS.md), hence the inlined checks.
        if self._closed:
            raise WalletError("this SecureWalletManager is closed")
        if self._active_external is not None:
            raise NotImplementedError(
                f"the active wallet {self._active_external} is external: it signs in its own "
                "frontend (set_active_wallet() makes the TPM account active again)"
            )
        if self.web3 is None or not isinstance(tx_params, Mapping) or "chainId" in tx_params:
            raw = self._native.sign_transaction(tx_params)
        else:
            raw = self._native.sign_transaction(tx_params, chain_id=self._web3_chain_id())
        # SignedRawTransaction adds only properties to bytes: bytes.__new__ makes one
        # without HexBytes.__new__'s conversion of arbitrary input (a third of a
        # microsecond).
        return _new_bytes(SignedRawTransaction, raw)

    def _sign_signable(self, signable: SignableMessage) -> SignedMessage:
        version, header, body = signable.version, signable.header, signable.body
        message_hash = keccak(b"\x19" + version + header + body)
        if version == b"E":
            if header != PERSONAL_SIGN_HEADER + str(len(body)).encode():
                raise WalletError(
                    "this EIP-191 message's header does not state its length: "
                    "build it with eth_account.messages.encode_defunct"
                )
            return _signed_message(message_hash, self._native.sign_message(body))
        if version == b"\x01":
            if len(header) != 32 or len(body) != 32:
                raise WalletError("an EIP-712 message is a 32-byte domain and struct hash")
            return _signed_message(message_hash, self._native.sign_typed_data_hash(header, body))
        raise WalletError(
            f"EIP-191 version {version!r} is not supported: sign personal messages "
            "(encode_defunct) or EIP-712 typed data"
        )

    def sign_message(self, message: str | bytes | SignableMessage) -> SignedMessage:
        """Sign an EIP-191 ``personal_sign`` message: text, bytes, or an eth-account
        ``SignableMessage`` (``encode_defunct`` or ``encode_typed_data``). Returns
        eth-account's ``SignedMessage`` (``message_hash``, ``r``, ``s``, ``v``,
        ``signature``)."""
        self._check_open()
        if isinstance(message, SignableMessage):
            signable = message
        elif isinstance(message, str):
            signable = encode_defunct(text=message)
        elif isinstance(message, bytes | bytearray):
            signable = encode_defunct(primitive=bytes(message))
        else:
            raise WalletError(
                f"sign_message takes str, bytes or a SignableMessage, not {type(message).__name__}"
            )
        return self._sign_signable(signable)

    @overload
    def sign_typed_data(self, full_message: Mapping[str, Any], /) -> SignedMessage: ...
    @overload
    def sign_typed_data(
        self,
        domain_data: Mapping[str, Any] | None = None,
        message_types: Mapping[str, Any] | None = None,
        message_data: Mapping[str, Any] | None = None,
        full_message: Mapping[str, Any] | None = None,
    ) -> SignedMessage: ...
    def sign_typed_data(
        self,
        domain_data: Mapping[str, Any] | None = None,
        message_types: Mapping[str, Any] | None = None,
        message_data: Mapping[str, Any] | None = None,
        full_message: Mapping[str, Any] | None = None,
    ) -> SignedMessage:
        """Sign EIP-712 typed data, given as eth-account takes it: ``(domain_data,
        message_types, message_data)`` positionally or by keyword, ``full_message=``, or
        a full message dict alone as the only argument. Returns eth-account's
        ``SignedMessage``.

        The domain's fields go to the core with the hashes, so the policy's
        ``typed_data_domains`` can check its chain id and verifying contract; a domain the
        core cannot rebuild from its fields (members other than the five EIP-712 ones) is
        signed from its hash only, which such a policy refuses."""
        self._check_open()
        if (
            full_message is None
            and message_types is None
            and message_data is None
            and isinstance(domain_data, Mapping)
            and "primaryType" in domain_data
            and "types" in domain_data
        ):
            # One positional full message (the form this method took before).
            full_message, domain_data = domain_data, None
        signable = encode_typed_data(
            domain_data=dict(domain_data) if domain_data is not None else None,
            message_types=dict(message_types) if message_types is not None else None,
            message_data=dict(message_data) if message_data is not None else None,
            full_message=dict(full_message) if full_message is not None else None,
        )
        domain = full_message.get("domain") if full_message is not None else domain_data
        if _domain_fields(domain) is None:
            # A domain with other members than the five EIP-712 ones: only its hash
            # can be signed, which a policy allows only with allow_raw_hashes.
            return self._sign_signable(signable)
        document = _typed_data_document(domain_data, message_types, message_data, full_message)
        message_hash = keccak(b"\x19" + signable.version + signable.header + signable.body)
        rsv = self._native.sign_typed_data_json(document)
        return _signed_message(message_hash, rsv)

    def check_transaction(self, tx_params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a transaction dict against the policy as :meth:`sign_transaction`
        would, signing nothing. Returns ``{"allowed", "mode", "rules", "reason"}``:
        the policy's default mode, the rules that allowed it (or the one that refused)
        and, for a refusal, the reason naming the rule and the value."""
        self._check_open()
        if "chainId" in tx_params or self.web3 is None:
            native = self._native.check_transaction(tx_params)
        else:
            native = self._native.check_transaction(tx_params, chain_id=self._web3_chain_id())
        return _decision(native)

    def check_typed_data(
        self,
        domain_data: Mapping[str, Any] | None = None,
        message_types: Mapping[str, Any] | None = None,
        message_data: Mapping[str, Any] | None = None,
        full_message: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Check EIP-712 typed data (as :meth:`sign_typed_data` takes it) against the
        policy, signing nothing; returns the decision dict of :meth:`check_transaction`."""
        self._check_open()
        if (
            full_message is None
            and message_types is None
            and message_data is None
            and isinstance(domain_data, Mapping)
            and "primaryType" in domain_data
        ):
            full_message, domain_data = domain_data, None
        document = _typed_data_document(domain_data, message_types, message_data, full_message)
        return _decision(self._native.check_typed_data_json(document))

    def check_authorization(self, chain_id: int, address: str) -> dict[str, Any]:
        """Check an EIP-7702 authorization against the policy as
        :meth:`sign_authorization` would; returns the decision dict."""
        self._check_open()
        return _decision(self._native.check_authorization(chain_id, address))

    def sign_authorization(self, chain_id: int, address: str, nonce: int) -> Any:
        """Sign an EIP-7702 authorization (``keccak256(0x05 || rlp([chain_id, address,
        nonce]))``) if the policy allows the delegate (``delegations_allow``) and the
        chain (0, every chain, only with ``allow_any_chain_authorization``). Returns
        eth-account's ``SignedSetCodeAuthorization``, equal to
        ``Account.sign_authorization``'s for the same key."""
        from eth_account.datastructures import SignedSetCodeAuthorization
        from eth_account.typed_transactions.set_code_transaction import Authorization
        from eth_keys.datatypes import Signature

        self._check_open()
        y_parity, r, s = self._native.sign_authorization(chain_id, address, nonce)
        unsigned = Authorization(chain_id, bytes(HexBytes(address)), nonce)
        return SignedSetCodeAuthorization(
            chain_id=chain_id,
            address=bytes(HexBytes(address)),
            nonce=nonce,
            y_parity=y_parity,
            r=int.from_bytes(r, "big"),
            s=int.from_bytes(s, "big"),
            signature=Signature(vrs=(y_parity, int.from_bytes(r, "big"), int.from_bytes(s, "big"))),
            authorization_hash=unsigned.hash(),
        )

    # ------------------------------------------------------------ attestation, backup

    def enroll(
        self,
        trust_roots: bytes | str | os.PathLike[str] | None = None,
        *,
        ek_certificate: bytes | None = None,
    ) -> bytes:
        """Enroll the TPM's attestation key against ``trust_roots`` (see
        :meth:`Vtpm.enroll`) and return the enrollment record a verifier stores;
        :meth:`validate_wallet_state` verifies against it from then on."""
        self._check_open()
        return self.vtpm.enroll(trust_roots, ek_certificate=ek_certificate)

    def validate_wallet_state(self) -> bool:
        """Attest with a fresh nonce and verify the result against the trust roots and
        enrollment record of :meth:`enroll`: True when the enrollment chains to the
        roots, the quote is by the enrolled AK and the wallet's signature checks out;
        False when they do not, when the AK was never enrolled, when no account is
        loaded, or when the TPM cannot be reached (logged)."""
        self._check_open()
        try:
            return self.vtpm.verify_attestation()
        except TpmError as error:
            self.logger.warning("validate_wallet_state(): the TPM did not answer: %s", error)
            return False

    def attest(
        self, nonce: bytes, *, chain_id: int | None = None, platform_ak: bool = False
    ) -> dict[str, Any]:
        """Attestation evidence for a verifier's ``nonce``: a TPM quote of PCRs 0-7 and
        the wallet's signature over a challenge binding the nonce, the chain id (from
        web3 when not given, else 0), the address and the policy hash. Check it with
        :func:`flare_wallet.verify_attestation`.

        With ``platform_ak=True`` the quote is by the attestation key the platform
        certifies (a GCE Shielded VM vTPM's AK template and certificate in NV), and the
        evidence carries that ``ak_certificate``: a verifier with Google's roots checks
        it with ``verify_attestation(..., trust_roots=..., ak_certificate=...)``."""
        self._check_open()
        if not isinstance(nonce, bytes | bytearray):
            raise WalletError("the attestation nonce is bytes")
        if chain_id is None:
            chain_id = self._web3_chain_id() if self.web3 is not None else 0
        native = self._native.attest(bytes(nonce), chain_id, platform_ak)
        return evidence_from_native(native, bytes(nonce))

    def backup_wallet(self) -> str:
        """A TPM-bound backup of the account: the sealed key, base64. It holds no key in
        clear and restores only on this TPM."""
        self._check_open()
        return self._native.backup()

    def restore_wallet(self, backup_data: str) -> ChecksumAddress:
        """Restore a backup of this TPM and return its address. Into an empty state
        directory the account is restored; when the same account is already loaded the
        backup is checked (unsealed once) and nothing changes.

        The backup carries the account's policy and owners; with ``owners`` given to this
        manager, a restored account with other owners is refused (it stays restored)."""
        self._check_open()
        address = self._native.restore(backup_data, pin=self._pin)
        self._check_owners(address)
        return cast(ChecksumAddress, address)

    # ------------------------------------------------------------ signing policy

    @property
    def policy(self) -> Policy | None:
        """The loaded account's signing policy (None without an account, or for an
        account file written before signing policies)."""
        return self._native.policy

    @property
    def policy_hash(self) -> str | None:
        """The hash of the loaded account's policy as hex, as attestation evidence
        carries it; None without an account."""
        digest = self._native.policy_hash
        return None if digest is None else "0x" + digest.hex()

    def daily_spent(self, chain_id: int | None = None) -> int:
        """Wei counted against ``daily_limit_wei`` on ``chain_id`` over the last 24 hours
        (each signed transaction's value plus its maximum fee)."""
        self._check_open()
        return self._native.daily_spent(chain_id)

    # ------------------------------------------------------------ owner-approved admin actions

    def admin_request(
        self, action: str, *, deadline: int | None = None, **params: Any
    ) -> dict[str, Any]:
        """The EIP-712 typed-data message the owners sign to approve ``action`` with
        ``params``, at the current admin nonce, valid until ``deadline`` (unix seconds;
        now + 15 minutes by default).

        ``action`` and its parameters: ``"replace_policy"`` with ``policy=`` (a
        :class:`Policy` or its dict); ``"replace_owners"`` with ``owners=`` and
        ``threshold=``; ``"export_keystore"`` with ``password=``, ``kdf=`` and
        ``kdf_params=`` (as :meth:`export_keystore` takes them; the KDF runs once here);
        ``"change_pin"`` with none (the request commits to the account's key lock, never
        to a PIN; the PINs go to :meth:`change_pin`).
        The message holds only a hash of the parameters (never a password) and is what
        eth-account's ``Account.sign_typed_data(key, full_message=...)``, ``cast wallet
        sign --data`` and ``eth_signTypedData_v4`` sign. Raises
        :class:`OwnerlessAccount` for an account without owners.
        """
        self._check_open()
        if deadline is None:
            deadline = int(time.time()) + DEFAULT_DEADLINE_SECONDS
        if isinstance(deadline, bool) or not isinstance(deadline, int) or deadline < 0:
            raise WalletError(f"deadline is a unix time in seconds, not {deadline!r}")
        params_hash = self._params_hash(action, params)
        request: dict[str, Any] = json.loads(
            self._native.admin_request(action, params_hash, deadline)
        )
        self.logger.info(
            "admin request %s for %s at nonce %d, valid until %d",
            action,
            self.address,
            request["message"]["nonce"],
            deadline,
        )
        return request

    def _params_hash(self, action: str, params: Mapping[str, Any]) -> bytes:
        self._check_params(action, params)
        if action == "replace_policy":
            policy = as_policy(params["policy"])
            if policy is None:
                raise WalletError("replace_policy needs a policy: Policy() is the default one")
            return bytes.fromhex(policy.hash[2:])
        if action == "replace_owners":
            owners = owner_arguments(params["owners"], params["threshold"])
            assert owners is not None  # both were given
            return _native_owners_hash(*owners)
        if action == "change_pin":
            return bytes(self._native.change_pin_params_hash())
        kdf = params.get("kdf", "scrypt")
        arguments = kdf_arguments(kdf, params.get("kdf_params"))
        with password_buffer(params["password"]) as secret:
            return self._native.export_keystore_params_hash(secret, kdf=kdf, **arguments)

    @staticmethod
    def _check_params(action: str, params: Mapping[str, Any]) -> None:
        if action not in ADMIN_PARAMETERS:
            raise WalletError(f"unknown admin action {action!r}: {', '.join(ADMIN_ACTIONS)}")
        required, optional = ADMIN_PARAMETERS[action]
        missing = [name for name in required if name not in params]
        unknown = [name for name in params if name not in required + optional]
        if missing or unknown:
            takes = ", ".join(f"{name}=" for name in required + optional)
            raise WalletError(
                f"{action} takes {takes}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unknown {', '.join(unknown)}" if unknown else "")
            )

    def execute_admin(
        self,
        request: Mapping[str, Any] | str,
        approvals: Sequence[bytes | str | SignedMessage],
        **params: Any,
    ) -> Any:
        """Execute an owner-approved admin request: ``request`` as :meth:`admin_request`
        returned it (or its JSON text), ``approvals`` the owners' signatures of it (65
        bytes each, as bytes, hex text or eth-account's ``SignedMessage``), and ``params``
        exactly the ones the request commits to (anything else is refused).

        Returns the new policy hash (``replace_policy``, 0x-hex), the keystore's JSON text
        (``export_keystore``) or the new owner set (``replace_owners``: ``{"owners":
        [...], "threshold": M}``). Raises :class:`AdminApprovalError` (``.reason`` says
        why) or :class:`OwnerlessAccount`; nothing changes then. A request executes once:
        the admin nonce advances.
        """
        text = request_text(request)
        action = request_action(text)
        if action == "change_pin":
            # The PINs are given here only: the request commits to neither.
            unknown = [name for name in params if name not in ("new_pin", "pin")]
            if "new_pin" not in params or unknown:
                raise WalletError(
                    "change_pin takes new_pin= and pin= (the current PIN, optional)"
                    + (f"; unknown {', '.join(unknown)}" if unknown else "")
                )
            self._change_pin(text, approvals, params["new_pin"], params.get("pin"))
            return None
        return self._execute(action, text, approvals, params)

    def _execute(
        self,
        action: str,
        request: str,
        approvals: Sequence[bytes | str | SignedMessage],
        params: Mapping[str, Any],
    ) -> Any:
        self._check_open()
        self._check_params(action, params)
        items = approval_items(approvals)
        if action == "replace_policy":
            policy = as_policy(params["policy"])
            if policy is None:
                raise WalletError("replace_policy needs a policy: Policy() is the default one")
            old_hash = self.policy_hash
            new_hash = "0x" + self._native.replace_policy(policy, request, items).hex()
            self._policy = policy
            self.logger.warning(
                "the owners replaced the signing policy of %s: %s -> %s",
                self.address,
                old_hash,
                new_hash,
            )
            return new_hash
        if action == "replace_owners":
            owners = owner_arguments(params["owners"], params["threshold"])
            assert owners is not None  # both were given
            self._native.replace_owners(owners[0], owners[1], request, items)
            if self._owners is not None:
                self._owners = owners
            self.logger.warning(
                "the owners of %s were replaced: now %d of %s",
                self.address,
                self.threshold,
                self.owners,
            )
            return {"owners": self.owners, "threshold": self.threshold}
        kdf = params.get("kdf", "scrypt")
        arguments = kdf_arguments(kdf, params.get("kdf_params"))
        with password_buffer(params["password"]) as secret:
            text: str = self._native.export_keystore(secret, request, items, kdf=kdf, **arguments)
        self.logger.warning(
            "the owners exported account %s as a %s keystore: with its password, it opens "
            "outside this TPM",
            self.address,
            kdf,
        )
        return text

    def _approved(
        self,
        action: str,
        request: Mapping[str, Any] | str | None,
        approvals: Sequence[bytes | str | SignedMessage] | None,
    ) -> tuple[str, Sequence[bytes | str | SignedMessage]]:
        """The request and approvals of an admin call, which cannot be made without
        them."""
        self._check_open()
        if request is None or approvals is None:
            # The core says why for an ownerless account, or a missing one.
            self._native.admin_request(action, bytes(32), 0)
            raise AdminApprovalError(
                f"{action} needs the approval of the account's owners: build the request "
                f"with admin_request({action!r}, ...), have {self.threshold} of the owners "
                "sign it (EIP-712), then pass request= and approvals=",
                "no_approvals",
            )
        return request_text(request), approvals

    def change_pin(
        self,
        new_pin: str,
        *,
        request: Mapping[str, Any] | str | None = None,
        approvals: Sequence[bytes | str | SignedMessage] | None = None,
        pin: str | None = None,
    ) -> None:
        """Seal the key again under ``new_pin``, approved by the owners (a
        ``change_pin`` request from :meth:`admin_request` and their approvals). ``pin``
        is the current PIN (None: the manager's). A wrong current PIN raises
        :class:`WalletError` and counts towards the TPM's dictionary-attack lockout. The
        old account file, which the old PIN opens, is refused afterwards as rolled back.
        Only a PIN-locked account with owners can change its PIN; an ownerless account
        raises :class:`OwnerlessAccount`."""
        text, approved = self._approved("change_pin", request, approvals)
        self._change_pin(text, approved, new_pin, pin)

    def _change_pin(
        self,
        request: str,
        approvals: Sequence[bytes | str | SignedMessage],
        new_pin: str,
        pin: str | None,
    ) -> None:
        self._check_open()
        if not isinstance(new_pin, str) or not new_pin:
            raise WalletError("new_pin is the new PIN: a non-empty str")
        items = approval_items(approvals)
        self._native.change_pin(new_pin, request, items, pin=pin)
        self._pin = new_pin
        self.logger.warning(
            "the owners changed the PIN of %s: the key is sealed under the new PIN", self.address
        )

    def replace_policy(
        self,
        policy: Policy | Mapping[str, Any],
        *,
        request: Mapping[str, Any] | str | None = None,
        approvals: Sequence[bytes | str | SignedMessage] | None = None,
    ) -> str:
        """Bind the account to a new signing policy, approved by its owners (a
        ``replace_policy`` request for exactly this policy and its approvals, see
        :meth:`execute_admin`); returns the new policy hash. The change is appended to
        the audit log and later attestations carry the new hash."""
        text, approved = self._approved("replace_policy", request, approvals)
        result: str = self._execute("replace_policy", text, approved, {"policy": policy})
        return result

    def replace_owners(
        self,
        owners: Sequence[str],
        threshold: int,
        *,
        request: Mapping[str, Any] | str | None = None,
        approvals: Sequence[bytes | str | SignedMessage] | None = None,
    ) -> dict[str, Any]:
        """Replace the account's owners and threshold, approved by the current owners;
        returns ``{"owners": [...], "threshold": M}``."""
        text, approved = self._approved("replace_owners", request, approvals)
        params = {"owners": owners, "threshold": threshold}
        result: dict[str, Any] = self._execute("replace_owners", text, approved, params)
        return result

    def export_keystore(
        self,
        password: str | bytes,
        *,
        kdf: str = "scrypt",
        kdf_params: Mapping[str, int] | None = None,
        request: Mapping[str, Any] | str | None = None,
        approvals: Sequence[bytes | str | SignedMessage] | None = None,
    ) -> dict[str, Any]:
        """Export the account as a Web3 Secret Storage v3 keystore (the file geth,
        eth-account's ``Account.decrypt`` and Foundry's ``cast wallet`` read), approved
        by its owners: an ``export_keystore`` request for exactly this password and KDF
        and its approvals (see :meth:`execute_admin`).

        Unlike :meth:`backup_wallet`, the keystore opens on any machine with its
        password: whoever has both has the key. ``kdf`` is ``"scrypt"`` (``n=2**18, r=8,
        p=1`` unless ``kdf_params`` says otherwise) or ``"pbkdf2"`` (give ``{"c":
        600000}`` or more). An empty password and a KDF weaker than scrypt ``n=2**17,
        r=8`` or pbkdf2 ``c=600000`` are refused (:class:`KeystoreError`). The password
        (str, as UTF-8, or bytes) is not kept.
        """
        text, approved = self._approved("export_keystore", request, approvals)
        params: dict[str, Any] = {"password": password, "kdf": kdf, "kdf_params": kdf_params}
        keystore: dict[str, Any] = json.loads(
            self._execute("export_keystore", text, approved, params)
        )
        return keystore

    @property
    def audit_log(self) -> bytes:
        """The state directory's audit log as its file holds it (hash-chained lines, one
        per account event, admin action and policy refusal), for
        :func:`flare_wallet.verify_audit_log`."""
        self._check_open()
        return self._native.audit_log()

    @property
    def audit_head(self) -> str:
        """The hash of the audit log's last entry as 0x-hex (zeros for an empty log), as
        attestation evidence carries it."""
        self._check_open()
        return "0x" + self._native.audit_head().hex()

    def audit_entries(self) -> list[dict[str, Any]]:
        """The audit log's entries as dicts, oldest first, checked against its head."""
        self._check_open()
        return self._native.audit_entries()

    # ------------------------------------------------------------ portable keystore

    def import_keystore(
        self, keystore: Mapping[str, Any] | str | bytes, password: str | bytes
    ) -> str:
        """Decrypt a v3 keystore (a dict, or its JSON text) and seal its key into the
        TPM at once as the account; returns the checksummed address. The state
        directory must not hold an account yet.

        scrypt and pbkdf2 keystores from geth, eth-account and Foundry are read.
        Raises :class:`KeystoreError` for a wrong password (a modified ciphertext or MAC
        gives the same error), a malformed file or KDF parameters over a limit.
        """
        self._check_open()
        text = keystore_text(keystore)
        with password_buffer(password) as secret:
            address = self._native.import_keystore(
                text, secret, policy=self._policy, **self._owner_options(), **self._lock_options()
            )
        self.logger.info("imported account %s from a keystore (now sealed by the TPM)", address)
        return address

    # ------------------------------------------------------------ life cycle

    def close(self) -> None:
        """Wipe the cached key (and close the Vtpm if this manager opened it)."""
        if self._closed:
            return
        self._closed = True
        if self._owns_vtpm:
            self.vtpm.close()
        elif not self.vtpm.closed:
            self._native.key_mode = "strict"
            self._native.key_mode = self._key_mode

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"address={self.address!r}"
        return f"SecureWalletManager({state}, key_mode={self._key_mode!r})"
