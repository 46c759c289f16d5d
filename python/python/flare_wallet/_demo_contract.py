"""The demo's contract: an ERC-20 style ``approve`` / ``allowance``, assembled here.

No compiler and no network: the bytecode is assembled from the listing below by a
twenty-line assembler (labels, PUSH sizes chosen by hand), so the listing *is* the
source. ``approve(spender, amount)`` stores ``amount`` at
``keccak256(msg.sender . spender)``, emits ``Approval(owner, spender, amount)`` and returns
true; ``allowance(owner, spender)`` reads the slot back. Anything else reverts.
"""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

__all__ = ["ABI", "INIT_CODE", "RUNTIME_CODE", "assemble"]

APPROVE = keccak(b"approve(address,uint256)")[:4]
ALLOWANCE = keccak(b"allowance(address,address)")[:4]
APPROVAL_TOPIC = keccak(b"Approval(address,address,uint256)")

OPCODES = {
    "STOP": 0x00, "EQ": 0x14, "SHR": 0x1C, "SHA3": 0x20, "CALLER": 0x33,
    "CALLDATALOAD": 0x35, "CODECOPY": 0x39, "POP": 0x50, "MLOAD": 0x51, "MSTORE": 0x52,
    "SLOAD": 0x54, "SSTORE": 0x55, "JUMPI": 0x57, "JUMPDEST": 0x5B, "DUP1": 0x80,
    "LOG3": 0xA3, "RETURN": 0xF3, "REVERT": 0xFD,
}  # fmt: skip

# (mnemonic, operand): PUSHn takes bytes or a label (one byte), ":name" marks a label.
RUNTIME: list[tuple[str, Any]] = [
    # selector = calldata[0:4]
    ("PUSH1", b"\x00"), ("CALLDATALOAD", None), ("PUSH1", b"\xe0"), ("SHR", None),
    ("DUP1", None), ("PUSH4", APPROVE), ("EQ", None), ("PUSH1", "approve"), ("JUMPI", None),
    ("PUSH4", ALLOWANCE), ("EQ", None), ("PUSH1", "allowance"), ("JUMPI", None),
    ("PUSH1", b"\x00"), ("DUP1", None), ("REVERT", None),
    # approve(address spender, uint256 amount) -> bool
    (":approve", None), ("JUMPDEST", None), ("POP", None),
    ("CALLER", None), ("PUSH1", b"\x00"), ("MSTORE", None),           # mem[0:32] = owner
    ("PUSH1", b"\x04"), ("CALLDATALOAD", None),
    ("PUSH1", b"\x20"), ("MSTORE", None),                             # mem[32:64] = spender
    ("PUSH1", b"\x24"), ("CALLDATALOAD", None), ("DUP1", None),       # amount, amount
    ("PUSH1", b"\x40"), ("PUSH1", b"\x00"), ("SHA3", None),           # slot
    ("SSTORE", None),                                                 # sstore(slot, amount)
    ("PUSH1", b"\x40"), ("MSTORE", None),                             # mem[64:96] = amount
    ("PUSH1", b"\x20"), ("MLOAD", None), ("CALLER", None),            # spender, owner
    ("PUSH32", APPROVAL_TOPIC), ("PUSH1", b"\x20"), ("PUSH1", b"\x40"),
    ("LOG3", None),                                                   # Approval(owner, spender, n)
    ("PUSH1", b"\x01"), ("PUSH1", b"\x00"), ("MSTORE", None),
    ("PUSH1", b"\x20"), ("PUSH1", b"\x00"), ("RETURN", None),         # return true
    # allowance(address owner, address spender) -> uint256
    (":allowance", None), ("JUMPDEST", None),
    ("PUSH1", b"\x04"), ("CALLDATALOAD", None), ("PUSH1", b"\x00"), ("MSTORE", None),
    ("PUSH1", b"\x24"), ("CALLDATALOAD", None), ("PUSH1", b"\x20"), ("MSTORE", None),
    ("PUSH1", b"\x40"), ("PUSH1", b"\x00"), ("SHA3", None), ("SLOAD", None),
    ("PUSH1", b"\x00"), ("MSTORE", None),
    ("PUSH1", b"\x20"), ("PUSH1", b"\x00"), ("RETURN", None),
]  # fmt: skip


def assemble(listing: list[tuple[str, Any]]) -> bytes:
    """Two passes: label offsets first, then bytes."""
    labels: dict[str, int] = {}
    offset = 0
    for mnemonic, _ in listing:
        if mnemonic.startswith(":"):
            labels[mnemonic[1:]] = offset
        elif mnemonic.startswith("PUSH"):
            offset += 1 + int(mnemonic[4:])
        else:
            offset += 1
    out = bytearray()
    for mnemonic, operand in listing:
        if mnemonic.startswith(":"):
            continue
        if mnemonic.startswith("PUSH"):
            size = int(mnemonic[4:])
            data = bytes([labels[operand]]) if isinstance(operand, str) else operand
            if len(data) != size:
                raise ValueError(f"{mnemonic} needs {size} bytes, got {len(data)}")
            out += bytes([0x5F + size]) + data
        else:
            out.append(OPCODES[mnemonic])
    return bytes(out)


RUNTIME_CODE = assemble(RUNTIME)

# Init code: copy the runtime code (which follows these 11 bytes) to memory, return it.
INIT_CODE = (
    assemble(
        [
            ("PUSH1", bytes([len(RUNTIME_CODE)])),
            ("DUP1", None),
            ("PUSH1", b"\x0b"),
            ("PUSH1", b"\x00"),
            ("CODECOPY", None),
            ("PUSH1", b"\x00"),
            ("RETURN", None),
        ]
    )
    + RUNTIME_CODE
)

ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "spender", "type": "address"},
            {"name": "amount", "type": "uint256"},
        ],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [
            {"name": "owner", "type": "address"},
            {"name": "spender", "type": "address"},
        ],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "event",
        "name": "Approval",
        "anonymous": False,
        "inputs": [
            {"name": "owner", "type": "address", "indexed": True},
            {"name": "spender", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
]
