"""One manager shared by 8 threads: every signature is valid, and no call fails."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.typed_transactions import TypedTransaction
from flare_wallet import SecureWalletManager, Vtpm
from hexbytes import HexBytes

THREADS = 8
PER_THREAD = 40


@pytest.mark.parametrize("key_mode", ["cached", "strict"])
def test_eight_threads_sign_concurrently(vtpm: Vtpm, key_mode: str) -> None:
    with SecureWalletManager(None, vtpm, key_mode=key_mode) as manager:
        address = manager.create_account()
        start = threading.Barrier(THREADS)
        per_thread = PER_THREAD if key_mode == "cached" else 6

        def work(worker: int) -> list[tuple[dict[str, Any], bytes]]:
            start.wait()
            signed = []
            for i in range(per_thread):
                tx = {
                    "to": "0x000000000000000000000000000000000000dEaD",
                    "value": worker * 1000 + i,
                    "gas": 21000,
                    "nonce": i,
                    "chainId": 14,
                    "maxFeePerGas": 10**10,
                    "maxPriorityFeePerGas": 10**9,
                }
                signed.append((tx, bytes(manager.sign_transaction(tx))))
                message = f"worker {worker} message {i}"
                signature = manager.sign_message(message)
                assert (
                    Account.recover_message(
                        encode_defunct(text=message), signature=signature.signature
                    )
                    == address
                )
            return signed

        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(work, range(THREADS)))

    assert sum(len(r) for r in results) == THREADS * per_thread
    for batch in results:
        for tx, raw in batch:
            assert Account.recover_transaction(raw) == address
            decoded = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            assert (decoded["value"], decoded["nonce"]) == (tx["value"], tx["nonce"])


def test_signing_releases_the_gil(vtpm: Vtpm) -> None:
    """While a strict-mode signature waits on the TPM, a pure-Python thread runs.

    With a 20 ms switch interval the interpreter takes the GIL from a thread that keeps it
    only every 20 ms, while one strict signature takes about a millisecond: were the GIL
    held during signatures, a counting thread would advance during at most one or two of
    30 of them (each forced switch costs the signer 20 ms). Released, it advances during
    a good share of them; how many depends on the OS scheduler, hence the margin.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.02)
    with SecureWalletManager(None, vtpm, key_mode="strict") as manager:
        manager.create_account()
        ticks = 0
        done = threading.Event()

        def count() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1

        counter = threading.Thread(target=count)
        counter.start()
        advanced = 0
        try:
            tx = {"to": None, "gas": 60000, "gasPrice": 1, "nonce": 0, "chainId": 1}
            for _ in range(30):
                before = ticks
                manager.sign_transaction(tx)
                advanced += ticks > before
        finally:
            done.set()
            counter.join()
            sys.setswitchinterval(previous)
    assert advanced >= 5
