"""Writes the seed corpora that come from public test vectors and eth-account.

Run from the repository root with the project venv (eth-account, rlp):

    .venv/bin/python fuzz/tools/seeds_from_vectors.py

Sources (copies in core/tests/vectors/, licences in its README):
- ethereum/tests RLPTests (valid `out` encodings, and the invalid ones as
  near-misses) for rlp_decode;
- ethereum/tests TransactionTests `txbytes` for tx_decode_signed, and the
  signing payloads derived from them (signature fields dropped, EIP-155
  placeholders restored) for tx_decode_unsigned;
- transactions of the two types those tests predate (EIP-4844 without
  sidecar, EIP-7702) and one of each other type, signed by eth-account 0.14.
ffi_sign gets each transaction seed behind a mode byte and an out_cap.
Files are named by the SHA-1 of their contents, as libFuzzer names its own.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import rlp
from eth_account import Account

ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = ROOT / "core" / "tests" / "vectors" / "ethereum-tests"
CORPUS = ROOT / "fuzz" / "corpus"
KEY = "0x" + "4c" * 32


def write(target: str, data: bytes) -> None:
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def unhex(text: str) -> bytes | None:
    text = text[2:] if text.startswith("0x") else text
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def unsigned_payload(signed: bytes) -> bytes | None:
    """The signing payload of a signed transaction, or None if it is not one."""
    try:
        if signed[0] >= 0xC0:
            fields = rlp.decode(signed)
            v = int.from_bytes(fields[6], "big")
            base = fields[:6]
            if v in (27, 28):
                return rlp.encode(base)
            chain_id = (v - 35) // 2
            return rlp.encode([*base, chain_id, b"", b""])
        fields = rlp.decode(signed[1:])
        return signed[:1] + rlp.encode(fields[:-3])
    except Exception:  # noqa: BLE001 - malformed vectors are expected here
        return None


def eth_account_transactions() -> list[bytes]:
    to = "0x" + "35" * 20
    base = {"nonce": 7, "gas": 100_000, "to": to, "value": 12345, "data": "0xdeadbeef", "chainId": 14}
    access = [{"address": to, "storageKeys": ["0x" + "01" * 32]}]
    txs = [
        {**base, "gasPrice": 10**9},
        {**base, "gasPrice": 10**9, "accessList": access, "type": 1},
        {**base, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9, "accessList": access},
        {
            **base,
            "maxFeePerGas": 2 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "maxFeePerBlobGas": 10**9,
            "blobVersionedHashes": ["0x01" + "ab" * 31],
            "type": 3,
        },
        {
            **base,
            "maxFeePerGas": 2 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "authorizationList": [
                Account.sign_authorization({"chainId": 14, "address": to, "nonce": 8}, KEY)
            ],
        },
    ]
    return [bytes(Account.sign_transaction(tx, KEY).raw_transaction) for tx in txs]


def main() -> None:
    for name in ("rlptest.json", "invalidRLPTest.json"):
        for case in json.loads((VECTORS / "RLPTests" / name).read_text()).values():
            data = unhex(case["out"])
            if data:
                write("rlp_decode", data)

    signed: list[bytes] = []
    for path in sorted((VECTORS / "TransactionTests").rglob("*.json")):
        for case in json.loads(path.read_text()).values():
            data = unhex(case.get("txbytes", ""))
            if data:
                signed.append(data)
    signed.extend(eth_account_transactions())

    for tx in signed:
        write("tx_decode_signed", tx)
        write("rlp_decode", tx if tx[0] >= 0xC0 else tx[1:])
        payload = unsigned_payload(tx)
        if payload:
            write("tx_decode_unsigned", payload)
        for mode, body in ((0, payload), (1, payload), (2, tx), (3, tx)):
            if body:
                write("ffi_sign", bytes([mode]) + (1024).to_bytes(2, "big") + body)
    for target in ("rlp_decode", "tx_decode_signed", "tx_decode_unsigned", "ffi_sign"):
        print(target, len(list((CORPUS / target).iterdir())), "corpus files")


if __name__ == "__main__":
    main()
