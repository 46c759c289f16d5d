"""Transaction cases for the differential suite: seeded random ones and fixed edge cases.

A case is a request for the core's `sign_json` example (`{"key", "tx"}`) whose
`tx` is also a valid eth-account transaction dict: quantities are `0x` hex
strings (or JSON integers when small), addresses are EIP-55 strings, byte
strings are `0x` hex. Every case carries tags naming what it exercises, so a
test can show that the generator really covered each boundary.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_utils.address import to_checksum_address

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1
U256_MAX = (1 << 256) - 1
# EIP-2294: floor(u64::MAX / 2) - 36, so that 2 * chainId + 36 fits a u64.
MAX_CHAIN_ID = U64_MAX // 2 - 36
LONG_CALLDATA = 33 * 1024

LEGACY = "legacy"  # pre-EIP-155, no chain id
LEGACY_155 = "legacy-eip155"
EIP2930 = "eip2930"
EIP1559 = "eip1559"
EIP4844 = "eip4844"
EIP7702 = "eip7702"
KINDS = (LEGACY, LEGACY_155, EIP2930, EIP1559, EIP4844, EIP7702)
TYPE_BYTE = {LEGACY: None, LEGACY_155: None, EIP2930: 1, EIP1559: 2, EIP4844: 3, EIP7702: 4}
CAN_CREATE = {LEGACY, LEGACY_155, EIP2930, EIP1559}
HAS_ACCESS_LIST = {EIP2930, EIP1559, EIP4844, EIP7702}

# What the differential suite must have exercised, whatever the seed.
REQUIRED_TAGS = frozenset(
    {f"type:{kind}" for kind in KINDS}
    | {
        "nonce:max",
        "value:max",
        "gas:max",
        "gasPrice:max",
        "maxFeePerGas:max",
        "maxPriorityFeePerGas:max",
        "maxFeePerBlobGas:max",
        "data:0B",
        "data:1B",
        "data:33KiB",
        "accessList:empty",
        "accessList:several",
        "accessList:many-keys",
        "create",
        "chainId:1",
        "chainId:max",
        "authorization:chainId-0",
        "authorization:chainId-max",
        "authorization:nonce-max",
    }
)


@dataclass
class Case:
    """One signing request, the eth-account dict inside it, and what it covers."""

    name: str
    kind: str
    key: str
    tx: dict[str, Any]
    tags: set[str] = field(default_factory=set)

    def request(self) -> dict[str, Any]:
        return {"key": self.key, "tx": self.tx}


def hex_quantity(value: int) -> str:
    return hex(value)


def key_hex(secret: int) -> str:
    return "0x" + secret.to_bytes(32, "big").hex()


def random_key(rng: random.Random) -> str:
    return key_hex(rng.randrange(1, SECP256K1_ORDER))


def random_address(rng: random.Random) -> str:
    return to_checksum_address(rng.randbytes(20))


def random_quantity(rng: random.Random, bits: int) -> int:
    """A value below 2**bits, biased towards the boundaries RLP cares about."""
    top = (1 << bits) - 1
    pick = rng.random()
    if pick < 0.08:
        return 0
    if pick < 0.14:
        return top
    if pick < 0.24:
        return rng.randrange(1, 0x80)  # encodes as a single byte
    if pick < 0.32:
        return rng.randrange(0x80, 0x100)  # one byte behind a 0x81 prefix
    if pick < 0.46:
        # Around a byte-length boundary: 2**(8k) - 1, 2**(8k), 2**(8k) + 1.
        k = rng.randrange(1, bits // 8)
        return min(top, (1 << (8 * k)) + rng.choice((-1, 0, 1)))
    if pick < 0.58:
        return top - rng.randrange(0, 1000)
    return rng.getrandbits(rng.randrange(1, bits + 1))


def random_chain_id(rng: random.Random) -> int:
    pick = rng.random()
    if pick < 0.15:
        return 1
    if pick < 0.30:
        return rng.choice((2, 5, 10, 56, 100, 127, 128, 137, 255, 256, 8453, 42161, 11155111))
    if pick < 0.50:
        return rng.randrange(1, 2**32)
    if pick < 0.70:
        return rng.randrange(1, MAX_CHAIN_ID + 1)
    if pick < 0.85:
        return MAX_CHAIN_ID
    return MAX_CHAIN_ID - rng.randrange(0, 1000)


def random_calldata(rng: random.Random) -> bytes:
    pick = rng.random()
    if pick < 0.15:
        return b""
    if pick < 0.25:
        return bytes([rng.choice((0x00, 0x01, 0x7F, 0x80, 0xFF, rng.randrange(256)))])
    if pick < 0.45:
        return rng.randbytes(rng.randrange(2, 57))
    if pick < 0.80:
        return rng.randbytes(rng.randrange(57, 1025))
    if pick < 0.94:
        return rng.randbytes(rng.randrange(1025, 8193))
    return rng.randbytes(LONG_CALLDATA)


def random_access_list(rng: random.Random) -> list[dict[str, Any]]:
    pick = rng.random()
    if pick < 0.35:
        return []
    if pick < 0.85:
        return [
            {
                "address": random_address(rng),
                "storageKeys": ["0x" + rng.randbytes(32).hex() for _ in range(rng.randrange(0, 5))],
            }
            for _ in range(rng.randrange(1, 5))
        ]
    # Many keys, and the same address listed twice, as the EIP allows.
    address = random_address(rng)
    return [
        {"address": address, "storageKeys": ["0x" + rng.randbytes(32).hex() for _ in range(rng.randrange(64, 300))]},
        {"address": random_address(rng), "storageKeys": []},
        {"address": address, "storageKeys": ["0x" + "00" * 32]},
    ]


def random_blob_hashes(rng: random.Random) -> list[str]:
    count = rng.choice((1, 1, 2, 3, 6, 9))
    return ["0x01" + rng.randbytes(31).hex() for _ in range(count)]


def signed_authorization(chain_id: int, address: str, nonce: int, key: str) -> dict[str, Any]:
    """An EIP-7702 authorization signed by eth-account, in dict form."""
    signed = Account.sign_authorization({"chainId": chain_id, "address": address, "nonce": nonce}, key)
    return {
        "chainId": hex_quantity(signed.chain_id),
        "address": to_checksum_address(signed.address),
        "nonce": hex_quantity(signed.nonce),
        "yParity": hex_quantity(signed.y_parity),
        "r": hex_quantity(signed.r),
        "s": hex_quantity(signed.s),
    }


def random_authorizations(rng: random.Random, tx_key: str) -> list[dict[str, Any]]:
    auths = []
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        pick = rng.random()
        if pick < 0.25:
            chain_id = 0  # valid on every chain
        elif pick < 0.5:
            chain_id = rng.choice((1, random_chain_id(rng)))
        else:
            chain_id = random_quantity(rng, 256)
        signer = tx_key if rng.random() < 0.3 else random_key(rng)
        auths.append(signed_authorization(chain_id, random_address(rng), random_quantity(rng, 64), signer))
    return auths


def quantity_json(rng: random.Random, value: int) -> Any:
    """Small values sometimes travel as JSON integers, as a web3 dict has them."""
    if value < 2**53 and rng.random() < 0.3:
        return value
    return hex_quantity(value)


def tag_case(case: Case) -> Case:
    """Names what the case exercises, from the dict itself."""
    tx, tags = case.tx, case.tags
    tags.add(f"type:{case.kind}")

    def as_int(value: Any) -> int:
        return value if isinstance(value, int) else int(value, 16)

    for name, top in (
        ("nonce", U64_MAX),
        ("gas", U64_MAX),
        ("value", U256_MAX),
        ("gasPrice", U256_MAX),
        ("maxFeePerGas", U256_MAX),
        ("maxPriorityFeePerGas", U256_MAX),
        ("maxFeePerBlobGas", U256_MAX),
    ):
        if name in tx:
            value = as_int(tx[name])
            if value == top:
                tags.add(f"{name}:max")
            elif value == 0:
                tags.add(f"{name}:0")
    data_len = (len(tx.get("data", "0x")) - 2) // 2
    if data_len in (0, 1):
        tags.add(f"data:{data_len}B")
    elif data_len >= LONG_CALLDATA:
        tags.add("data:33KiB")
    if "accessList" in tx:
        items = tx["accessList"]
        if not items:
            tags.add("accessList:empty")
        elif sum(len(item["storageKeys"]) for item in items) >= 64:
            tags.add("accessList:many-keys")
        elif len(items) >= 2:
            tags.add("accessList:several")
    if case.kind in CAN_CREATE and tx.get("to") in (None, "", "0x"):
        tags.add("create")
    if "chainId" in tx:
        chain_id = as_int(tx["chainId"])
        if chain_id == 1:
            tags.add("chainId:1")
        elif chain_id == MAX_CHAIN_ID:
            tags.add("chainId:max")
    for auth in tx.get("authorizationList", ()):
        if int(auth["chainId"], 16) == 0:
            tags.add("authorization:chainId-0")
        if int(auth["chainId"], 16) == U256_MAX:
            tags.add("authorization:chainId-max")
        if int(auth["nonce"], 16) == U64_MAX:
            tags.add("authorization:nonce-max")
    return case


def random_case(rng: random.Random, index: int, kind: str, fee_bits: int = 256) -> Case:
    """A random transaction of `kind`; `fee_bits` bounds every fee (cast takes u128 fees)."""
    key = random_key(rng)
    tx: dict[str, Any] = {}
    type_byte = TYPE_BYTE[kind]
    if type_byte is not None:
        tx["type"] = quantity_json(rng, type_byte)
    if kind != LEGACY:
        tx["chainId"] = quantity_json(rng, random_chain_id(rng))
    tx["nonce"] = quantity_json(rng, random_quantity(rng, 64))
    tx["gas"] = quantity_json(rng, random_quantity(rng, 64))
    if kind in (LEGACY, LEGACY_155, EIP2930):
        tx["gasPrice"] = quantity_json(rng, random_quantity(rng, fee_bits))
    else:
        tx["maxFeePerGas"] = quantity_json(rng, random_quantity(rng, fee_bits))
        tx["maxPriorityFeePerGas"] = quantity_json(rng, random_quantity(rng, fee_bits))
    if kind in CAN_CREATE and rng.random() < 0.15:
        pass  # no "to": contract creation
    else:
        tx["to"] = random_address(rng)
    tx["value"] = quantity_json(rng, random_quantity(rng, 256))
    tx["data"] = "0x" + random_calldata(rng).hex()
    if kind in HAS_ACCESS_LIST:
        tx["accessList"] = random_access_list(rng)
    if kind == EIP4844:
        tx["maxFeePerBlobGas"] = quantity_json(rng, random_quantity(rng, fee_bits))
        tx["blobVersionedHashes"] = random_blob_hashes(rng)
    if kind == EIP7702:
        tx["authorizationList"] = random_authorizations(rng, key)
    return tag_case(Case(f"random-{index}-{kind}", kind, key, tx))


def random_cases(seed: int, per_kind: int, fee_bits: int = 256) -> list[Case]:
    rng = random.Random(seed)
    cases: list[Case] = []
    for _ in range(per_kind):
        for kind in KINDS:
            cases.append(random_case(rng, len(cases), kind, fee_bits))
    rng.shuffle(cases)
    return cases


def _base_tx(kind: str, chain_id: int) -> dict[str, Any]:
    tx: dict[str, Any] = {}
    type_byte = TYPE_BYTE[kind]
    if type_byte is not None:
        tx["type"] = hex_quantity(type_byte)
    if kind != LEGACY:
        tx["chainId"] = hex_quantity(chain_id)
    return tx


def edge_cases() -> list[Case]:
    """Fixed cases at every boundary, for each type where the field exists."""
    rng = random.Random(0xED6E)
    recipient = to_checksum_address("0x" + "35" * 20)
    cases: list[Case] = []

    def add(name: str, kind: str, key: str, tx: dict[str, Any]) -> None:
        cases.append(tag_case(Case(f"edge-{name}-{kind}", kind, key, tx)))

    many_keys = [{"address": recipient, "storageKeys": ["0x" + rng.randbytes(32).hex() for _ in range(500)]}]
    several = [
        {"address": random_address(rng), "storageKeys": []},
        {"address": random_address(rng), "storageKeys": ["0x" + "00" * 32, "0x" + "ff" * 32]},
        {"address": recipient, "storageKeys": ["0x" + "01".rjust(64, "0")]},
    ]
    for kind in KINDS:
        fees = (
            {"gasPrice": hex_quantity(U256_MAX)}
            if kind in (LEGACY, LEGACY_155, EIP2930)
            else {"maxFeePerGas": hex_quantity(U256_MAX), "maxPriorityFeePerGas": hex_quantity(U256_MAX)}
        )
        zero_fees = {name: "0x0" for name in fees}
        extra_max: dict[str, Any] = {}
        extra_min: dict[str, Any] = {}
        if kind in HAS_ACCESS_LIST:
            extra_max["accessList"] = many_keys
            extra_min["accessList"] = []
        if kind == EIP4844:
            extra_max |= {"maxFeePerBlobGas": hex_quantity(U256_MAX), "blobVersionedHashes": random_blob_hashes(rng)}
            extra_min |= {"maxFeePerBlobGas": "0x0", "blobVersionedHashes": ["0x01" + "00" * 31]}
        if kind == EIP7702:
            auth_key = key_hex(SECP256K1_ORDER - 1)
            extra_max["authorizationList"] = [
                signed_authorization(U256_MAX, recipient, U64_MAX, auth_key),
                signed_authorization(0, random_address(rng), U64_MAX, key_hex(1)),
            ]
            extra_min["authorizationList"] = [signed_authorization(0, recipient, 0, key_hex(1))]
        # Every field at its maximum, 33 KiB of calldata, the largest chain id.
        add(
            "max",
            kind,
            key_hex(SECP256K1_ORDER - 1),
            _base_tx(kind, MAX_CHAIN_ID)
            | {"nonce": hex_quantity(U64_MAX), "gas": hex_quantity(U64_MAX), "to": recipient}
            | fees
            | {"value": hex_quantity(U256_MAX), "data": "0x" + rng.randbytes(LONG_CALLDATA).hex()}
            | extra_max,
        )
        # Every field at zero, empty calldata, chain id 1, the smallest key.
        add(
            "zero",
            kind,
            key_hex(1),
            _base_tx(kind, 1)
            | {"nonce": 0, "gas": 0, "to": recipient}
            | zero_fees
            | {"value": 0, "data": "0x"}
            | extra_min,
        )
        # One byte of calldata on each side of the RLP single-byte rule, and
        # 55/56 bytes on each side of the short/long string rule.
        for data in (b"\x00", b"\x7f", b"\x80", b"\xff", rng.randbytes(55), rng.randbytes(56)):
            tx = _base_tx(kind, 1) | {"nonce": 1, "gas": 21000, "to": recipient, "value": 1, "data": "0x" + data.hex()}
            tx |= {name: "0x3b9aca00" for name in fees}
            tx |= {k: v for k, v in extra_min.items()}
            if "accessList" in tx:
                tx["accessList"] = several
            add(f"data-{len(data)}B-{data[:1].hex()}", kind, random_key(rng), tx)
        if kind in CAN_CREATE:
            for code in (b"", bytes.fromhex("6080604052348015600f57600080fd5b50"), rng.randbytes(LONG_CALLDATA)):
                tx = _base_tx(kind, 1) | {"nonce": 0, "gas": 3_000_000, "value": 0, "data": "0x" + code.hex()}
                tx |= {name: "0x2540be400" for name in fees}
                tx |= extra_min
                add(f"create-{len(code)}B", kind, random_key(rng), tx)
        if kind != LEGACY:
            # Chain ids where 2 * chainId + 35 crosses a byte length, and the bound.
            for chain_id in (1, 2, 109, 110, 127, 128, 255, 256, 2**31, 2**32, MAX_CHAIN_ID - 1, MAX_CHAIN_ID):
                tx = _base_tx(kind, chain_id) | {
                    "nonce": 7,
                    "gas": 21000,
                    "to": recipient,
                    "value": 10**18,
                    "data": "0x",
                }
                tx |= {name: "0x4a817c800" for name in fees}
                tx |= extra_min
                add(f"chain-{chain_id}", kind, random_key(rng), tx)
    # The EIP-155 worked example.
    add(
        "eip155-example",
        LEGACY_155,
        "0x" + "46" * 32,
        {
            "nonce": 9,
            "gasPrice": 20 * 10**9,
            "gas": 21000,
            "to": recipient,
            "value": 10**18,
            "data": "0x",
            "chainId": 1,
        },
    )
    # Many authorizations, and 9 blobs (Prague's per-block maximum).
    tx = _base_tx(EIP7702, 1) | {
        "nonce": 0,
        "gas": 1_000_000,
        "to": recipient,
        "value": 0,
        "data": "0x",
        "maxFeePerGas": "0x64",
        "maxPriorityFeePerGas": "0x1",
        "accessList": several,
        "authorizationList": [
            signed_authorization(
                rng.choice((0, 1, U256_MAX)), random_address(rng), rng.randrange(0, 2**64), random_key(rng)
            )
            for _ in range(16)
        ],
    }
    add("sixteen-authorizations", EIP7702, random_key(rng), tx)
    tx = _base_tx(EIP4844, 1) | {
        "nonce": 0,
        "gas": 21000,
        "to": recipient,
        "value": 0,
        "data": "0x",
        "maxFeePerGas": "0x64",
        "maxPriorityFeePerGas": "0x1",
        "maxFeePerBlobGas": "0x1",
        "accessList": [],
        "blobVersionedHashes": ["0x01" + rng.randbytes(31).hex() for _ in range(9)],
    }
    add("nine-blobs", EIP4844, random_key(rng), tx)
    return cases
