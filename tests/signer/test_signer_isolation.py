"""Isolation: the service runs as a dedicated OS user that owns the state directory and
the swtpm socket; the agent runs as another user. Shown here with real users (created
with useradd, run with setpriv, so this test needs root, as CI has): the agent cannot
read the state directory, cannot connect to the TPM, signs within the policy through the
IPC socket, is refused beyond it, and cannot run an admin action without approvals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CHAIN_ID, RECIPIENT, Signer, Swtpm, run_as
from eth_account import Account

SERVICE_USER = "flare-signer"
AGENT_USER = "flare-agent"
IPC_GROUP = "flare-ipc"

# What the agent runs: the standard library only, as the agent user.
AGENT_SCRIPT = r"""
import json, os, socket, sys
state_dir, tpm_socket, ipc, address = sys.argv[1:5]
report = {}
try:
    os.listdir(state_dir)
    report["read_state_dir"] = "allowed"
except PermissionError:
    report["read_state_dir"] = "denied"
try:
    open(os.path.join(state_dir, "account.flwseal"), "rb").close()
    report["read_account_file"] = "allowed"
except PermissionError:
    report["read_account_file"] = "denied"
tpm = socket.socket(socket.AF_UNIX)
try:
    tpm.connect(tpm_socket)
    report["connect_tpm"] = "allowed"
except PermissionError:
    report["connect_tpm"] = "denied"
conn = socket.socket(socket.AF_UNIX)
conn.connect(ipc)
decoder = json.JSONDecoder()
def call(method, params):
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    conn.sendall(json.dumps(body).encode())
    buffer = ""
    while True:
        buffer += conn.recv(65536).decode()
        try:
            return decoder.raw_decode(buffer.strip())[0]
        except ValueError:
            pass
tx = {"from": address, "to": sys.argv[5], "gas": "0x5208", "maxFeePerGas": "0x77359400",
      "maxPriorityFeePerGas": "0x1", "nonce": "0x0", "chainId": sys.argv[6]}
report["within_policy"] = call("eth_signTransaction", [dict(tx, value=hex(10**15))])
report["beyond_policy"] = call("eth_signTransaction", [dict(tx, value=hex(10**18))])
action = {"action": "replace_policy", "policy": {"max_value_wei": str(10**21)}}
prepared = call("flare_adminRequest", [action])["result"]
action.update(request=prepared["request"], approvals=[])
report["admin"] = call("flare_executeAdmin", [action])
print(json.dumps(report))
"""


def _ensure_users() -> None:
    def run(*command: str) -> None:
        subprocess.run(command, check=True, capture_output=True)

    if subprocess.run(["getent", "group", IPC_GROUP], capture_output=True).returncode != 0:
        run("groupadd", "--system", IPC_GROUP)
    for user in (SERVICE_USER, AGENT_USER):
        if subprocess.run(["id", "-u", user], capture_output=True).returncode != 0:
            run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
        run("usermod", "-aG", IPC_GROUP, user)


@pytest.fixture
def layout() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("creates OS users and switches to them: needs root (CI runs as root)")
    if shutil.which("setpriv") is None or shutil.which("useradd") is None:
        pytest.fail("setpriv and useradd are needed (util-linux, passwd)")
    _ensure_users()
    base = Path(tempfile.mkdtemp(prefix="flare-signer-isolation-"))
    base.chmod(0o755)
    home = base / "service"
    (home / "swtpm" / "tpm-state").mkdir(parents=True)
    run_dir = base / "run"
    run_dir.mkdir()
    shutil.chown(run_dir, SERVICE_USER, IPC_GROUP)
    run_dir.chmod(0o750)
    for path in [home, home / "swtpm", home / "swtpm" / "tpm-state"]:
        shutil.chown(path, SERVICE_USER, SERVICE_USER)
    home.chmod(0o700)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_agent_is_isolated_from_key_and_tpm(layout: Path) -> None:
    home = layout / "service"
    tpm = Swtpm(home / "swtpm", user=SERVICE_USER)
    signer = None
    try:
        signer_dir = home / "signer"
        signer_dir.mkdir()
        shutil.chown(signer_dir, SERVICE_USER, SERVICE_USER)
        owners_file = signer_dir / "owners.json"
        owner = Account.create()
        owners_file.write_text(json.dumps({"owners": [owner.address], "threshold": 1}))
        owners_file.chmod(0o644)
        signer = Signer(
            signer_dir,
            tpm,
            accounts=[home / "account"],
            policy={"max_value_wei": 10**16, "chain_ids": [CHAIN_ID]},
            user=SERVICE_USER,
            ipc=layout / "run" / "signer.ipc",
            extra=["--ipc-group", IPC_GROUP, "--owners", str(owners_file)],
        )
        (address,) = signer.call("eth_accounts", [])
        owner = os.stat(home / "account")
        assert owner.st_uid == int(subprocess.check_output(["id", "-u", SERVICE_USER]))
        ipc_stat = os.stat(signer.ipc)
        assert oct(ipc_stat.st_mode & 0o777) == "0o660"

        agent = subprocess.run(
            [*run_as(AGENT_USER), "/usr/bin/python3", "-c", AGENT_SCRIPT,
             str(home / "account"), str(tpm.socket), str(signer.ipc), address, RECIPIENT,
             hex(CHAIN_ID)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert agent.returncode == 0, agent.stderr
        report = json.loads(agent.stdout)
        assert report["read_state_dir"] == "denied"
        assert report["read_account_file"] == "denied"
        assert report["connect_tpm"] == "denied"

        raw = report["within_policy"]["result"]
        assert Account.recover_transaction(raw) == address

        refusal = report["beyond_policy"]["error"]
        assert refusal["code"] == -32010
        assert refusal["data"]["rule"] == "max_value_wei"
        assert refusal["data"]["value"] == str(10**18)
        assert refusal["data"]["limit"] == str(10**16)

        admin = report["admin"]["error"]
        assert admin["code"] == -32011, admin
        assert signer.call("flare_policy", [])["adminNonce"] == 0
    finally:
        if signer is not None:
            signer.stop()
        tpm.stop()
