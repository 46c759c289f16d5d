"""Signing transaction dicts: flare_wallet (cached and strict key modes) next to
eth-account and coincurve, on the same dicts, in one run.

    python benchmarks/bench_sign.py [--rounds N] [--json FILE]

Each signer signs the same six dicts (one of each transaction type, plus a token call).
Rounds interleave the signers in a rotating order, so that load from other processes on
the machine falls on all of them alike; the figure per signer is the median over rounds
of the mean time per signature within a round. Before timing, every signer's output is
checked: flare_wallet (both modes) and eth-account give the same bytes, and coincurve's
raw signature of the same hash has the same r and s.

- ``flare_wallet cached``: ``SecureWalletManager.sign_transaction(dict)``, key cached in
  the core (a private swtpm holds the sealed key).
- ``flare_wallet strict``: the same with the key unsealed by the swtpm for each signature.
- ``eth-account Account.sign_transaction``: ``Account.sign_transaction(dict, key)``, the
  call the FlareTrade wallet makes (``web3.eth.account.sign_transaction``).
- ``eth-account LocalAccount.sign_transaction``: the same with the key object made once.
- ``coincurve raw``: ``PrivateKey.sign_recoverable(hash, hasher=None)`` of each dict's
  signature hash, computed beforehand: libsecp256k1 signing and nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import coincurve
from eth_account import Account
from flare_wallet import SecureWalletManager, Vtpm, signing_hash

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
ERC20 = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
RECIPIENT = "0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"
ERC20_TRANSFER = "0xa9059cbb" + "00" * 12 + RECIPIENT[2:].lower() + f"{10**18:064x}"
ACCESS_LIST = [{"address": ERC20, "storageKeys": ["0x" + "00" * 31 + "01"]}]
FEES = {"maxFeePerGas": 30 * 10**9, "maxPriorityFeePerGas": 10**9}

DICTS: list[dict[str, Any]] = [
    {"to": RECIPIENT, "value": 10**18, "gas": 21000, "gasPrice": 20 * 10**9, "nonce": 7,
     "chainId": 14},
    {"to": ERC20, "value": 0, "gas": 60000, "gasPrice": 20 * 10**9, "nonce": 8, "chainId": 14,
     "data": ERC20_TRANSFER, "accessList": ACCESS_LIST},
    {"to": RECIPIENT, "value": 10**18, "gas": 21000, "nonce": 9, "chainId": 14, **FEES},
    {"to": ERC20, "value": 0, "gas": 60000, "nonce": 10, "chainId": 14, "data": ERC20_TRANSFER,
     "accessList": ACCESS_LIST, **FEES},
    {"to": RECIPIENT, "value": 0, "gas": 21000, "nonce": 11, "chainId": 14, **FEES,
     "maxFeePerBlobGas": 10**9, "blobVersionedHashes": ["0x01" + "ab" * 31]},
    {"to": RECIPIENT, "value": 0, "gas": 50000, "nonce": 12, "chainId": 14, **FEES,
     "authorizationList": [{"chainId": 14, "address": ERC20, "nonce": 0, "yParity": 1,
                            "r": 2**255 - 19, "s": 2**200 + 1}]},
]  # fmt: skip


def check_agreement(signers: dict[str, Callable[[dict[str, Any]], Any]]) -> None:
    for tx in DICTS:
        reference = bytes(signers["eth-account Account.sign_transaction"](tx))
        for name in (
            "flare_wallet cached",
            "flare_wallet strict",
            "eth-account LocalAccount.sign_transaction",
        ):
            assert bytes(signers[name](tx)) == reference, name
        signature = signers["coincurve raw"](tx)
        # r and s are the last two RLP fields: each 32 bytes unless a leading zero byte
        # was dropped, so compare after stripping.
        r, s = signature[:32].lstrip(b"\x00"), signature[32:64].lstrip(b"\x00")
        assert r in reference, "coincurve signed something else"
        assert s in reference, "coincurve signed something else"


def time_round(
    sign: Callable[[dict[str, Any]], Any],
    repeat: int,
    per_dict: list[list[float]],
    first: int = 0,
) -> float:
    """Mean seconds per signature over ``repeat`` passes of the dicts, starting with dict
    ``first`` (the first one after a change of signer runs on colder caches, so it
    rotates); each dict's own mean goes to ``per_dict``."""
    total = 0.0
    for index in [(first + i) % len(DICTS) for i in range(len(DICTS))]:
        tx = DICTS[index]
        start = time.perf_counter()
        for _ in range(repeat):
            sign(tx)
        elapsed = time.perf_counter() - start
        per_dict[index].append(elapsed / repeat)
        total += elapsed
    return total / (repeat * len(DICTS))


