"""Owners and their approvals through Python: the agent alone can neither loosen the policy
nor export the key (every path), M of N owners can (approvals from eth-account and from
``cast wallet sign --data``), each refusal names its reason and changes nothing, ownerless
accounts refuse everything, and the audit log shows what happened and detects edits.

Most refusals need no KDF; the two exports use pbkdf2 at the export minimum (600000).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    KEY,
    OWNER_ADDRESSES,
    OWNERS,
    THRESHOLD,
    approve,
    cast_executable,
    cast_sign,
)
from eth_account import Account
from eth_account.messages import encode_typed_data
from flare_wallet import (
    AdminApprovalError,
    AuditLogError,
    InvalidOwners,
    KeystoreError,
    OwnerlessAccount,
    Policy,
    PolicyViolation,
    SecureWalletManager,
    Vtpm,
    WalletError,
    verify_audit_log,
)
from flare_wallet.__main__ import main as cli_main

ETHER = 10**18
GWEI = 10**9
STRONG_PBKDF2 = {"c": 600_000}
PASSWORD = "correct horse battery staple"  # noqa: S105 (a test password)
CAPPED = {"max_value_wei": ETHER}
LOOSE = {"max_value_wei": 5 * ETHER}
STRANGER = Account.from_key(bytes([0x0E] * 32))
TX = {
    "to": "0x000000000000000000000000000000000000dEaD",
    "value": 2 * ETHER,
    "gas": 21000,
    "maxFeePerGas": 2 * GWEI,
    "maxPriorityFeePerGas": GWEI,
    "nonce": 0,
    "chainId": 1,
}


def unchanged(manager: SecureWalletManager, policy_hash: str | None, nonce: int) -> bool:
    return manager.policy_hash == policy_hash and manager.admin_nonce == nonce


@pytest.fixture
def capped(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    """KEY administered by OWNERS (2 of 3) under a 1 ether cap."""
    with SecureWalletManager(
        None, vtpm, policy=CAPPED, owners=OWNER_ADDRESSES, threshold=THRESHOLD, key_lock="none"
    ) as manager:
        manager.import_private_key(KEY)
        yield manager


# ---------------------------------------------------------------- the agent alone


def test_the_agent_alone_cannot_loosen_the_policy_export_or_replace_owners(
    capped: SecureWalletManager,
) -> None:
    before = capped.policy_hash
    assert capped.owners == sorted(OWNER_ADDRESSES, key=lambda a: bytes.fromhex(a[2:]))
    assert capped.threshold == 2
    assert capped.admin_nonce == 0

    unsigned = capped.admin_request("replace_policy", policy=LOOSE)
    attempts: list[Callable[[], Any]] = [
        lambda: capped.replace_policy({}),
        lambda: capped.replace_policy(LOOSE, request=unsigned),
        lambda: capped.export_keystore("", kdf="pbkdf2", kdf_params={"c": 1}),
        lambda: capped.replace_owners([capped.address], 1),
    ]
    for attempt in attempts:
        with pytest.raises(AdminApprovalError, match="needs the approval of the account's owners"):
            attempt()

    # A request the agent makes and signs itself: with the wallet's own key (it can ask
    # the wallet for EIP-712 signatures), with a key of its own, or with none.
    request = capped.admin_request("replace_policy", policy=LOOSE)
    by_wallet = capped.sign_typed_data(request)
    by_itself = Account.sign_typed_data(STRANGER.key, full_message=request)
    for approvals, reason in [
        ([by_wallet], "not_owner"),
        ([by_itself, by_wallet], "not_owner"),
        ([], "no_approvals"),
    ]:
        with pytest.raises(AdminApprovalError) as refused:
            capped.execute_admin(request, approvals, policy=LOOSE)
        assert refused.value.reason == reason
    with pytest.raises(AdminApprovalError) as refused:
        capped.replace_owners([STRANGER.address], 1, request=request, approvals=[by_wallet])
    assert refused.value.reason == "wrong_action"

    # The keystore password never appears in a request; an export by the agent fails.
    export = capped.admin_request(
        "export_keystore", password=PASSWORD, kdf="pbkdf2", kdf_params=STRONG_PBKDF2
    )
    assert PASSWORD not in json.dumps(export)
    with pytest.raises(AdminApprovalError) as refused:
        capped.export_keystore(
            PASSWORD, kdf="pbkdf2", kdf_params=STRONG_PBKDF2, request=export,
            approvals=[capped.sign_typed_data(export)],
        )  # fmt: skip
    assert refused.value.reason == "not_owner"
    assert PASSWORD not in str(refused.value)

    assert unchanged(capped, before, 0)
    with pytest.raises(PolicyViolation, match="exceeds max_value_wei"):
        capped.sign_transaction(TX)


def test_ownerless_accounts_refuse_every_admin_action(
    imported: SecureWalletManager, tmp_path: Path
) -> None:
    assert imported.owners == []
    assert imported.threshold == 0
    calls: list[Callable[[], Any]] = [
        lambda: imported.admin_request("replace_policy", policy={}),
        lambda: imported.admin_request("replace_owners", owners=OWNER_ADDRESSES, threshold=1),
        lambda: imported.admin_request("export_keystore", password=PASSWORD),
        lambda: imported.replace_policy({}),
        lambda: imported.export_keystore(PASSWORD),
        lambda: imported.replace_owners(OWNER_ADDRESSES, 1),
    ]
    # A request made for an account with owners, approved by them, is still refused.
    with (
        Vtpm.simulator(tmp_path / "owned") as other,
        SecureWalletManager(
            None, other, owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
        ) as owned,
    ):
        owned.import_private_key(KEY)
        request = owned.admin_request("replace_policy", policy={})
    approvals = approve(request, *OWNERS[:2])
    calls.append(lambda: imported.execute_admin(request, approvals, policy={}))
    for call in calls:
        with pytest.raises(OwnerlessAccount) as refused:
            call()
        assert "this account has no owners" in str(refused.value)
        assert "owners=[...], threshold=M" in str(refused.value)
    assert imported.admin_nonce == 0


# ---------------------------------------------------------------- the owners


def test_two_of_three_owners_raise_the_cap_and_a_refused_transfer_is_mined(
    vtpm: Vtpm, web3: Any, fund: Callable[[str, int], None], tmp_path: Path
) -> None:
    cap = ETHER // 2
    with SecureWalletManager(
        web3,
        vtpm,
        policy={"max_value_wei": cap},
        owners=OWNER_ADDRESSES,
        threshold=2,
        key_lock="none",
    ) as manager:
        sender = manager.create_account()
        fund(sender, 3 * ETHER)
        recipient = Account.create().address
        base = int(web3.eth.get_block("latest")["baseFeePerGas"])
        tx = {
            "to": recipient,
            "value": ETHER,
            "gas": 21000,
            "maxFeePerGas": 2 * base + GWEI,
            "maxPriorityFeePerGas": GWEI,
            "nonce": web3.eth.get_transaction_count(sender),
        }
        with pytest.raises(PolicyViolation, match="exceeds max_value_wei"):
            manager.sign_transaction(tx)

        raised = {"max_value_wei": 2 * ETHER}
        request = manager.admin_request("replace_policy", policy=raised)
        assert request["domain"]["verifyingContract"] == sender
        assert request["message"]["nonce"] == 0
        assert request["message"]["paramsHash"] == Policy(raised).hash
        assert 0 < request["message"]["deadline"] - time.time() <= 15 * 60
        # One owner signs with eth-account, another with cast.
        approvals = [
            Account.sign_typed_data(OWNERS[0].key, full_message=request),
            cast_sign(request, OWNERS[2], tmp_path),
        ]
        assert manager.execute_admin(request, approvals, policy=raised) == Policy(raised).hash
        assert manager.policy == Policy(raised)
        assert manager.admin_nonce == 1

        raw = manager.sign_transaction(tx)
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        assert web3.eth.get_balance(recipient) == ETHER


def test_an_export_approved_by_the_owners_opens_in_eth_account_and_cast(
    owned: SecureWalletManager, tmp_path: Path
) -> None:
    from test_keystore import Cast

    request = owned.admin_request(
        "export_keystore", password=PASSWORD, kdf="pbkdf2", kdf_params=STRONG_PBKDF2
    )
    approvals = [cast_sign(request, OWNERS[1], tmp_path), *approve(request, OWNERS[2])]
    keystore = owned.export_keystore(
        PASSWORD, kdf="pbkdf2", kdf_params=STRONG_PBKDF2, request=request, approvals=approvals
    )
    assert keystore["crypto"]["kdfparams"]["c"] == 600_000
    assert bytes(Account.decrypt(keystore, PASSWORD)) == bytes.fromhex(KEY[2:])
    path = tmp_path / "exported"
    path.write_text(json.dumps(keystore))
    assert Cast(cast_executable()).decrypt_keystore(path, PASSWORD) == bytes.fromhex(KEY[2:])
    assert owned.admin_nonce == 1
    # The same approvals do not export twice.
    with pytest.raises(AdminApprovalError) as replayed:
        owned.execute_admin(
            request, approvals, password=PASSWORD, kdf="pbkdf2", kdf_params=STRONG_PBKDF2
        )
    assert replayed.value.reason == "replayed"
    assert owned.admin_nonce == 1


def test_the_owners_replace_themselves(owned: SecureWalletManager) -> None:
    new_owner = STRANGER
    request = owned.admin_request("replace_owners", owners=[new_owner.address], threshold=1)
    result = owned.execute_admin(
        request, approve(request, OWNERS[0], OWNERS[1]), owners=[new_owner.address], threshold=1
    )
    assert result == {"owners": [new_owner.address], "threshold": 1}
    assert owned.owners == [new_owner.address]
    assert owned.threshold == 1
    # The old owners no longer count; the new one alone does.
    request = owned.admin_request("replace_policy", policy=LOOSE)
    with pytest.raises(AdminApprovalError) as refused:
        owned.replace_policy(LOOSE, request=request, approvals=approve(request, *OWNERS))
    assert refused.value.reason == "not_owner"
    assert owned.replace_policy(LOOSE, request=request, approvals=approve(request, new_owner))
    assert owned.policy == Policy(LOOSE)


def test_a_restored_backup_keeps_its_owners(tmp_path: Path) -> None:
    tpm = {"tpm_state_dir": tmp_path / "tpm"}
    with (
        Vtpm.simulator(tmp_path / "first", **tpm) as vtpm,
        SecureWalletManager(None, vtpm, owners=OWNER_ADDRESSES, threshold=2, key_lock="none") as wm,
    ):
        address = wm.create_account()
        backup = wm.backup_wallet()
    with (
        Vtpm.simulator(tmp_path / "second", **tpm) as vtpm,
        SecureWalletManager(None, vtpm) as wm,
    ):
        assert wm.restore_wallet(backup) == address
        assert sorted(wm.owners) == sorted(OWNER_ADDRESSES)
        assert wm.threshold == 2
        request = wm.admin_request("replace_policy", policy=LOOSE)
        wm.replace_policy(LOOSE, request=request, approvals=approve(request, *OWNERS[:2]))
        current = wm.backup_wallet()
    # The backup from before the change is behind the account's anti-rollback
    # counter (every account has one, key lock "none" included).
    with (
        Vtpm.simulator(tmp_path / "stale", **tpm) as vtpm,
        SecureWalletManager(None, vtpm) as wm,
        pytest.raises(WalletError, match="rolled back"),
    ):
        wm.restore_wallet(backup)
    with (
        Vtpm.simulator(tmp_path / "third", **tpm) as vtpm,
        SecureWalletManager(
            None, vtpm, owners=[STRANGER.address], threshold=1, key_lock="none"
        ) as wm,
        pytest.raises(WalletError, match="has other owners"),
    ):
        wm.restore_wallet(current)


# ---------------------------------------------------------------- refusals, each by reason


def refusal_cases(other: SecureWalletManager) -> dict[str, Callable[[SecureWalletManager], None]]:
    """Each refused execution of a replace_policy to LOOSE, by its reason."""

    def replayed(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=CAPPED)
        approvals = approve(request, *OWNERS[:2])
        wm.execute_admin(request, approvals, policy=CAPPED)
        wm.execute_admin(request, approvals, policy=CAPPED)

    def expired(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", deadline=int(time.time()) - 1, policy=LOOSE)
        wm.execute_admin(request, approve(request, *OWNERS[:2]), policy=LOOSE)

    def params_mismatch(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=CAPPED)
        wm.execute_admin(request, approve(request, *OWNERS[:2]), policy=LOOSE)

    def tampered_request(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=CAPPED)
        approvals = approve(request, *OWNERS[:2])
        request["message"]["paramsHash"] = Policy(LOOSE).hash
        wm.execute_admin(request, approvals, policy=LOOSE)

    def wrong_wallet(wm: SecureWalletManager) -> None:
        request = other.admin_request("replace_policy", policy=LOOSE)
        wm.execute_admin(request, approve(request, *OWNERS[:2]), policy=LOOSE)

    def not_owner(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=LOOSE)
        wm.execute_admin(request, approve(request, OWNERS[0], STRANGER), policy=LOOSE)

    def duplicate_signer(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=LOOSE)
        wm.execute_admin(request, approve(request, OWNERS[0], OWNERS[0]), policy=LOOSE)

    def wrong_action(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_owners", owners=[STRANGER.address], threshold=1)
        wm.replace_policy(LOOSE, request=request, approvals=approve(request, *OWNERS[:2]))

    def too_few_approvals(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=LOOSE)
        wm.execute_admin(request, approve(request, OWNERS[2]), policy=LOOSE)

    def malformed_signature(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=LOOSE)
        wm.execute_admin(request, [*approve(request, OWNERS[0]), b"\x01" * 64], policy=LOOSE)

    def nonce_not_current(wm: SecureWalletManager) -> None:
        request = wm.admin_request("replace_policy", policy=LOOSE)
        request["message"]["nonce"] += 1
        wm.execute_admin(request, approve(request, *OWNERS[:2]), policy=LOOSE)

    return {
        "replayed": replayed,
        "expired": expired,
        "params_mismatch": params_mismatch,
        "not_owner (tampered request)": tampered_request,
        "wrong_wallet": wrong_wallet,
        "not_owner": not_owner,
        "duplicate_signer": duplicate_signer,
        "wrong_action": wrong_action,
        "too_few_approvals": too_few_approvals,
        "malformed_signature": malformed_signature,
        "nonce_not_current": nonce_not_current,
    }


def test_each_refusal_names_its_reason_and_changes_nothing(tmp_path: Path) -> None:
    with (
        Vtpm.simulator(tmp_path / "other") as other_vtpm,
        SecureWalletManager(
            None, other_vtpm, owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
        ) as other,
    ):
        other.create_account()
        for name, case in refusal_cases(other).items():
            with (
                Vtpm.simulator(tmp_path / name) as vtpm,
                SecureWalletManager(
                    None, vtpm, policy=CAPPED, owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
                ) as wm,
            ):
                wm.import_private_key(KEY)
                with pytest.raises(AdminApprovalError) as refused:
                    case(wm)
                expected = name.split(" ")[0]
                assert refused.value.reason == expected, (name, str(refused.value))
                nonce = 1 if name == "replayed" else 0
                assert unchanged(wm, Policy(CAPPED).hash, nonce), name
                with pytest.raises(PolicyViolation):
                    wm.sign_transaction(TX)


def test_owners_are_checked_early(vtpm: Vtpm) -> None:
    for owners, threshold, message in [
        ([], 1, "at least one owner"),
        (OWNER_ADDRESSES, 0, "threshold 0 is out of range"),
        (OWNER_ADDRESSES, 4, "threshold 4 is out of range"),
        ([OWNER_ADDRESSES[0]] * 2, 1, "is given twice"),
        (["0x" + "00" * 20], 1, "zero address cannot be an owner"),
        (["0x1234"], 1, 'owner 0 \\("0x1234"\\) is not an address'),
        ([f"0x{index:040x}" for index in range(1, 18)], 1, "17 owners given; at most 16"),
        (OWNER_ADDRESSES, None, "owners need a threshold"),
        (None, 2, "a threshold needs owners"),
        ("0x" + "11" * 20, 1, "owners is a list of addresses, not str"),
    ]:
        with pytest.raises(InvalidOwners, match=message):
            SecureWalletManager(None, vtpm, owners=owners, threshold=threshold, key_lock="none")
    assert issubclass(InvalidOwners, ValueError)


def test_weak_or_empty_export_passwords_are_refused(owned: SecureWalletManager) -> None:
    for password, kdf, params, message in [
        ("", "pbkdf2", STRONG_PBKDF2, "refuses an empty password"),
        (PASSWORD, "pbkdf2", {"c": 1}, r"weaker than scrypt n=2\^17 r=8 or pbkdf2 with 600000"),
        (PASSWORD, "pbkdf2", None, "weaker than"),
        (PASSWORD, "scrypt", {"n": 2**16}, "weaker than"),
    ]:
        with pytest.raises(KeystoreError, match=message):
            owned.admin_request("export_keystore", password=password, kdf=kdf, kdf_params=params)
    # Approvals do not make a weak export acceptable.
    request = owned.admin_request("replace_policy", policy={})
    with pytest.raises(KeystoreError, match="empty password"):
        owned.export_keystore(
            "", kdf="pbkdf2", kdf_params=STRONG_PBKDF2, request=request,
            approvals=approve(request, *OWNERS),
        )  # fmt: skip
    assert owned.admin_nonce == 0


def test_params_must_be_exactly_the_actions(owned: SecureWalletManager) -> None:
    with pytest.raises(WalletError, match="replace_policy takes policy=; missing policy"):
        owned.admin_request("replace_policy")
    with pytest.raises(WalletError, match="unknown password"):
        owned.admin_request("replace_policy", policy={}, password=PASSWORD)
    with pytest.raises(WalletError, match="unknown admin action 'become_owner'"):
        owned.admin_request("become_owner")
    request = owned.admin_request("replace_policy", policy={})
    with pytest.raises(WalletError, match="replace_policy takes policy=; missing policy"):
        owned.execute_admin(request, approve(request, *OWNERS[:2]), owners=[], threshold=1)
    with pytest.raises(AdminApprovalError) as malformed:
        owned.execute_admin("{}", approve(request, *OWNERS[:2]), policy={})
    assert malformed.value.reason == "malformed_request"
    assert owned.admin_nonce == 0


# ---------------------------------------------------------------- raw hashes


def test_raw_hash_signing_needs_allow_raw_hashes(vtpm: Vtpm, tmp_path: Path) -> None:
    mail = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "Mail": [{"name": "contents", "type": "string"}],
        },
        "primaryType": "Mail",
        "domain": {"name": "Mail"},
        "message": {"contents": "hi"},
    }
    as_hashes = encode_typed_data(full_message=mail)
    expected = Account.sign_message(as_hashes, KEY).signature
    for policy, allowed in [(None, True), ({}, False), ({"allow_raw_hashes": True}, True)]:
        with (
            Vtpm.simulator(tmp_path / str(policy)) as fresh,
            SecureWalletManager(None, fresh, policy=policy, key_lock="none") as wm,
        ):
            wm.import_private_key(KEY)
            # With its domain, typed data is checked by the policy and signed.
            assert wm.sign_typed_data(mail).signature == expected
            if allowed:
                assert wm.sign_message(as_hashes).signature == expected
            else:
                with pytest.raises(PolicyViolation) as refused:
                    wm.sign_message(as_hashes)
                assert refused.value.rule == "allow_raw_hashes"
    assert Policy().to_dict()["allow_raw_hashes"] is True
    assert Policy({}).to_dict()["allow_raw_hashes"] is False


# ---------------------------------------------------------------- the audit log


def test_the_audit_log_records_and_detects_edits(capped: SecureWalletManager) -> None:
    with pytest.raises(PolicyViolation):
        capped.sign_transaction(TX)
    request = capped.admin_request("replace_policy", policy=LOOSE)
    capped.replace_policy(LOOSE, request=request, approvals=approve(request, *OWNERS[1:]))
    log, head = capped.audit_log, capped.audit_head
    entries = verify_audit_log(log, head)
    assert [entry["event"] for entry in entries] == ["import", "refuse", "replace_policy"]
    assert entries == capped.audit_entries()
    assert entries[0]["threshold"] == 2
    assert entries[0]["policy_hash"] == Policy(CAPPED).hash
    assert entries[1]["rule"] == "max_value_wei"
    assert entries[2]["new"] == Policy(LOOSE).hash
    assert entries[2]["nonce"] == 0
    assert head == entries[-1]["hash"]
    assert verify_audit_log(log.decode(), bytes.fromhex(head[2:])) == entries

    lines = log.decode().splitlines(keepends=True)
    edited = lines[1].replace("rule=max_value_wei", "rule=chain_ids")
    for changed, message in [
        ([lines[0], edited, lines[2]], "line 2 does not match its hash: the entry was edited"),
        ([lines[0], lines[2]], "line 2 does not follow the entry before it"),
        ([lines[0], lines[2], lines[1]], "line 2 does not follow the entry before it"),
        (lines[:2], "does not end at the expected head"),
        (lines[1:], "its beginning was cut"),
    ]:
        with pytest.raises(AuditLogError, match=message):
            verify_audit_log("".join(changed), head)


# ---------------------------------------------------------------- the command line


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``python -m flare_wallet ARGS`` in this process (a second interpreter per command
    costs seconds): the exit status, stdout and stderr."""
    status = cli_main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_owner_workflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(CAPPED))
    owners = [arg for address in OWNER_ADDRESSES for arg in ("--owner", address)]
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    status, _, err = run(
        capsys,
        *state,
        "--key-lock",
        "none",
        "create",
        "--policy",
        str(policy_file),
        *owners,
        "--threshold",
        "2",
    )
    assert status == 0, err
    shown = json.loads(run(capsys, *state, "owners")[1])
    assert shown["threshold"] == 2
    assert sorted(shown["owners"]) == sorted(OWNER_ADDRESSES)
    assert shown["nonce"] == 0

    # The old agent-only commands are gone.
    for gone in ("replace-policy", "export-keystore"):
        with pytest.raises(SystemExit) as usage:
            cli_main([*state, gone, str(policy_file)])
        assert usage.value.code == 2

    policy_file.write_text(json.dumps(LOOSE))
    status, made, err = run(
        capsys, *state, "admin-request", "replace_policy", "--policy", str(policy_file)
    )
    assert status == 0, err
    request_file = tmp_path / "request.json"
    request_file.write_text(made)
    request = json.loads(made)
    assert request["message"]["paramsHash"] == Policy(LOOSE).hash

    # The agent's own signature is refused, by reason.
    forged = Account.sign_typed_data(STRANGER.key, full_message=request).signature.to_0x_hex()
    execute = [*state, "admin-execute", str(request_file)]
    status, _, err = run(capsys, *execute, forged, "--policy", str(policy_file))
    assert status == 1
    assert "which is not an owner of this account" in err

    signatures = [cast_sign(request, owner, tmp_path) for owner in OWNERS[:2]]
    signature_file = tmp_path / "second.sig"
    signature_file.write_text(signatures[1] + "\n")
    status, out, err = run(
        capsys, *execute, signatures[0], f"@{signature_file}", "--policy", str(policy_file)
    )
    assert status == 0, err
    assert out.strip() == Policy(LOOSE).hash
    assert json.loads(run(capsys, *state, "policy")[1])["hash"] == Policy(LOOSE).hash
    assert json.loads(run(capsys, *state, "owners")[1])["nonce"] == 1

    status, _, err = run(capsys, *execute, *signatures, "--policy", str(policy_file))
    assert status == 1
    assert "was already used" in err

    ownerless = ["--simulator", "--state-dir", str(tmp_path / "ownerless")]
    assert run(capsys, *ownerless, "create")[0] == 0
    status, _, err = run(
        capsys, *ownerless, "admin-request", "replace_policy", "--policy", str(policy_file)
    )
    assert status == 1
    assert "this account has no owners" in err


