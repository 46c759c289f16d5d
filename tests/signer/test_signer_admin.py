"""Owner-approved actions through the service: flare_adminRequest gives the EIP-712
request, owners sign it with their own keys (eth-account here), flare_executeAdmin runs
it. Too few approvals, a stranger's approval, a replayed request and a changed parameter
are refused with -32011 and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CHAIN_ID, RECIPIENT, IpcClient, RpcError, Signer
from eth_account import Account
from eth_account.messages import encode_typed_data

OWNERS = [Account.create() for _ in range(3)]
STRANGER = Account.create()


def _approve(signers: list[Any], request: dict[str, Any]) -> list[str]:
    signable = encode_typed_data(full_message=request)
    return ["0x" + bytes(s.sign_message(signable).signature).hex() for s in signers]


def _transfer(address: str, value: int) -> dict[str, Any]:
    return {"from": address, "to": RECIPIENT, "value": hex(value), "gas": "0x5208",
            "maxFeePerGas": "0x3b9aca00", "maxPriorityFeePerGas": "0x1", "nonce": "0x0",
            "chainId": hex(CHAIN_ID)}  # fmt: skip


def test_owner_approved_policy_change(start_signer: Callable[..., Signer], tmp_path: Path) -> None:
    owners_file = tmp_path / "owners.json"
    owners_file.write_text(
        json.dumps({"owners": [owner.address for owner in OWNERS], "threshold": 2})
    )
    signer = start_signer(
        policy={"max_value_wei": 10**15, "chain_ids": [CHAIN_ID]},
        extra=["--owners", str(owners_file)],
    )
    with IpcClient(signer.ipc) as client:
        (address,) = client.result("eth_accounts", [])
        before = client.result("flare_policy", [])
        assert before["owners"]["threshold"] == 2
        assert before["adminNonce"] == 0
        with pytest.raises(RpcError) as refused:
            client.result("eth_signTransaction", [_transfer(address, 10**17)])
        assert refused.value.code == -32010

        new_policy = {"max_value_wei": str(10**18), "chain_ids": [CHAIN_ID]}
        action = {"action": "replace_policy", "policy": new_policy}
        prepared = client.result("flare_adminRequest", [action])
        request = prepared["request"]
        assert prepared["nonce"] == 0
        assert request["domain"]["verifyingContract"].lower() == address.lower()

        for approvals in (
            [],
            _approve(OWNERS[:1], request),
            _approve([OWNERS[0], STRANGER], request),
        ):
            with pytest.raises(RpcError) as refused:
                client.result(
                    "flare_executeAdmin", [dict(action, request=request, approvals=approvals)]
                )
            assert refused.value.code == -32011, refused.value.error
        # The approvals are for this policy only.
        other = {"action": "replace_policy", "policy": {"max_value_wei": str(10**20)}}
        with pytest.raises(RpcError) as refused:
            client.result(
                "flare_executeAdmin",
                [dict(other, request=request, approvals=_approve(OWNERS[:2], request))],
            )
        assert refused.value.code == -32011
        assert client.result("flare_policy", [])["policyHash"] == before["policyHash"]

        approvals = _approve(OWNERS[1:], request)
        done = client.result(
            "flare_executeAdmin", [dict(action, request=request, approvals=approvals)]
        )
        after = client.result("flare_policy", [])
        assert done["policyHash"] == after["policyHash"] != before["policyHash"]
        assert after["adminNonce"] == 1
        raw = client.result("eth_signTransaction", [_transfer(address, 10**17)])
        assert Account.recover_transaction(raw) == address

        # Replayed: the admin nonce has moved on.
        with pytest.raises(RpcError) as refused:
            client.result(
                "flare_executeAdmin", [dict(action, request=request, approvals=approvals)]
            )
        assert refused.value.code == -32011

        # Exporting the key needs the owners too; the password never reaches the log.
        password = "export password: correct horse battery staple"  # noqa: S105 (a test's)
        export = {"action": "export_keystore", "password": password}
        prepared = client.result("flare_adminRequest", [export])
        assert prepared["nonce"] == 1
        with pytest.raises(RpcError) as refused:
            client.result(
                "flare_executeAdmin",
                [dict(export, request=prepared["request"], approvals=[])],
            )
        assert refused.value.code == -32011
        approvals = _approve(OWNERS[:2], prepared["request"])
        exported = client.result(
            "flare_executeAdmin",
            [dict(export, request=prepared["request"], approvals=approvals)],
        )
        key = Account.decrypt(exported["keystore"], password)
        assert Account.from_key(key).address == address
    assert password not in signer.log.read_text()

    # The change survives a restart.
    signer.stop()
    signer.start()
    assert signer.call("flare_policy", [])["policyHash"] == after["policyHash"]


def test_ownerless_account_has_no_admin(start_signer: Callable[..., Signer]) -> None:
    signer = start_signer()
    with IpcClient(signer.ipc) as client:
        with pytest.raises(RpcError) as refused:
            client.result("flare_adminRequest", [{"action": "replace_policy", "policy": {}}])
        assert refused.value.code == -32011
        with pytest.raises(RpcError) as refused:
            client.result("flare_adminRequest", [{"action": "format_disk"}])
        assert refused.value.code == -32602
