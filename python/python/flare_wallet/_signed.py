"""``SignedRawTransaction``: the raw signed transaction that also reads like eth-account's
``SignedTransaction``.

``sign_transaction`` has always returned the raw bytes (what ``send_raw_transaction``
takes). Code written for eth-account reads ``signed.raw_transaction`` (or the older
``signed.rawTransaction``), ``.hash``, ``.r``, ``.s`` and ``.v`` instead; this bytes type
answers both ways. The extra fields are decoded from the bytes only when asked for, so
the signing path pays nothing for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Self

from eth_utils.crypto import keccak
from hexbytes import HexBytes

__all__ = ["SignedRawTransaction"]

# pyrlp (an eth-account dependency) ships no type information.
_rlp_decode: Callable[[bytes], Any] = importlib.import_module("rlp").decode

# EIP-2718: a first byte at or below 0x7f is a transaction type; a legacy transaction is
# an RLP list, whose first byte is at least 0xc0.
_LAST_TYPE_BYTE = 0x7F


class SignedRawTransaction(HexBytes):
    """A signed transaction's raw bytes (a ``HexBytes``), also answering the fields of
    eth-account's ``SignedTransaction``: ``raw_transaction``, ``rawTransaction``,
    ``hash``, ``r``, ``s`` and ``v``."""

    @property
    def raw_transaction(self) -> Self:
        """The raw signed transaction: these bytes."""
        return self

    @property
    def rawTransaction(self) -> Self:  # noqa: N802 (eth-account's name before 0.13)
        """The raw signed transaction (the name eth-account used before 0.13)."""
        return self

    @property
    def hash(self) -> HexBytes:
        """The transaction hash: Keccak-256 of the raw bytes."""
        return HexBytes(keccak(bytes(self)))

    def _signature_fields(self) -> tuple[int, int, int]:
        """(v, r, s) as eth-account reports them: ``v`` is the y parity for a typed
        transaction and the EIP-155 (or 27/28) value for a legacy one."""
        raw = bytes(self)
        payload = raw[1:] if raw and raw[0] <= _LAST_TYPE_BYTE else raw
        fields = _rlp_decode(payload)
        if not isinstance(fields, list) or len(fields) < 3:
            raise ValueError("these bytes are not a signed transaction")
        v, r, s = (int.from_bytes(field, "big") for field in fields[-3:])
        return v, r, s

    @property
    def r(self) -> int:
        """The signature's r."""
        return self._signature_fields()[1]

    @property
    def s(self) -> int:
        """The signature's s."""
        return self._signature_fields()[2]

    @property
    def v(self) -> int:
        """The signature's v (y parity for typed transactions, EIP-155 v for legacy)."""
        return self._signature_fields()[0]
