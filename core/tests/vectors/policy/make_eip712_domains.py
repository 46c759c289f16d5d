"""Writes eip712_domains.json: EIP-712 domain separators computed by eth-account.

Run from the repository root with the project venv:
    .venv/bin/python core/tests/vectors/policy/make_eip712_domains.py
"""

import json

from eth_account.messages import encode_typed_data

DOMAINS = [
    {
        "name": "Ether Mail",
        "version": "1",
        "chainId": 1,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    {"name": "Permit2", "chainId": 14, "verifyingContract": "0x000000000022D473030F116dDEE9F6B43aC78BA3"},
    {"chainId": 114},
    {"name": "only a name"},
    {"version": "2", "salt": "0x" + "ab" * 32},
    {
        "name": "Uniswap V2",
        "version": "1",
        "chainId": 2**256 - 1,
        "verifyingContract": "0x0000000000000000000000000000000000000001",
        "salt": "0x" + "00" * 31 + "07",
    },
    {"verifyingContract": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB", "salt": "0x" + "ff" * 32},
    {},
]
ORDER = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
]

cases = []
for domain in DOMAINS:
    types = {
        "EIP712Domain": [{"name": k, "type": t} for k, t in ORDER if k in domain],
        "Ping": [{"name": "n", "type": "uint256"}],
    }
    message = encode_typed_data(
        full_message={"types": types, "primaryType": "Ping", "domain": domain, "message": {"n": 1}}
    )
    cases.append(
        {
            "domain": domain,
            "domainSeparator": "0x" + message.header.hex(),
            "structHash": "0x" + message.body.hex(),
        }
    )
with open("core/tests/vectors/policy/eip712_domains.json", "w") as f:
    json.dump(
        {
            "source": "eth-account 0.14 encode_typed_data (SignableMessage.header is the domain separator)",
            "cases": cases,
        },
        f,
        indent=2,
    )
    f.write("\n")
