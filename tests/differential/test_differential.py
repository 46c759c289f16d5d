"""The signing core against eth-account and cast, byte for byte.

Every case is signed three ways where the tool supports it: by the core (the
`sign_json` example, one process for the whole session), by eth-account's
`Account.sign_transaction`, and by `cast mktx`. The raw signed transactions
must be identical. Both signers use RFC 6979 nonces and low s, so equal
inputs give equal bytes; eth-account signs through libsecp256k1 (coincurve),
the core through k256, so the signatures themselves are checked as well.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from differential_cases import (
    EIP1559,
    EIP2930,
    EIP4844,
    EIP7702,
    KINDS,
    LEGACY_155,
    MAX_CHAIN_ID,
    REQUIRED_TAGS,
    SECP256K1_ORDER,
    U64_MAX,
    U128_MAX,
    U256_MAX,
    Case,
    edge_cases,
    key_hex,
    random_address,
    random_case,
    random_cases,
    random_chain_id,
    random_key,
    random_quantity,
)
from differential_signer import CoreSigner

RANDOM_PER_KIND = 100  # 600 random transactions, 100 of each kind
CAST_PER_KIND = 50
CAST_KINDS = (LEGACY_155, EIP2930, EIP1559, EIP7702)
CAST_BLOB_CASES = 3  # cast computes KZG commitments: about 2 s per blob transaction
SHOWN_FAILURES = 5


def as_int(value: Any) -> int:
    return value if isinstance(value, int) else int(value, 16)


def describe(case: Case, limit: int = 1500) -> str:
    text = json.dumps(case.request())
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def compare_with_eth_account(core_signer: CoreSigner, cases: list[Case]) -> list[str]:
    """Signs each case with both; returns a description of every disagreement."""
    failures = []
    for case in cases:
        answer = core_signer.ask(case.request())
        try:
            signed = Account.sign_transaction(case.tx, case.key)
        except Exception as error:  # any refusal is a failure to report
            failures.append(f"{case.name}: eth-account refused ({error!r}); core said {answer}\n  {describe(case)}")
            continue
        expected = "0x" + bytes(signed.raw_transaction).hex()
        if "raw" not in answer:
            failures.append(
                f"{case.name}: core refused ({answer}); eth-account gave {expected[:80]}...\n  {describe(case)}"
            )
            continue
        problems = []
        if answer["raw"] != expected:
            problems.append(f"raw differs:\n    core {answer['raw'][:300]}\n    eth  {expected[:300]}")
        if answer["hash"] != "0x" + bytes(signed.hash).hex():
            problems.append(f"hash differs: core {answer['hash']} eth {bytes(signed.hash).hex()}")
        if answer["sender"] != Account.from_key(case.key).address:
            problems.append(f"recovered sender {answer['sender']} is not {Account.from_key(case.key).address}")
        if problems:
            failures.append(f"{case.name}: " + "; ".join(problems) + f"\n  {describe(case)}")
    return failures


def report(failures: list[str], total: int, seed: int | None = None) -> str:
    replay = f" (seed {seed}: replay with FLARE_WALLET_DIFF_SEED={seed})" if seed is not None else ""
    shown = "\n".join(failures[:SHOWN_FAILURES])
    return f"{len(failures)} of {total} cases disagree{replay}:\n{shown}"


# ------------------------------------------------------------------ eth-account


def test_random_transactions_match_eth_account(core_signer: CoreSigner, seed: int) -> None:
    cases = random_cases(seed, RANDOM_PER_KIND)
    assert len(cases) >= 500
    assert Counter(case.kind for case in cases) == {kind: RANDOM_PER_KIND for kind in KINDS}
    failures = compare_with_eth_account(core_signer, cases)
    assert not failures, report(failures, len(cases), seed)


def test_edge_cases_match_eth_account(core_signer: CoreSigner) -> None:
    cases = edge_cases()
    failures = compare_with_eth_account(core_signer, cases)
    assert not failures, report(failures, len(cases))


def test_cases_cover_every_boundary(seed: int) -> None:
    covered = Counter(tag for case in random_cases(seed, RANDOM_PER_KIND) + edge_cases() for tag in case.tags)
    missing = REQUIRED_TAGS - covered.keys()
    assert not missing, f"no case exercises {sorted(missing)} (seed {seed})"


def test_authorizations_match_eth_account(core_signer: CoreSigner, seed: int) -> None:
    rng = random.Random(seed ^ 0x7702)
    requests = [
        (key_hex(1), 0, "0x" + "00" * 20, 0),
        (key_hex(SECP256K1_ORDER - 1), U256_MAX, "0x" + "ff" * 20, U64_MAX),
    ]
    for _ in range(100):
        chain_id = rng.choice((0, 1, random_chain_id(rng), random_quantity(rng, 256)))
        requests.append((random_key(rng), chain_id, random_address(rng), random_quantity(rng, 64)))
    failures = []
    for key, chain_id, address, nonce in requests:
        fields = {"chainId": chain_id, "address": to_checksum_address(address), "nonce": nonce}
        expected = Account.sign_authorization(fields, key)
        answer = core_signer.ask(
            {"key": key, "authorization": {k: hex(v) if isinstance(v, int) else v for k, v in fields.items()}}
        )
        got = (answer.get("yParity"), as_int(answer.get("r", "0x0")), as_int(answer.get("s", "0x0")))
        if got != (expected.y_parity, expected.r, expected.s):
            failures.append(f"{fields}: core {answer}, eth-account {(expected.y_parity, expected.r, expected.s)}")
    assert not failures, f"seed {seed}: " + "\n".join(failures[:SHOWN_FAILURES])


# ------------------------------------------------------------------ refusals

RECIPIENT = "0x3535353535353535353535353535353535353535"
KEY = "0x" + "46" * 32


def legacy_tx(**changes: Any) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "nonce": 0,
        "gasPrice": 1,
        "gas": 21000,
        "to": RECIPIENT,
        "value": 0,
        "data": "0x",
        "chainId": 1,
    }
    tx.update(changes)
    return {key: value for key, value in tx.items() if value is not None}


def fee_market_tx(tx_type: int, **changes: Any) -> dict[str, Any]:
    tx: dict[str, Any] = {
        "type": tx_type,
        "chainId": 1,
        "nonce": 0,
        "maxFeePerGas": 2,
        "maxPriorityFeePerGas": 1,
        "gas": 21000,
        "to": RECIPIENT,
        "value": 0,
        "data": "0x",
        "accessList": [],
    }
    if tx_type == 3:
        tx |= {"maxFeePerBlobGas": 1, "blobVersionedHashes": ["0x01" + "00" * 31]}
    if tx_type == 4:
        tx["authorizationList"] = [{"chainId": 1, "address": RECIPIENT, "nonce": 0, "yParity": 0, "r": 1, "s": 1}]
    tx.update(changes)
    return {key: value for key, value in tx.items() if value is not None}


# (request line, a fragment the error must contain)
REFUSED: dict[str, tuple[bytes, str]] = {
    "not-json": (b"{nonce: 1", "not JSON"),
    "not-utf8": (b'{"key": "\xff\xfe"}', "not UTF-8"),
    "empty-line": (b"", "not JSON"),
    "json-array": (b"[1, 2]", "JSON object"),
    "no-key": (json.dumps({"tx": legacy_tx()}).encode(), "key"),
    "key-zero": (json.dumps({"key": key_hex(0), "tx": legacy_tx()}).encode(), "secret key is zero"),
    "key-order": (json.dumps({"key": key_hex(SECP256K1_ORDER), "tx": legacy_tx()}).encode(), "secret key is zero"),
    "key-short": (json.dumps({"key": "0x" + "46" * 31, "tx": legacy_tx()}).encode(), "exactly 32 bytes"),
    "key-not-hex": (json.dumps({"key": "0x" + "zz" * 32, "tx": legacy_tx()}).encode(), "not hex"),
    "type-5": (json.dumps({"key": KEY, "tx": fee_market_tx(5)}).encode(), "type 5 is not supported"),
    "type-0x7e": (json.dumps({"key": KEY, "tx": fee_market_tx(0x7E)}).encode(), "not supported"),
    "legacy-chain-id-0": (json.dumps({"key": KEY, "tx": legacy_tx(chainId=0)}).encode(), "chain id 0"),
    "eip1559-chain-id-0": (json.dumps({"key": KEY, "tx": fee_market_tx(2, chainId=0)}).encode(), "chain id 0"),
    "legacy-chain-id-above-eip2294": (
        json.dumps({"key": KEY, "tx": legacy_tx(chainId=hex(MAX_CHAIN_ID + 1))}).encode(),
        "EIP-2294",
    ),
    "eip7702-chain-id-above-eip2294": (
        json.dumps({"key": KEY, "tx": fee_market_tx(4, chainId=hex(MAX_CHAIN_ID + 1))}).encode(),
        "EIP-2294",
    ),
    "chain-id-above-u64": (json.dumps({"key": KEY, "tx": fee_market_tx(2, chainId=hex(2**64))}).encode(), "64 bits"),
    "typed-without-chain-id": (json.dumps({"key": KEY, "tx": fee_market_tx(2, chainId=None)}).encode(), "chainId"),
    "nonce-above-u64": (json.dumps({"key": KEY, "tx": legacy_tx(nonce=hex(2**64))}).encode(), "64 bits"),
    "gas-above-u64": (json.dumps({"key": KEY, "tx": fee_market_tx(2, gas=hex(2**64))}).encode(), "64 bits"),
    "value-above-u256": (json.dumps({"key": KEY, "tx": legacy_tx(value=hex(2**256))}).encode(), "256 bits"),
    "negative-nonce": (json.dumps({"key": KEY, "tx": legacy_tx(nonce=-1)}).encode(), "non-negative"),
    "missing-nonce": (json.dumps({"key": KEY, "tx": legacy_tx(nonce=None)}).encode(), "nonce"),
    "missing-gas-price": (json.dumps({"key": KEY, "tx": legacy_tx(gasPrice=None)}).encode(), "gasPrice"),
    "gas-price-with-max-fee": (json.dumps({"key": KEY, "tx": fee_market_tx(2, gasPrice=1)}).encode(), "gasPrice"),
    "unknown-field": (json.dumps({"key": KEY, "tx": legacy_tx(gasprice=1)}).encode(), "unknown transaction field"),
    "bad-checksum": (
        json.dumps({"key": KEY, "tx": legacy_tx(to="0x" + "aA" * 20)}).encode(),
        "EIP-55",
    ),
    "short-address": (json.dumps({"key": KEY, "tx": legacy_tx(to="0x" + "35" * 19)}).encode(), "40 hex digits"),
    "data-odd-hex": (json.dumps({"key": KEY, "tx": legacy_tx(data="0xabc")}).encode(), "not hex"),
    "storage-key-31-bytes": (
        json.dumps(
            {"key": KEY, "tx": fee_market_tx(2, accessList=[{"address": RECIPIENT, "storageKeys": ["0x" + "00" * 31]}])}
        ).encode(),
        "32 bytes",
    ),
    "blob-create": (json.dumps({"key": KEY, "tx": fee_market_tx(3, to=None)}).encode(), "cannot create"),
    "set-code-create": (json.dumps({"key": KEY, "tx": fee_market_tx(4, to=None)}).encode(), "cannot create"),
    "authorization-y-parity-256": (
        json.dumps(
            {
                "key": KEY,
                "tx": fee_market_tx(
                    4,
                    authorizationList=[
                        {"chainId": 1, "address": RECIPIENT, "nonce": 0, "yParity": 256, "r": 1, "s": 1}
                    ],
                ),
            }
        ).encode(),
        "yParity",
    ),
    "from-other-account": (
        json.dumps({"key": KEY, "tx": legacy_tx(**{"from": RECIPIENT})}).encode(),
        "from",
    ),
    "tx-and-authorization": (
        json.dumps(
            {"key": KEY, "tx": legacy_tx(), "authorization": {"chainId": 1, "address": RECIPIENT, "nonce": 0}}
        ).encode(),
        "exactly one",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_request_gets_an_error_line(core_signer: CoreSigner, name: str) -> None:
    line, fragment = REFUSED[name]
    answer = core_signer.ask_line(line)
    assert set(answer) == {"error"}, f"{name}: expected an error, got {answer}"
    assert fragment in answer["error"], f"{name}: error {answer['error']!r} does not mention {fragment!r}"
    # The process is still there and still signs correctly after the refusal.
    tx = legacy_tx()
    assert (
        core_signer.ask({"key": KEY, "tx": tx})["raw"]
        == "0x" + bytes(Account.sign_transaction(tx, KEY).raw_transaction).hex()
    )


def mutated_request(rng: random.Random, case: Case) -> bytes:
    """A valid request with one field replaced by a value of another shape, or cut short."""
    request = json.loads(json.dumps(case.request()))
    tx = request["tx"]
    name = rng.choice([*tx, "key"])
    replacement = rng.choice(
        [None, -1, 2**300, 1.5, "", "0x", "0xzz", "0x" + "ff" * 40, [], {}, [1, "a"], {"address": 1}, True]
    )
    if name == "key":
        request["key"] = replacement
    else:
        tx[name] = replacement
    line = json.dumps(request).encode()
    if rng.random() < 0.2:
        line = line[: rng.randrange(len(line))]
    return line


def test_garbage_never_stops_the_signer(core_signer: CoreSigner, seed: int) -> None:
    """Random bytes and mutated requests each get one answer line; none ends the process."""
    rng = random.Random(seed ^ 0x6A5B)
    cases = random_cases(seed ^ 0x6A5B, 20)
    lines = [rng.randbytes(rng.randrange(0, 200)).replace(b"\n", b" ") for _ in range(100)]
    lines += [mutated_request(rng, rng.choice(cases)) for _ in range(300)]
    for line in lines:
        answer = core_signer.ask_line(line)
        assert set(answer) in ({"error"}, {"raw", "hash", "sender"}), (seed, line[:200], answer)
    tx = legacy_tx()
    assert (
        core_signer.ask({"key": KEY, "tx": tx})["raw"]
        == "0x" + bytes(Account.sign_transaction(tx, KEY).raw_transaction).hex()
    )


@pytest.mark.parametrize("chain_id", [0, MAX_CHAIN_ID + 1, U64_MAX])
@pytest.mark.parametrize("tx_type", [None, 1, 2, 3, 4])
def test_chain_ids_eth_account_signs_but_the_core_refuses(
    core_signer: CoreSigner, tx_type: int | None, chain_id: int
) -> None:
    """A deliberate difference: eth-account signs chain id 0 (valid on every chain) and
    ids above the EIP-2294 bound; the core refuses both."""
    if tx_type is None:
        tx = legacy_tx(chainId=hex(chain_id))
    elif tx_type == 1:
        tx = legacy_tx(type=1, chainId=hex(chain_id), accessList=[])
    else:
        tx = fee_market_tx(tx_type, chainId=hex(chain_id))
    if tx_type == 4:
        tx["authorizationList"] = [
            {k: hex(v) if isinstance(v, int) else v for k, v in auth.items()} for auth in tx["authorizationList"]
        ]
    Account.sign_transaction(tx, KEY)  # eth-account accepts it
    answer = core_signer.ask({"key": KEY, "tx": tx})
    expected = "chain id 0" if chain_id == 0 else "EIP-2294"
    assert "error" in answer, answer
    assert expected in answer["error"], answer


# ------------------------------------------------------------------ cast


def cast_args(cast: str, case: Case) -> list[str]:
    """`cast mktx` arguments that build and sign the same transaction offline."""
    tx = case.tx
    args = [cast, "mktx", "--private-key", case.key, "--chain", str(as_int(tx["chainId"]))]
    args += ["--nonce", str(as_int(tx["nonce"])), "--gas-limit", str(as_int(tx["gas"]))]
    args += ["--value", str(as_int(tx["value"]))]
    if case.kind in (LEGACY_155, EIP2930):
        args += ["--legacy", "--gas-price", str(as_int(tx["gasPrice"]))]
    else:
        args += ["--gas-price", str(as_int(tx["maxFeePerGas"]))]
        args += ["--priority-gas-price", str(as_int(tx["maxPriorityFeePerGas"]))]
    if case.kind == EIP2930 or tx.get("accessList"):
        # An access list (even an empty one) turns --legacy into type 1.
        args += ["--access-list", json.dumps(tx["accessList"])]
    for auth in tx.get("authorizationList", ()):
        fields = [as_int(auth["chainId"]), bytes.fromhex(auth["address"][2:]), as_int(auth["nonce"])]
        fields += [as_int(auth["yParity"]), as_int(auth["r"]), as_int(auth["s"])]
        args += ["--auth", "0x" + rlp.encode(fields).hex()]
    if "to" in tx:
        args += [tx["to"], tx["data"]]
    else:
        args += ["--create", tx["data"]]
    return args


def run_cast(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, check=False, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    )


def test_cast_agrees_with_core(core_signer: CoreSigner, cast: str, seed: int) -> None:
    """50 random transactions of each type cast builds offline (legacy with EIP-155,
    2930, 1559, 7702), each also checked against eth-account; cast takes fees as
    u128, so fees stay below 2^128 here."""
    rng = random.Random(seed ^ 0xCA57)
    cases = [random_case(rng, index, kind, fee_bits=128) for kind in CAST_KINDS for index in range(CAST_PER_KIND)]
    assert all(as_int(case.tx.get(name, 0)) <= U128_MAX for case in cases for name in ("gasPrice", "maxFeePerGas"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = list(pool.map(run_cast, (cast_args(cast, case) for case in cases)))
    failures = compare_with_eth_account(core_signer, cases)
    for case, output in zip(cases, outputs, strict=True):
        answer = core_signer.ask(case.request())
        if output.returncode != 0:
            failures.append(f"{case.name}: cast failed: {output.stderr[:500]}\n  {describe(case)}")
        elif answer.get("raw") != output.stdout.strip():
            failures.append(f"{case.name}: core {answer}\n  cast {output.stdout.strip()[:300]}\n  {describe(case)}")
    assert not failures, report(failures, len(cases), seed)
    assert len(cases) == CAST_PER_KIND * len(CAST_KINDS)


def test_cast_blob_transactions_agree_with_core(core_signer: CoreSigner, cast: str, seed: int, tmp_path: Path) -> None:
    """cast builds a blob transaction from blob data and emits it with its sidecar
    (`0x03 || rlp([tx, blobs, commitments, proofs])`); the signed transaction inside
    must be the core's, given the versioned hashes cast derived."""
    rng = random.Random(seed ^ 0xB10B)
    failures = []
    for index in range(CAST_BLOB_CASES):
        case = random_case(rng, index, EIP4844, fee_bits=128)
        blob_file = tmp_path / f"blob-{index}.bin"
        blob_file.write_bytes(rng.randbytes(rng.randrange(1, 4000)))
        args = cast_args(cast, case)
        fee = str(as_int(case.tx["maxFeePerBlobGas"]))
        args[2:2] = ["--blob", "--eip4844", "--blob-gas-price", fee, "--path", str(blob_file)]
        output = run_cast(args)
        assert output.returncode == 0, f"{case.name}: cast failed: {output.stderr[:500]}"
        wrapped = bytes.fromhex(output.stdout.strip()[2:])
        assert wrapped[0] == 3, wrapped[:4].hex()
        signed_fields, blobs, commitments, proofs = rlp.decode(wrapped[1:])
        assert len(blobs) == len(commitments) == len(proofs) >= 1
        inner = b"\x03" + rlp.encode(signed_fields)
        case.tx["blobVersionedHashes"] = ["0x" + bytes(h).hex() for h in signed_fields[10]]
        answer = core_signer.ask(case.request())
        eth = bytes(Account.sign_transaction(case.tx, case.key).raw_transaction)
        if answer.get("raw") != "0x" + inner.hex() or eth != inner:
            failures.append(f"{case.name}: core {answer}\n  cast {inner.hex()[:300]}\n  eth {eth.hex()[:300]}")
        assert answer.get("hash") == "0x" + keccak(inner).hex()
    assert not failures, report(failures, CAST_BLOB_CASES, seed)
