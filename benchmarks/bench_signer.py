"""`make bench-signer`: the signing service under load, next to in-process signing.

Starts a private swtpm and the release ``flare-wallet-signer`` (IPC and loopback HTTP),
then runs ``flare-wallet-signer-load`` (hdrhistogram, signer/src/bin/load.rs):

- closed loop, 16 concurrent clients: throughput of ``eth_signTransaction``;
- open loop at a fixed 1,000 requests/s: p50 and p99 from each request's due time;

over IPC and over HTTP in cached key mode, and again in strict mode (one TPM unseal per
signature). In the same run it times in-process Python signing
(``SecureWalletManager.sign_transaction`` on the wheel) and the same manager pointed at
the service (``Vtpm("signer:path=...")``). Load generator and service share the machine's
cores. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIGNER = os.environ.get("FLARE_WALLET_SIGNER", str(ROOT / "target/release/flare-wallet-signer"))
LOAD = os.environ.get(
    "FLARE_WALLET_SIGNER_LOAD", str(ROOT / "target/release/flare-wallet-signer-load")
)
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
TX = {
    "to": "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "value": 1,
    "gas": 21000,
    "maxFeePerGas": 2 * 10**9,
    "maxPriorityFeePerGas": 10**9,
    "nonce": 0,
    "chainId": 31337,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {path}")
        time.sleep(0.02)


def load(arguments: list[str], label: str) -> dict[str, Any]:
    out = subprocess.run(
        [LOAD, *arguments, "--seconds", str(SECONDS), "--label", label],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(out.stdout)
    return figures


def python_signing(manager: Any, seconds: float) -> dict[str, Any]:
    samples = []
    deadline = time.perf_counter() + seconds
    nonce = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        manager.sign_transaction(dict(TX, nonce=nonce))
        samples.append((time.perf_counter() - started) * 1e6)
        nonce += 1
    samples.sort()
    return {
        "requests": len(samples),
        "throughput_per_s": round(len(samples) / seconds),
        "p50_us": round(statistics.median(samples)),
        "p99_us": round(samples[int(len(samples) * 0.99)]),
    }


def main() -> int:
    from flare_wallet import SecureWalletManager, Vtpm

    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="flare-bench-signer-") as scratch:
        work = Path(scratch)
        # A certified software TPM (EK certificates from a local CA): the signer verifies it.
        subprocess.run(
            [str(ROOT / "tests/support/certified-swtpm-template.sh"), str(work / "certified")],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        (work / "certified" / "state").rename(work / "tpm")
        tpm_socket = work / "swtpm.sock"
        swtpm = subprocess.Popen(
            ["swtpm", "socket", "--tpm2", "--server", f"type=unixio,path={tpm_socket}",
             "--ctrl", f"type=unixio,path={work / 'swtpm.ctrl'}", "--tpmstate",
             f"dir={work / 'tpm'}", "--flags", "not-need-init,startup-clear"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        token = work / "token"
        token.write_text(secrets.token_hex(16))
        token.chmod(0o600)
        try:
            wait_for(tpm_socket)
            for mode in ("cached", "strict"):
                ipc = work / f"signer-{mode}.ipc"
                port = free_port()
                signer = subprocess.Popen(
                    [SIGNER, "--tpm", f"swtpm:path={tpm_socket}",
                     "--trust-roots", str(work / "certified" / "roots.pem"), "--account",
                     str(work / "account"), "--create-missing", "--ipc", str(ipc),
                     "--key-mode", mode, "--http-listen", f"127.0.0.1:{port}",
                     "--http-token-file", str(token)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env=dict(os.environ, RUST_LOG="warn"),
                )  # fmt: skip
                try:
                    wait_for(ipc)
                    http = ["--http", f"http://127.0.0.1:{port}/", "--token-file", str(token)]
                    if mode == "cached":
                        rows.append(
                            (
                                "IPC, closed loop, 16 clients",
                                load(["--ipc", str(ipc), "--concurrency", "16"], "ipc-c16"),
                            )
                        )
                        rows.append(
                            (
                                "IPC, open loop, 1,000 req/s",
                                load(["--ipc", str(ipc), "--rate", "1000"], "ipc-r1000"),
                            )
                        )
                        rows.append(
                            (
                                "HTTP, closed loop, 16 clients",
                                load([*http, "--concurrency", "16"], "http-c16"),
                            )
                        )
                        rows.append(
                            (
                                "HTTP, open loop, 1,000 req/s",
                                load([*http, "--rate", "1000"], "http-r1000"),
                            )
                        )
                        with SecureWalletManager(None, Vtpm(f"signer:path={ipc}")) as remote:
                            remote.load_account()
                            rows.append(
                                (
                                    "Python manager via the service (IPC), 1 thread",
                                    python_signing(remote, SECONDS),
                                )
                            )
                    else:
                        rows.append(
                            (
                                "strict: IPC, closed loop, 16 clients",
                                load(["--ipc", str(ipc), "--concurrency", "16"], "strict-ipc-c16"),
                            )
                        )
                        rows.append(
                            (
                                "strict: IPC, open loop, 50 req/s",
                                load(
                                    ["--ipc", str(ipc), "--rate", "50", "--connections", "4"],
                                    "strict-ipc-r50",
                                ),
                            )
                        )
                finally:
                    signer.send_signal(signal.SIGTERM)
                    signer.wait(timeout=30)
        finally:
            swtpm.terminate()
            swtpm.wait(timeout=10)
    with Vtpm.simulator() as vtpm, SecureWalletManager(None, vtpm, key_mode="cached") as local:
        local.create_account()
        rows.append(("Python in process (wheel, cached), 1 thread", python_signing(local, SECONDS)))

    print("| run | signatures/s | p50 µs | p99 µs | errors |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, figures in rows:
        print(
            f"| {name} | {figures['throughput_per_s']:,} | {figures['p50_us']:,} | "
            f"{figures['p99_us']:,} | {figures.get('errors', 0)} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
