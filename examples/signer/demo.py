"""`make demo-signer`: the wallet as a separate signing service.

Starts a private swtpm (a software TPM: demo only), anvil, and ``flare-wallet-signer``
with one TPM-sealed account, all on loopback or in a temporary directory; funds the
account from anvil's dev account; sends a transfer with ``cast send --unlocked`` over the
signer's IPC socket and calls a contract with web3.py's ``IPCProvider``, neither of which
knows anything about flare_wallet; then stops everything by PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.providers import IPCProvider

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "tools/node/node_modules/@foundry-rs"
ANVIL = os.environ.get("FLARE_WALLET_ANVIL", str(NODE / "anvil-linux-amd64/bin/anvil"))
CAST = os.environ.get("FLARE_WALLET_CAST", str(NODE / "cast-linux-amd64/bin/cast"))
SIGNER = os.environ.get("FLARE_WALLET_SIGNER", str(ROOT / "target/debug/flare-wallet-signer"))
DEV_ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
# A counter contract: every call adds one to storage slot 0.
INIT_CODE = bytes.fromhex("600a600c600039600a6000f3" + "60005460010160005500")
ABI = [{"type": "function", "name": "increment", "inputs": [], "outputs": [],
        "stateMutability": "nonpayable"}]  # fmt: skip


def wait_for(check: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def anvil_call(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
        return json.loads(answer.read()).get("result")


def main() -> int:
    children: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="flare-signer-demo-") as scratch:
        work = Path(scratch)
        try:
            print("flare-wallet-signer demo: the wallet as a separate JSON-RPC service")
            # A software TPM certified like a real one: EK certificates from a local CA,
            # whose roots the signer is given as its TPM trust roots.
            subprocess.run(
                [str(ROOT / "tests/support/certified-swtpm-template.sh"), str(work / "certified")],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            tpm_state = work / "certified" / "state"
            tpm_socket = work / "swtpm.sock"
            swtpm = subprocess.Popen(
                ["swtpm", "socket", "--tpm2", "--server", f"type=unixio,path={tpm_socket}",
                 "--ctrl", f"type=unixio,path={work / 'swtpm.ctrl'}",
                 "--tpmstate", f"dir={tpm_state}", "--flags", "not-need-init,startup-clear"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            children.append(swtpm)
            wait_for(tpm_socket.exists, "swtpm")
            print(f"    swtpm    pid {swtpm.pid}  (a SOFTWARE TPM: demo only)")

            port = free_port()
            url = f"http://127.0.0.1:{port}"
            anvil = subprocess.Popen(
                [ANVIL, "--host", "127.0.0.1", "--port", str(port), "--chain-id", "31337"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            children.append(anvil)

            def anvil_ready() -> bool:
                try:
                    return anvil_call(url, "eth_chainId", []) is not None
                except OSError:
                    return False

            wait_for(anvil_ready, "anvil")
            print(f"    anvil    {url}  pid {anvil.pid}")

            ipc = work / "signer.ipc"
            policy = work / "policy.json"
            policy.write_text(json.dumps({"max_value_wei": 2 * 10**18, "chain_ids": [31337]}))
            signer = subprocess.Popen(
                [SIGNER, "--tpm", f"swtpm:path={tpm_socket}",
                 "--trust-roots", str(work / "certified" / "roots.pem"),
                 "--account", str(work / "account"),
                 "--create-missing", "--policy", str(policy), "--key-lock", "none",
                 "--ipc", str(ipc),
                 "--upstream", url, "--log-format", "json"],
                stdout=subprocess.DEVNULL, stderr=(work / "signer.log").open("wb"),
            )  # fmt: skip
            children.append(signer)
            wait_for(ipc.exists, "the signer")
            w3 = Web3(IPCProvider(str(ipc), timeout=60))
            (address,) = w3.eth.accounts
            print(f"    signer   {ipc}  pid {signer.pid}")
            print(f" 1. account  {address}, sealed by the TPM, held by the service")

            funding = anvil_call(
                url,
                "eth_sendTransaction",
                [{"from": DEV_ACCOUNT, "to": address, "value": hex(10**19)}],
            )
            wait_for(lambda: anvil_call(url, "eth_getTransactionReceipt", [funding]), "funding")
            print(" 2. fund     10 ETH from anvil's dev account")

            sent = subprocess.run(
                [CAST, "send", "--unlocked", "--from", address, "--rpc-url", str(ipc), RECIPIENT,
                 "--value", "1ether", "--json"],
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            receipt = json.loads(sent.stdout)
            print(
                f" 3. transfer cast send --unlocked --rpc-url signer.ipc: 1 ETH  "
                f"tx {receipt['transactionHash'][:10]}…  status {int(receipt['status'], 16)}"
            )

            counter = w3.eth.contract(abi=ABI, bytecode=INIT_CODE)
            deployed = w3.eth.wait_for_transaction_receipt(
                counter.constructor().transact({"from": address}), timeout=60
            )
            contract = w3.eth.contract(address=deployed["contractAddress"], abi=ABI)
            called = w3.eth.wait_for_transaction_receipt(
                contract.functions.increment().transact({"from": address}), timeout=60
            )
            count = int.from_bytes(w3.eth.get_storage_at(deployed["contractAddress"], 0), "big")
            print(
                f" 4. contract web3.py IPCProvider: deploy (status {deployed['status']}), "
                f"increment() (status {called['status']}), counter = {count}"
            )
            try:
                w3.eth.send_transaction({"from": address, "to": RECIPIENT, "value": 3 * 10**18})
            except Web3RPCError as refused:
                error = (refused.rpc_response or {}).get("error", {})
                data = error.get("data", {})
                print(
                    f" 5. refused  3 ETH: JSON-RPC error {error.get('code')}, rule "
                    f"{data.get('rule')}, value {data.get('value')} > limit {data.get('limit')}"
                )
            balance = w3.eth.get_balance(address)
            print(f"    balance  {balance / 10**18:.4f} ETH left at {address}")
            signer.send_signal(signal.SIGTERM)
            signer.wait(timeout=30)
            print("done: the agent side never held a key, a TPM handle or a state directory")
            return 0
        finally:
            for child in reversed(children):
                if child.poll() is None:
                    child.terminate()
                    child.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