LABELS = [
    "legacy transfer",
    "EIP-2930 token call",
    "EIP-1559 transfer",
    "EIP-1559 token call + access list",
    "EIP-4844 (1 blob hash)",
    "EIP-7702 (1 authorization)",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with (
        Vtpm.simulator() as cached_tpm,
        Vtpm.simulator() as strict_tpm,
        SecureWalletManager(None, cached_tpm, key_mode="cached") as cached,
        SecureWalletManager(None, strict_tpm, key_mode="strict") as strict,
    ):
        cached.import_private_key(KEY)
        strict.import_private_key(KEY)
        local = Account.from_key(KEY)
        raw_key = coincurve.PrivateKey(bytes.fromhex(KEY[2:]))
        hashes = {id(tx): signing_hash(tx) for tx in DICTS}

        signers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "flare_wallet cached": cached.sign_transaction,
            "flare_wallet strict": strict.sign_transaction,
            "eth-account Account.sign_transaction": lambda tx: (
                Account.sign_transaction(tx, KEY).raw_transaction
            ),
            "eth-account LocalAccount.sign_transaction": lambda tx: (
                local.sign_transaction(tx).raw_transaction
            ),
            "coincurve raw": lambda tx: raw_key.sign_recoverable(hashes[id(tx)], hasher=None),
        }
        check_agreement(signers)
        # Strict signatures take a millisecond each: fewer per round keep rounds short.
        repeats = {name: 1 if "strict" in name else 10 for name in signers}
        names = list(signers)
        per_dict: dict[str, list[list[float]]] = {n: [[] for _ in DICTS] for n in names}
        for name in names:  # warm up
            time_round(signers[name], 1, [[] for _ in DICTS])
        samples: dict[str, list[float]] = {name: [] for name in names}
        for round_index in range(args.rounds):
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                samples[name].append(
                    time_round(signers[name], repeats[name], per_dict[name], round_index)
                )

    medians = {name: statistics.median(values) for name, values in samples.items()}
    eth = medians["eth-account Account.sign_transaction"]
    eth_local = medians["eth-account LocalAccount.sign_transaction"]
    raw = medians["coincurve raw"]
    print(
        f"{len(DICTS)} dicts x {args.rounds} rounds; Python {platform.python_version()}, "
        f"eth-account {version('eth-account')}, coincurve {version('coincurve')}, "
        f"flare-wallet {version('flare-wallet')}; load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| signer | median per signature | eth-account / signer | signer / coincurve raw |")
    print("| --- | --- | --- | --- |")
    for name in names:
        value = medians[name]
        print(f"| {name} | {value * 1e6:,.1f} µs | {eth / value:.1f}x | {value / raw:.2f}x |")
    print()
    cached_median = medians["flare_wallet cached"]
    print(f"cached vs Account.sign_transaction: {eth / cached_median:.1f}x faster")
    print(f"cached vs LocalAccount.sign_transaction: {eth_local / cached_median:.1f}x faster")
    print(f"strict vs Account.sign_transaction: {eth / medians['flare_wallet strict']:.2f}x")
    print()
    print("| dict | flare_wallet cached | eth-account | ratio |")
    print("| --- | --- | --- | --- |")
    by_dict = {}
    for index, label in enumerate(LABELS):
        ours = statistics.median(per_dict["flare_wallet cached"][index])
        theirs = statistics.median(per_dict["eth-account Account.sign_transaction"][index])
        by_dict[label] = {"cached_us": ours * 1e6, "eth_account_us": theirs * 1e6}
        print(f"| {label} | {ours * 1e6:,.1f} µs | {theirs * 1e6:,.1f} µs | {theirs / ours:.1f}x |")
    if args.json:
        figures = {"median_us": {k: v * 1e6 for k, v in medians.items()}, "by_dict": by_dict}
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
