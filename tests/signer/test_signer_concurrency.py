"""Concurrency: 32 eth_sendTransaction calls at once, from 4 processes of 8 threads, get
32 consecutive nonces, are all mined, and the daily limit holds to the wei."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest
from conftest import CHAIN_ID, RECIPIENT, Anvil, IpcClient, RpcError, Signer

PROCESSES = 4
THREADS = 8
VALUE = 10**15
GAS = 21_000
MAX_FEE = 2 * 10**9
# What the daily limit counts for each transfer: value plus gas times the maximum fee.
WORST_CASE = VALUE + GAS * MAX_FEE

SENDER_SCRIPT = r"""
import json, socket, sys, threading
ipc, address, to, threads, value, gas, max_fee = sys.argv[1:8]
start = threading.Barrier(int(threads))
results = []
def send():
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(ipc)
    tx = {"from": address, "to": to, "value": hex(int(value)), "gas": hex(int(gas)),
          "maxFeePerGas": hex(int(max_fee)), "maxPriorityFeePerGas": hex(10**9)}
    start.wait()
    conn.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
                             "params": [tx]}).encode())
    buffer = ""
    decoder = json.JSONDecoder()
    while True:
        buffer += conn.recv(65536).decode()
        try:
            results.append(decoder.raw_decode(buffer.strip())[0])
            return
        except ValueError:
            pass
workers = [threading.Thread(target=send) for _ in range(int(threads))]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps(results))
"""


def test_32_concurrent_sends_get_consecutive_nonces_and_the_limit_holds(
    start_signer: Callable[..., Signer], anvil: Anvil
) -> None:
    total = PROCESSES * THREADS
    signer = start_signer(
        upstream=anvil.url,
        policy={"daily_limit_wei": total * WORST_CASE, "chain_ids": [CHAIN_ID]},
    )
    (address,) = signer.call("eth_accounts", [])
    anvil.fund(address, 10**18)
    first_nonce = int(anvil.call("eth_getTransactionCount", [address, "pending"]), 16)

    senders = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                SENDER_SCRIPT,
                str(signer.ipc),
                address,
                RECIPIENT,
                str(THREADS),
                str(VALUE),
                str(GAS),
                str(MAX_FEE),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    replies = []
    for sender in senders:
        out, _ = sender.communicate(timeout=120)
        assert sender.returncode == 0
        replies += json.loads(out)
    assert len(replies) == total
    errors = [reply["error"] for reply in replies if "error" in reply]
    assert not errors, errors
    hashes = [reply["result"] for reply in replies]

    nonces = []
    for tx_hash in hashes:
        receipt = anvil.call("eth_getTransactionReceipt", [tx_hash])
        assert receipt is not None
        assert int(receipt["status"], 16) == 1
        nonces.append(int(anvil.call("eth_getTransactionByHash", [tx_hash])["nonce"], 16))
    assert sorted(nonces) == list(range(first_nonce, first_nonce + total))

    with IpcClient(signer.ipc) as client:
        policy = client.result("flare_policy", [])
        assert int(policy["dailySpentWei"]) == total * WORST_CASE
        one_more = {"from": address, "to": RECIPIENT, "value": hex(VALUE), "gas": hex(GAS),
                    "maxFeePerGas": hex(MAX_FEE), "maxPriorityFeePerGas": hex(10**9)}  # fmt: skip
        with pytest.raises(RpcError) as refused:
            client.result("eth_sendTransaction", [one_more])
        assert refused.value.code == -32010
        assert refused.value.data["rule"] == "daily_limit_wei"
        # Nothing was submitted for the refusal, so the next nonce is still free.
        assert int(anvil.call("eth_getTransactionCount", [address, "pending"]), 16) == (
            first_nonce + total
        )
        assert int(client.result("flare_policy", [])["dailySpentWei"]) == total * WORST_CASE
