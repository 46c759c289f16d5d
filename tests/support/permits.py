"""EIP-2612 ``Permit`` documents (EIP-712 JSON, as eth-account and the wallet take them),
shared by the Python and signer suites."""

from __future__ import annotations

from typing import Any

EIP712_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

EIP2612_PERMIT_TYPE = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def eip2612_permit_document(domain: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The full typed-data document of an EIP-2612 ``Permit`` of ``message`` (owner,
    spender, value, nonce, deadline) under ``domain`` (name, version, chainId,
    verifyingContract)."""
    return {
        "types": {"EIP712Domain": EIP712_DOMAIN_TYPE, "Permit": EIP2612_PERMIT_TYPE},
        "primaryType": "Permit",
        "domain": domain,
        "message": message,
    }
