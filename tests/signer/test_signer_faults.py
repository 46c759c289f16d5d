"""Faults: kill -9 of the service and of swtpm under load, bad input of every kind, slow
clients, and SIGTERM with requests in flight. After each, the service keeps serving (or,
once restarted, loads its accounts with a ledger that counts every signature a client
received)."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import CHAIN_ID, RECIPIENT, IpcClient, Signer, Swtpm, free_port
from eth_account import Account

GAS = 21_000
MAX_FEE = 10**9
VALUE = 10**12
WORST_CASE = VALUE + GAS * MAX_FEE
HTTP_TOKEN = "another-token-long-enough"  # noqa: S105 (a test's own token)


def _transfer(address: str, nonce: int) -> dict[str, Any]:
    return {"from": address, "to": RECIPIENT, "value": hex(VALUE), "gas": hex(GAS),
            "maxFeePerGas": hex(MAX_FEE), "maxPriorityFeePerGas": "0x1", "nonce": hex(nonce),
            "chainId": hex(CHAIN_ID)}  # fmt: skip


def _load(signer: Signer, address: str, stop: threading.Event, received: list[str], worker: int):
    nonce = worker << 20
    try:
        with IpcClient(signer.ipc, timeout=5) as client:
            while not stop.is_set():
                nonce += 1
                reply = client.request("eth_signTransaction", [_transfer(address, nonce)])
                if "result" in reply:
                    received.append(reply["result"])
    except (OSError, ConnectionError):
        return


def test_kill_9_under_load_loses_no_spend(start_signer: Callable[..., Signer]) -> None:
    limit = 400 * WORST_CASE
    signer = start_signer(policy={"daily_limit_wei": limit})
    (address,) = signer.call("eth_accounts", [])
    stop = threading.Event()
    received: list[str] = []
    workers = [
        threading.Thread(target=_load, args=(signer, address, stop, received, i)) for i in range(4)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 10
    while len(received) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    signer.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert received, "no signature before the kill"

    signer.start()
    with IpcClient(signer.ipc) as client:
        assert client.result("eth_accounts", []) == [address]
        spent = int(client.result("flare_policy", [])["dailySpentWei"])
    # Every signature a client received is in the ledger (the spend is on disk before
    # the signed bytes leave the core), and the ledger never passes the limit.
    assert all(Account.recover_transaction(raw) == address for raw in received)
    assert spent >= len(set(received)) * WORST_CASE
    assert spent <= limit


def _sign_loop(signer: Signer, address: str, stop: threading.Event, codes: list[object]) -> None:
    """personal_sign in a loop; records "ok" or the error code of each reply."""
    with IpcClient(signer.ipc, timeout=30) as client:
        while not stop.is_set():
            reply = client.request("personal_sign", ["0x01", address])
            codes.append("ok" if "result" in reply else reply["error"]["code"])


def test_swtpm_killed_under_load_then_back(
    swtpm: Swtpm, start_signer: Callable[..., Signer]
) -> None:
    # Strict mode: every signature unseals the key, so every one needs the TPM.
    signer = start_signer(extra=["--key-mode", "strict"])
    (address,) = signer.call("eth_accounts", [])
    stop = threading.Event()
    codes: list[object] = []
    workers = [
        threading.Thread(target=_sign_loop, args=(signer, address, stop, codes)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 20
        while codes.count("ok") < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        swtpm.kill()
        while -32020 not in codes and time.monotonic() < deadline:
            time.sleep(0.01)
        with IpcClient(signer.ipc) as client:
            health = client.result("flare_health", [])
        assert health["status"] == "degraded"
        assert health["tpm"]["ok"] is False
        assert health["tpm"]["lastError"]
        down_at = len(codes)
        swtpm.start()
        while "ok" not in codes[down_at + 3 :] and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    # Every reply was a signature or the TPM error: nothing else, nothing lost.
    assert set(codes) <= {"ok", -32020}, set(codes)
    assert -32020 in codes
    assert codes[-1] == "ok"
    with IpcClient(signer.ipc) as client:
        assert client.result("flare_health", [])["status"] == "ok"
        assert client.result("personal_sign", ["0x02", address]).startswith("0x")


def test_bad_input_gets_clear_errors_and_the_service_keeps_serving(
    start_signer: Callable[..., Signer],
) -> None:
    signer = start_signer(extra=["--max-request-bytes", "65536"])
    (address,) = signer.call("eth_accounts", [])
    with IpcClient(signer.ipc) as client:
        client.send_raw(b'{"jsonrpc": "2.0", "id": 1 "method": "eth_accounts"}')
        assert client.read_value()["error"]["code"] == -32700
        assert client.result("eth_accounts", []) == [address]

        assert client.request("no_such_method", [])["error"]["code"] == -32601
        for method, params in [
            ("eth_sign", [address]),
            ("eth_sign", [address, 5]),
            ("personal_sign", [{"not": "a string"}, address]),
            ("eth_signTransaction", ["0x1234"]),
            ("eth_signTransaction", [{"from": address, "value": "ten"}]),
            ("eth_signTypedData_v4", [address, {"types": 3}]),
            ("flare_attest", [7]),
            ("eth_accounts", {"named": "params"}),
        ]:
            error = client.request(method, params)["error"]  # type: ignore[arg-type]
            assert error["code"] == -32602, (method, params, error)
        assert client.request("eth_sign", ["0x" + "11" * 20, "0x00"])["error"]["code"] == -32001

        client.send_raw(b'{"jsonrpc": "2.0", "method": 5, "id": 3}')
        assert client.read_value()["error"]["code"] == -32600
        client.send_raw(b"[]")
        assert client.read_value()["error"]["code"] == -32600
        batch = (
            b'[{"jsonrpc": "2.0", "id": 1, "method": "eth_accounts"},'
            b' {"jsonrpc": "2.0", "id": 2, "method": "nope"}]'
        )
        client.send_raw(batch)
        replies = client.read_value()
        assert [r["id"] for r in replies] == [1, 2]
        assert replies[0]["result"] == [address]

    with IpcClient(signer.ipc) as big:
        big.send_raw(
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_sign", "params": ["' + b"a" * 70_000
        )
        error = big.read_value()["error"]
        assert error["code"] == -32600
        assert error["data"]["limit"] == 65536

    # A slow client: half a request, then nothing. It is answered and closed after the
    # request timeout (2 s here) while others are served.
    slow = IpcClient(signer.ipc, timeout=10)
    slow.send_raw(b'{"jsonrpc": "2.0", "id": 1, "meth')
    with IpcClient(signer.ipc) as other:
        assert other.result("eth_accounts", []) == [address]
    started = time.monotonic()
    assert slow.read_value()["error"]["code"] == -32002
    assert time.monotonic() - started < 5
    with pytest.raises(ConnectionError):
        slow.read_value()
    slow.close()
    assert signer.call("eth_accounts", []) == [address]


def test_http_limits_auth_and_slow_clients(start_signer: Callable[..., Signer], tmp_path) -> None:
    import urllib.error
    import urllib.request

    token_file = tmp_path / "token"
    token_file.write_text(HTTP_TOKEN)
    token_file.chmod(0o600)
    port = free_port()
    metrics_port = free_port()
    signer = start_signer(
        extra=["--http-listen", f"127.0.0.1:{port}", "--http-token-file", str(token_file),
               "--max-request-bytes", "65536", "--metrics-listen", f"127.0.0.1:{metrics_port}"],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"

    def post(body: bytes, token: str | None = HTTP_TOKEN) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    ok = b'{"jsonrpc": "2.0", "id": 1, "method": "eth_accounts"}'
    assert post(ok)[1]["result"] == signer.call("eth_accounts", [])
    assert post(ok, token=None)[0] == 401
    assert post(ok, token=HTTP_TOKEN[::-1])[0] == 401
    status, reply = post(b'{"jsonrpc": ')
    assert status == 200
    assert reply["error"]["code"] == -32700
    status, reply = post(b"[" + b" " * 70_000 + b"]")
    assert status == 413
    assert reply["error"]["data"]["limit"] == 65536

    # Slow loris: headers never finish; the connection is dropped after the timeout.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert post(ok)[1]["result"]
        data = slow.recv(1024)
        assert time.monotonic() - started < 8
        assert data == b"" or b"408" in data
    metrics = urllib.request.Request(  # noqa: S310 (loopback)
        url + "metrics", headers={"Authorization": f"Bearer {HTTP_TOKEN}"}
    )
    with urllib.request.urlopen(metrics, timeout=10) as answer:  # noqa: S310 (loopback)
        text = answer.read().decode()
    assert "flare_wallet_signer_request_duration_seconds" in text
    assert "flare_wallet_signer_bad_requests_total" in text
    # The separate loopback metrics port needs no token.
    loopback = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(loopback, timeout=10) as answer:
        assert "flare_wallet_signer_tpm_errors_total" in answer.read().decode()


def test_sigterm_drains_requests_in_flight(start_signer: Callable[..., Signer]) -> None:
    signer = start_signer()
    (address,) = signer.call("eth_accounts", [])
    with IpcClient(signer.ipc) as client:
        pipelined = b"".join(
            json.dumps(
                {"jsonrpc": "2.0", "id": i, "method": "eth_signTransaction",
                 "params": [_transfer(address, i)]}
            ).encode()
            for i in range(40)
        )  # fmt: skip
        client.send_raw(pipelined)
        first = client.read_value()
        assert "result" in first
        assert signer.process is not None
        signer.process.send_signal(signal.SIGTERM)
        answered = 1
        try:
            while True:
                reply = client.read_value()
                assert "result" in reply, reply
                answered += 1
        except ConnectionError:
            pass
    assert signer.process.wait(timeout=30) == 0
    assert answered >= 1
    assert not signer.ipc.exists()