def test_cli_owners_replace_themselves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    owners = [arg for address in OWNER_ADDRESSES for arg in ("--owner", address)]
    assert run(capsys, *state, "--key-lock", "none", "create", *owners, "--threshold", "2")[0] == 0
    new_owner = ["--owner", STRANGER.address, "--threshold", "1"]
    status, made, err = run(
        capsys, *state, "admin-request", "replace_owners", *new_owner, "--deadline", "60"
    )
    assert status == 0, err
    request = json.loads(made)
    assert 0 < request["message"]["deadline"] - time.time() <= 60
    (tmp_path / "request.json").write_text(made)
    signatures = [s.hex() for s in approve(request, OWNERS[0], OWNERS[2])]
    execute = [*state, "admin-execute", str(tmp_path / "request.json"), *signatures]
    status, out, err = run(capsys, *execute, *new_owner)
    assert status == 0, err
    assert json.loads(out) == {"owners": [STRANGER.address], "threshold": 1}


def test_cli_change_pin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    owners = [arg for address in OWNER_ADDRESSES for arg in ("--owner", address)]
    answers: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": answers.pop(0))
    answers[:] = ["1357", "1357"]
    created = run(capsys, *state, "--key-lock", "pin", "create", *owners, "--threshold", "2")
    assert created[0] == 0, created[2]
    answers[:] = ["1357"]
    status, made, err = run(capsys, *state, "--pin", "admin-request", "change_pin")
    assert status == 0, err
    assert "1357" not in made
    (tmp_path / "request.json").write_text(made)
    signatures = [s.hex() for s in approve(json.loads(made), OWNERS[0], OWNERS[1])]
    # The current PIN, then the new one twice.
    answers[:] = ["1357", "2468", "2468"]
    status, out, err = run(
        capsys, *state, "change-pin", str(tmp_path / "request.json"), *signatures
    )
    assert status == 0, err
    assert out.strip() == created[1].strip()
    # (Each command restarts the simulator, which its dictionary-attack counter may count
    # as a failure: the new PIN's use is tested in test_key_lock.py.)
