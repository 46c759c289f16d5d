"""Keystore arguments: passwords, KDF choices and keystore documents.

A password is handed to the core as a ``bytearray`` that this module owns and overwrites
with zeros as soon as the core returns: the core copies it into its own zeroizing memory,
and no other copy is made here. (A ``str`` or ``bytes`` password the caller holds is
immutable and stays the caller's.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flare_wallet.exceptions import KeystoreError

__all__ = ["KDF_PARAMETERS", "kdf_arguments", "keystore_text", "password_buffer"]

# The cost parameters each KDF takes, named as a keystore's ``kdfparams`` names them.
KDF_PARAMETERS: dict[str, tuple[str, ...]] = {"scrypt": ("n", "r", "p"), "pbkdf2": ("c",)}


@contextmanager
def password_buffer(password: str | bytes | bytearray | memoryview) -> Iterator[bytearray]:
    """The password as UTF-8 in a private ``bytearray``, zeroed when the block ends."""
    if isinstance(password, str):
        buffer = bytearray(password, "utf-8")
    elif isinstance(password, bytes | bytearray | memoryview):
        buffer = bytearray(password)
    else:
        raise KeystoreError(f"the password must be str or bytes, not {type(password).__name__}")
    try:
        yield buffer
    finally:
        buffer[:] = bytes(len(buffer))


def kdf_arguments(kdf: str, kdf_params: Mapping[str, int] | None) -> dict[str, int]:
    """The core's keyword arguments for ``kdf`` with ``kdf_params``; the values
    themselves (powers of two, limits) are checked by the core."""
    if kdf not in KDF_PARAMETERS:
        raise KeystoreError(f"kdf must be 'scrypt' or 'pbkdf2', not {kdf!r}")
    allowed = KDF_PARAMETERS[kdf]
    arguments: dict[str, int] = {}
    for name, value in (kdf_params or {}).items():
        if name not in allowed:
            raise KeystoreError(
                f"unknown {kdf} parameter {name!r}: {kdf} takes {', '.join(allowed)}"
            )
        if isinstance(value, bool) or not isinstance(value, int):
            raise KeystoreError(
                f"{kdf} parameter {name} must be an int, not {type(value).__name__}"
            )
        if value < 1:
            raise KeystoreError(f"{kdf} parameter {name} must be at least 1, not {value}")
        arguments[name] = value
    return arguments


def keystore_text(keystore: Mapping[str, Any] | str | bytes | bytearray) -> str:
    """A keystore given as a dict (as ``json.load`` or ``Account.encrypt`` return it) or
    as its JSON text, as JSON text."""
    if isinstance(keystore, Mapping):
        try:
            return json.dumps(dict(keystore))
        except (TypeError, ValueError) as error:
            raise KeystoreError(f"the keystore dict is not JSON data: {error}") from None
    if isinstance(keystore, bytes | bytearray):
        try:
            return bytes(keystore).decode("utf-8")
        except UnicodeDecodeError:
            raise KeystoreError("the keystore is not UTF-8 JSON text") from None
    if isinstance(keystore, str):
        return keystore
    raise KeystoreError(f"a keystore is a dict or its JSON text, not {type(keystore).__name__}")
