"""The main job: the FlareTrade wallet flow on a software TPM and a local anvil chain."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from flare_wallet._attestation import verify_attestation
from flare_wallet._demo_contract import ABI, INIT_CODE
from flare_wallet._manager import SecureWalletManager
from flare_wallet._simulated_ca import SimulatedEkCa
from flare_wallet._vtpm import Vtpm
from flare_wallet.exceptions import WalletError

__all__ = ["Anvil", "run_demo"]

ANVIL_ENV = "FLARE_WALLET_ANVIL"
DEMO_CHAIN_ID = 31337


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Anvil:
    """A private anvil node on a free loopback port, stopped by PID."""

    def __init__(self, executable: str | None = None, *, chain_id: int = DEMO_CHAIN_ID):
        path = executable or os.environ.get(ANVIL_ENV) or shutil.which("anvil")
        if not path:
            raise WalletError(
                "anvil was not found: set $FLARE_WALLET_ANVIL or put Foundry's anvil on PATH "
                "(`make deps` installs it from npm into tools/node)"
            )
        last_error = ""
        for _ in range(5):
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self.process = subprocess.Popen(
                [path, "--host", "127.0.0.1", "--port", str(self.port),
                 "--chain-id", str(chain_id), "--hardfork", "prague"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            if self._wait_ready():
                return
            last_error = self._stop_and_read_error()
        raise WalletError(f"anvil did not start: {last_error.strip()[:500]}")

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        request = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        ).encode()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                # The URL is built above: http on loopback, never a caller's scheme.
                call = urllib.request.Request(  # noqa: S310
                    self.url, data=request, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(call, timeout=1) as answer:  # noqa: S310
                    if answer.status == 200:
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def _stop_and_read_error(self) -> str:
        self.stop()
        stderr = self.process.stderr
        return stderr.read().decode(errors="replace") if stderr else ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Stop this anvil (its own PID only)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _short(value: str, keep: int = 10) -> str:
    return value if len(value) <= 2 * keep else f"{value[:keep]}…{value[-4:]}"


def _eth(wei: int) -> str:
    return f"{wei / 10**18:.4f} ETH"


def run_demo(
    print_line: Callable[[str], None] = print, anvil_path: str | None = None
) -> dict[str, Any]:
    """Run the FlareTrade flow end to end; returns what it observed (for tests)."""
    from web3 import Web3  # web3 is optional for the package, needed here

    seen: dict[str, Any] = {"receipts": []}
    work = Path(tempfile.mkdtemp(prefix="flare-wallet-demo-"))
    state_dir, tpm_dir = work / "wallet", work / "tpm"
    step = 0

    def say(what: str, text: str) -> None:
        nonlocal step
        step += 1
        print_line(f"{step:>2}. {what:<9}{text}")

    def mined(web3: Any, tx_hash: bytes, label: str) -> Any:
        receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        seen["receipts"].append((label, receipt))
        if receipt["status"] != 1:
            raise WalletError(f"{label}: transaction reverted (status {receipt['status']})")
        return receipt

    def receipt_line(receipt: Any) -> str:
        return (
            f"tx {_short(receipt['transactionHash'].to_0x_hex())}  block {receipt['blockNumber']}"
            f"  gas {receipt['gasUsed']}  status {receipt['status']}"
        )

    def send(manager: SecureWalletManager, web3: Any, tx: dict[str, Any], label: str) -> Any:
        raw = manager.sign_transaction(tx)
        return mined(web3, web3.eth.send_raw_transaction(raw), label)

    def fee_fields(web3: Any) -> dict[str, int]:
        base = int(web3.eth.get_block("latest")["baseFeePerGas"])
        tip = 10**9
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    try:
        with Anvil(anvil_path) as anvil:
            # web3's own annotations want NewType'd addresses and hashes; this flow
            # passes plain strings and bytes, which web3 accepts at run time.
            web3: Any = Web3(Web3.HTTPProvider(anvil.url))
            chain_id = int(web3.eth.chain_id)
            dev, recipient, spender = (
                web3.eth.accounts[0],
                web3.eth.accounts[1],
                web3.eth.accounts[2],
            )
            print_line("flare-wallet demo: the FlareTrade wallet flow, key sealed by a TPM")
            print_line(f"    anvil    {anvil.url}  chain id {chain_id}  pid {anvil.pid}")

            vtpm = Vtpm.simulator(state_dir, tpm_state_dir=tpm_dir)
            print_line(f"    swtpm    pid {vtpm.simulator_pid}  (a software TPM: demo only)")
            with vtpm, SecureWalletManager(web3, vtpm) as manager:
                address = manager.create_account()
                seen["address"] = address
                say("create", f"account {address}, sealed by the TPM")

                # The simulator has no vendor: a local CA certifies its EK, and the
                # wallet's attestation key is enrolled against that root.
                vendor = SimulatedEkCa()
                request = vtpm.enrollment_request()
                ek_public = request["ek_public"]
                assert ek_public is not None
                record = manager.enroll(
                    vendor.root_pem, ek_certificate=vendor.certify_ek(ek_public)
                )
                say("enroll", f"attestation key enrolled ({len(record)}-byte record)")

                nonce = secrets.token_bytes(32)
                evidence = manager.attest(nonce)
                facts = verify_attestation(
                    evidence,
                    nonce,
                    trust_roots=vendor.root_pem,
                    enrollment=record,
                    expected_address=address,
                    expected_chain_id=chain_id,
                    accept_unverified_tpm=True,
                )
                seen["attestation"] = facts
                say(
                    "attest",
                    f"quote of PCRs {min(facts['pcrs'])}-{max(facts['pcrs'])} by AK "
                    f"{_short(facts['ak_name'])}: verified (nonce, chain, address)",
                )

                funding = web3.eth.send_transaction(
                    {"from": dev, "to": address, "value": 10 * 10**18}
                )
                receipt = mined(web3, funding, "fund")
                say("fund", f"10 ETH from anvil's dev account  {receipt_line(receipt)}")

                transfer = {
                    "to": recipient,
                    "value": 10**18,
                    "gas": 21000,
                    "nonce": web3.eth.get_transaction_count(address),
                    "chainId": chain_id,
                    **fee_fields(web3),
                }
                receipt = send(manager, web3, transfer, "transfer")
                say("transfer", f"1 ETH (EIP-1559) to {_short(recipient)}  {receipt_line(receipt)}")

                deploy = {
                    "data": INIT_CODE,
                    "value": 0,
                    "gas": 200_000,
                    "nonce": web3.eth.get_transaction_count(address),
                    **fee_fields(web3),
                }
                receipt = send(manager, web3, deploy, "deploy")
                contract_address = receipt["contractAddress"]
                seen["contract"] = contract_address
                say(
                    "deploy",
                    f"contract ({len(INIT_CODE)} bytes of init code)  {receipt_line(receipt)}",
                )
                print_line(f"             at {contract_address}: approve() and allowance()")

                token = web3.eth.contract(address=contract_address, abi=ABI)
                amount = 5 * 10**18
                approve = token.functions.approve(spender, amount).build_transaction(
                    {"from": address, "nonce": web3.eth.get_transaction_count(address)}
                )
                receipt = send(manager, web3, dict(approve), "approve")
                events = token.events.Approval().process_receipt(receipt)
                allowance = token.functions.allowance(address, spender).call()
                seen["allowance"] = allowance
                say(
                    "approve",
                    f"5e18 for {_short(spender)}  {receipt_line(receipt)}",
                )
                print_line(
                    f"             {len(events)} Approval event; allowance() now returns "
                    f"{allowance / 10**18:g}e18"
                )

                backup = manager.backup_wallet()
                seen["backup_length"] = len(backup)
                say(
                    "backup",
                    f"{len(backup)} characters of base64: the sealed key, bound to this TPM",
                )

            shutil.rmtree(state_dir)
            say("wipe", "wallet state dir deleted; swtpm restarted on its own (kept) state")

            with (
                Vtpm.simulator(state_dir, tpm_state_dir=tpm_dir) as vtpm,
                SecureWalletManager(web3, vtpm) as manager,
            ):
                restored = manager.restore_wallet(backup)
                seen["restored"] = restored
                if restored != address:
                    raise WalletError(f"restored {restored}, expected {address}")
                say("restore", f"account {restored} (the same address)")
                again = {
                    "to": recipient,
                    "value": 10**17,
                    "gas": 21000,
                    "nonce": web3.eth.get_transaction_count(address),
                    **fee_fields(web3),
                }  # no chainId: read from web3
                receipt = send(manager, web3, again, "send again")
                say("send", f"0.1 ETH, chainId read from web3  {receipt_line(receipt)}")
                balance = int(web3.eth.get_balance(address))
                seen["balance"] = balance
                print_line(f"    balance  {_eth(balance)} left at {_short(address)}")
        print_line(f"done: {len(seen['receipts'])} transactions mined, every one with status 1")
        return seen
    finally:
        shutil.rmtree(work, ignore_errors=True)
