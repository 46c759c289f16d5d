"""Ethereum clients, unchanged, against anvil through the signer's proxy: web3.py over IPC
and over HTTP, cast over IPC; every signature recovered by eth-account."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CAST, CHAIN_ID, RECIPIENT, Anvil, IpcClient, RpcError, Signer, free_port
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from web3 import Web3
from web3.providers import IPCProvider

# A counter: any call adds one to storage slot 0 (runtime: PUSH1 0 SLOAD PUSH1 1 ADD
# PUSH1 0 SSTORE STOP), deployed by init code that copies it out (CODECOPY, RETURN).
RUNTIME = bytes.fromhex("60005460010160005500")
INIT_CODE = bytes.fromhex("600a600c600039600a6000f3") + RUNTIME
COUNTER_ABI = [
    {
        "type": "function",
        "name": "increment",
        "inputs": [],
        "outputs": [],
        "stateMutability": "nonpayable",
    },
    {"type": "constructor", "inputs": [], "stateMutability": "nonpayable"},
]

TEST_TOKEN = "a-test-token-of-enough-length"  # noqa: S105 (a test's own token)

MAIL = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ],
        "Person": [
            {"name": "name", "type": "string"},
            {"name": "wallets", "type": "address[]"},
        ],
        "Mail": [
            {"name": "from", "type": "Person"},
            {"name": "to", "type": "Person[]"},
            {"name": "contents", "type": "string"},
            {"name": "amount", "type": "uint256"},
            {"name": "delta", "type": "int32"},
            {"name": "tag", "type": "bytes4"},
            {"name": "blob", "type": "bytes"},
            {"name": "flag", "type": "bool"},
        ],
    },
    "primaryType": "Mail",
    "domain": {
        "name": "Ether Mail",
        "version": "1",
        "chainId": CHAIN_ID,
        "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
    },
    "message": {
        "from": {"name": "Cow", "wallets": ["0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"]},
        "to": [{"name": "Bob", "wallets": ["0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"]}],
        "contents": "Hello, Bob!",
        "amount": 10**18,
        "delta": -7,
        "tag": "0xdeadbeef",
        "blob": "0x0102",
        "flag": True,
    },
}


@pytest.fixture
def funded_signer(start_signer: Callable[..., Signer], anvil: Anvil, tmp_path: Path) -> Signer:
    token = tmp_path / "token"
    token.write_text(f"{TEST_TOKEN}\n")
    token.chmod(0o600)
    port = free_port()
    signer = start_signer(
        upstream=anvil.url,
        extra=["--http-listen", f"127.0.0.1:{port}", "--http-token-file", str(token)],
    )
    signer.http_url = f"http://127.0.0.1:{port}/"  # type: ignore[attr-defined]
    signer.token = TEST_TOKEN  # type: ignore[attr-defined]
    (address,) = signer.call("eth_accounts", [])
    anvil.fund(address, 10 * 10**18)
    return signer


def _web3_ipc(signer: Signer) -> Web3:
    return Web3(IPCProvider(str(signer.ipc), timeout=30))


def _web3_http(signer: Any) -> Web3:
    return Web3(
        Web3.HTTPProvider(
            signer.http_url,
            request_kwargs={"headers": {"Authorization": f"Bearer {signer.token}"}, "timeout": 30},
        )
    )


@pytest.mark.parametrize("connect", [_web3_ipc, _web3_http], ids=["ipc", "http"])
def test_web3_send_transaction_contract_and_typed_data(
    funded_signer: Signer, connect: Callable[[Any], Web3]
) -> None:
    w3 = connect(funded_signer)
    assert w3.eth.chain_id == CHAIN_ID  # proxied to anvil
    (address,) = w3.eth.accounts
    before = w3.eth.get_balance(RECIPIENT)

    tx_hash = w3.eth.send_transaction({"from": address, "to": RECIPIENT, "value": 12345})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    assert receipt["from"] == address
    assert w3.eth.get_balance(RECIPIENT) == before + 12345
    mined = w3.eth.get_transaction(tx_hash)
    assert mined["type"] == 2

    counter = w3.eth.contract(abi=COUNTER_ABI, bytecode=INIT_CODE)
    deploy = w3.eth.wait_for_transaction_receipt(
        counter.constructor().transact({"from": address}), timeout=30
    )
    assert deploy["status"] == 1
    deployed = w3.eth.contract(address=deploy["contractAddress"], abi=COUNTER_ABI)
    call = w3.eth.wait_for_transaction_receipt(
        deployed.functions.increment().transact({"from": address}), timeout=30
    )
    assert call["status"] == 1
    assert int.from_bytes(w3.eth.get_storage_at(deploy["contractAddress"], 0), "big") == 1

    signature = w3.eth.sign_typed_data(address, MAIL)
    signable = encode_typed_data(full_message=MAIL)
    assert Account.recover_message(signable, signature=signature) == address

    message_signature = w3.eth.sign(address, text="hello from web3")
    recovered = Account.recover_message(
        encode_defunct(text="hello from web3"), signature=message_signature
    )
    assert recovered == address


def test_sign_transaction_and_personal_sign_recover(funded_signer: Signer) -> None:
    with funded_signer.client() as client:
        (address,) = client.result("eth_accounts", [])
        raw = client.result(
            "eth_signTransaction",
            [{"from": address, "to": RECIPIENT, "value": "0x1", "gas": "0x5208",
              "gasPrice": "0x3b9aca00", "nonce": "0x7", "chainId": hex(CHAIN_ID)}],
        )  # fmt: skip
        assert Account.recover_transaction(raw) == address
        # Missing fields are filled from the node.
        raw_filled = client.result("eth_signTransaction", [{"from": address, "to": RECIPIENT}])
        assert Account.recover_transaction(raw_filled) == address
        signature = client.result("personal_sign", ["0x68656c6c6f", address])
        assert Account.recover_message(encode_defunct(b"hello"), signature=signature) == address
        signature = client.result("eth_signTypedData_v4", [address, MAIL])
        assert (
            Account.recover_message(encode_typed_data(full_message=MAIL), signature=signature)
            == address
        )


def test_cast_send_unlocked_over_ipc(funded_signer: Signer, anvil: Anvil) -> None:
    (address,) = funded_signer.call("eth_accounts", [])
    result = subprocess.run(
        [CAST, "send", "--unlocked", "--from", address, "--rpc-url", str(funded_signer.ipc),
         RECIPIENT, "--value", "1000", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    receipt = json.loads(result.stdout)
    assert int(receipt["status"], 16) == 1
    assert receipt["from"].lower() == address.lower()
    raw = anvil.call("eth_getRawTransactionByHash", [receipt["transactionHash"]])
    assert Account.recover_transaction(raw) == address


def test_unknown_account_is_a_clear_error(funded_signer: Signer) -> None:
    with IpcClient(funded_signer.ipc) as client:
        with pytest.raises(RpcError) as refused:
            client.result("personal_sign", ["0x00", RECIPIENT])
        assert refused.value.code == -32001


def test_ethers_ipc_socket_provider(funded_signer: Signer) -> None:
    ethers = Path(CAST).parents[3] / "ethers"
    if shutil.which("node") is None or not ethers.exists():
        pytest.fail("node and ethers are needed: make deps-node")
    result = subprocess.run(
        ["node", str(Path(__file__).with_name("ethers_ipc.cjs")), str(ethers),
         str(funded_signer.ipc), RECIPIENT],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == 1
    assert report["from"] == report["account"]
    assert report["messageSigner"] == report["account"]
    assert report["typedSigner"] == report["account"]
