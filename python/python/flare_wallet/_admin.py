"""Owner-approved admin actions: the arguments they take, and the audit log.

An account created with owners (1 to 16 Ethereum addresses and a threshold M) changes
its policy, exports its key or replaces its owners only when M owners sign an EIP-712
``AdminRequest`` for exactly that action and those parameters. This module reads what a
caller passes (owners, approvals in the forms signers return them, a request as a dict or
its JSON text) into the forms the core takes; the core checks everything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from eth_account.datastructures import SignedMessage

from flare_wallet import _native
from flare_wallet.exceptions import AdminApprovalError, InvalidOwners, WalletError

__all__ = [
    "ADMIN_ACTIONS",
    "ADMIN_PARAMETERS",
    "DEFAULT_DEADLINE_SECONDS",
    "approval_items",
    "owner_arguments",
    "request_action",
    "request_text",
    "verify_audit_log",
]

# The actions owners approve.
ADMIN_ACTIONS = ("replace_policy", "export_keystore", "replace_owners", "change_pin")
# The parameters each action takes: (required, optional).
ADMIN_PARAMETERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "replace_policy": (("policy",), ()),
    "export_keystore": (("password",), ("kdf", "kdf_params")),
    "replace_owners": (("owners", "threshold"), ()),
    # The request commits to no PIN: the PINs are given only when it is executed.
    "change_pin": ((), ()),
}
# How long a request stays valid when no deadline is given.
DEFAULT_DEADLINE_SECONDS = 15 * 60


def owner_arguments(
    owners: Sequence[str] | None, threshold: int | None
) -> tuple[list[str], int] | None:
    """Owners and threshold checked as the core checks an account's (addresses, 1 to 16
    of them, distinct, not zero, ``1 <= threshold <= len(owners)``); None for neither.
    Raises :class:`InvalidOwners`."""
    if owners is None and threshold is None:
        return None
    if owners is None:
        raise InvalidOwners("a threshold needs owners: pass owners=[...] with it")
    if threshold is None:
        raise InvalidOwners(
            "owners need a threshold: how many of them must approve an admin action"
        )
    if isinstance(owners, str | bytes) or not isinstance(owners, Sequence):
        raise InvalidOwners(f"owners is a list of addresses, not {type(owners).__name__}")
    if any(not isinstance(owner, str) for owner in owners):
        raise InvalidOwners("each owner is an address as 0x-hex text")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise InvalidOwners(f"the threshold is a positive int, not {threshold!r}")
    _native.owners_hash(list(owners), threshold)
    return list(owners), threshold


def approval_items(approvals: Sequence[Any]) -> list[bytes | str]:
    """Approvals as the core takes them: each a 65-byte signature as bytes or hex text,
    or eth-account's ``SignedMessage`` (its ``.signature``)."""
    if isinstance(approvals, str | bytes | bytearray | SignedMessage) or not isinstance(
        approvals, Sequence
    ):
        raise WalletError(
            "approvals is a list of signatures (bytes, hex text or SignedMessage), "
            f"not {type(approvals).__name__}"
        )
    items: list[bytes | str] = []
    for index, approval in enumerate(approvals):
        if isinstance(approval, SignedMessage):
            items.append(bytes(approval.signature))
        elif isinstance(approval, bytes | bytearray | memoryview):
            items.append(bytes(approval))
        elif isinstance(approval, str):
            items.append(approval)
        else:
            raise WalletError(
                f"approval {index} must be bytes, hex text or a SignedMessage, "
                f"not {type(approval).__name__}"
            )
    return items


def request_text(request: Mapping[str, Any] | str | bytes) -> str:
    """A request given as the dict ``admin_request`` returns or as its JSON text."""
    if isinstance(request, Mapping):
        try:
            return json.dumps(dict(request))
        except (TypeError, ValueError) as error:
            raise AdminApprovalError(
                f"the admin request is not JSON data: {error}", "malformed_request"
            ) from None
    if isinstance(request, bytes | bytearray):
        try:
            return bytes(request).decode("utf-8")
        except UnicodeDecodeError:
            raise AdminApprovalError(
                "the admin request is not UTF-8 JSON text", "malformed_request"
            ) from None
    if isinstance(request, str):
        return request
    raise AdminApprovalError(
        f"an admin request is a dict or its JSON text, not {type(request).__name__}",
        "malformed_request",
    )


def request_action(text: str) -> str:
    """The action a request's JSON text names (the core reads the rest strictly)."""
    try:
        action = json.loads(text)["message"]["action"]
    except (ValueError, TypeError, KeyError):
        raise AdminApprovalError(
            "the admin request is not EIP-712 typed data with message.action",
            "malformed_request",
        ) from None
    if action not in ADMIN_ACTIONS:
        raise AdminApprovalError(
            f"unknown admin action {action!r}: {', '.join(ADMIN_ACTIONS)}", "malformed_request"
        )
    return str(action)


def _log_bytes(value: bytes | bytearray | str, what: str, *, hex_text: bool) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        if not hex_text:
            return value.encode("utf-8")
        digits = value[2:] if value[:2] in ("0x", "0X") else value
        try:
            return bytes.fromhex(digits)
        except ValueError:
            raise WalletError(f"{what} is not hex") from None
    raise WalletError(f"{what} must be bytes or str, not {type(value).__name__}")


def verify_audit_log(log: bytes | str, head: bytes | str) -> list[dict[str, Any]]:
    """Check an audit log (the file's bytes or text) against the head it must end at
    (32 bytes or 0x-hex, as ``SecureWalletManager.audit_head`` and attestation give it)
    and return its entries, oldest first, as dicts (``seq``, ``time``, ``event``,
    ``address``, the event's fields, ``prev``, ``hash``). Raises :class:`AuditLogError`
    naming the first line that was edited, removed, inserted or moved."""
    return _native.verify_audit_log(
        _log_bytes(log, "the audit log", hex_text=False),
        _log_bytes(head, "the audit log head", hex_text=True),
    )
