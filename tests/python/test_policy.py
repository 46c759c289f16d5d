"""Signing policies through Python: the ``Policy`` object and its dict, one refusal per
rule (with the request just inside the rule signed, byte for byte as eth-account signs it),
the policy hash in attestation evidence, the command line, and a capped transfer on anvil.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from conftest import KEY, OWNER_ADDRESSES, OWNERS, VECTORS, anchor, approve, enroll_simulator
from eth_account import Account
from eth_account.messages import encode_typed_data
from flare_wallet import (
    AttestationError,
    InvalidPolicy,
    InvalidTransaction,
    Policy,
    PolicyViolation,
    SecureWalletManager,
    Vtpm,
    WalletError,
    verify_attestation,
)

RECIPIENT = "0x000000000000000000000000000000000000dEaD"
OTHER = "0x09616C3d61b3331fc4109a9E41a8BDB7d9776609"
DAI = "0x6B175474E89094C44Da98b954EedeAC495271d0F"
TRANSFER = "0xa9059cbb"
APPROVE = "0x095ea7b3"
ETHER = 10**18
GWEI = 10**9
CALL_ARGS = "00" * 64
MAIL = json.loads((VECTORS / "eip712/mail.json").read_text())
MAIL_MESSAGE = {k: MAIL[k] for k in ("domain", "types", "primaryType", "message")}
MAIL_CONTRACT = MAIL["domain"]["verifyingContract"]

ALL_KEYS = [
    "chain_ids",
    "max_value_wei",
    "max_fee_wei",
    "recipients_allow",
    "recipients_deny",
    "allow_contract_creation",
    "selectors",
    "delegations_allow",
    "allow_unprotected",
    "allow_messages",
    "typed_data_domains",
    "daily_limit_wei",
    "allow_raw_hashes",
    "default",
    "tokens",
    "permit_max_lifetime_seconds",
    "allow_any_chain_authorization",
]


def transfer(**fields: Any) -> dict[str, Any]:
    """An EIP-1559 transfer of 1 wei on chain 1 (max fee 21000 * 2 gwei), changed by
    ``fields``; a field set to ``...`` is removed."""
    tx: dict[str, Any] = {
        "to": RECIPIENT,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 2 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "nonce": 0,
        "chainId": 1,
    }
    tx.update(fields)
    return {k: v for k, v in tx.items() if v is not ...}


def authorization(delegate: str) -> dict[str, Any]:
    return {"chainId": 1, "address": delegate, "nonce": 0, "yParity": 0, "r": 1, "s": 1}


@pytest.fixture
def with_policy(vtpm: Vtpm) -> Iterator[Callable[[dict[str, Any]], SecureWalletManager]]:
    """A manager for KEY on a fresh swtpm whose account is bound to the given rules and
    administered by OWNERS, 2 of 3."""
    managers: list[SecureWalletManager] = []

    def make(rules: dict[str, Any]) -> SecureWalletManager:
        manager = SecureWalletManager(
            None,
            vtpm,
            key_mode="strict",
            policy=rules,
            owners=OWNER_ADDRESSES,
            threshold=2,
            key_lock="none",
        )
        managers.append(manager)
        manager.import_private_key(KEY)
        return manager

    yield make
    for manager in managers:
        manager.close()


def replace_policy(manager: SecureWalletManager, policy: Policy | dict[str, Any]) -> str:
    """Replace the policy with the approval of two of the account's owners."""
    request = manager.admin_request("replace_policy", policy=policy)
    return manager.replace_policy(policy, request=request, approvals=approve(request, *OWNERS[:2]))


# ---------------------------------------------------------------- the Policy object


def test_the_default_policy_and_its_dict() -> None:
    default = Policy()
    assert default == Policy(None)
    # A stated policy refuses raw hashes unless it says otherwise; only the default of a
    # wallet created without a policy allows them.
    assert Policy({}) != default
    assert Policy({}) == Policy({"allow_raw_hashes": False})
    assert Policy({"allow_raw_hashes": True}) == default
    assert list(default.to_dict()) == ALL_KEYS
    assert default.to_dict() == {
        "chain_ids": None,
        "max_value_wei": None,
        "max_fee_wei": None,
        "recipients_allow": None,
        "recipients_deny": [],
        "allow_contract_creation": True,
        "selectors": {},
        "delegations_allow": None,
        "allow_unprotected": False,
        "allow_messages": True,
        "typed_data_domains": None,
        "daily_limit_wei": None,
        "allow_raw_hashes": True,
        "default": "allow",
        "tokens": {},
        "permit_max_lifetime_seconds": 3600,
        "allow_any_chain_authorization": False,
    }
    assert default.hash.startswith("0x")
    assert len(default.hash) == 66
    assert Policy.from_encoding(default.encoding) == default


def test_a_full_policy_round_trips_through_its_dict_and_json() -> None:
    rules = {
        "chain_ids": [14, 1, 14],
        "max_value_wei": "0xde0b6b3a7640000",
        "max_fee_wei": "2000000000000000",
        "recipients_allow": [RECIPIENT.lower(), OTHER],
        "recipients_deny": [DAI.upper().replace("0X", "0x")],
        "allow_contract_creation": False,
        "selectors": {DAI.lower(): [APPROVE, TRANSFER.upper().replace("0X", "0x")]},
        "delegations_allow": [OTHER],
        "allow_unprotected": True,
        "allow_messages": False,
        "typed_data_domains": [{"chain_id": 1, "verifying_contract": MAIL_CONTRACT}],
        "daily_limit_wei": 5 * ETHER,
    }
    policy = Policy(rules)
    as_dict = policy.to_dict()
    assert as_dict == {
        "chain_ids": [1, 14],
        "max_value_wei": ETHER,
        "max_fee_wei": 2 * 10**15,
        "recipients_allow": [RECIPIENT, OTHER],
        "recipients_deny": [DAI],
        "allow_contract_creation": False,
        "selectors": {DAI: [APPROVE, TRANSFER]},
        "delegations_allow": [OTHER],
        "allow_unprotected": True,
        "allow_messages": False,
        "typed_data_domains": [{"chain_id": 1, "verifying_contract": MAIL_CONTRACT}],
        "daily_limit_wei": 5 * ETHER,
        "allow_raw_hashes": False,
        "default": "allow",
        "tokens": {},
        "permit_max_lifetime_seconds": 3600,
        "allow_any_chain_authorization": False,
    }
    # The canonical form: the same rules written another way give the same hash.
    assert Policy(as_dict) == policy
    assert Policy(json.loads(json.dumps(as_dict))).hash == policy.hash
    assert hash(Policy(as_dict)) == hash(policy)
    assert Policy.from_encoding(policy.encoding) == policy
    # The JSON text, as policy files hold it: amounts as decimal strings.
    assert json.loads(policy.to_json())["max_value_wei"] == str(ETHER)
    assert Policy.from_json(policy.to_json()) == policy
    assert Policy(dict(rules, max_value_wei=ETHER + 1)).hash != policy.hash
    # None keeps a rule's default, as a missing key does.
    assert Policy(dict.fromkeys(ALL_KEYS)) == Policy({})
    assert repr(policy).startswith("Policy({'chain_ids': [1, 14], ")


AMOUNT = (
    "expected a wei amount: a non-negative integer, or a string holding a decimal or 0x-hex "
    "integer, at most 2^256-1"
)
SELECTOR = 'expected a 4-byte function selector: "0x" and 8 hex digits'
NOT_JSON = "the policy dict holds a value JSON cannot carry"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"max_value": 1}, 'policy JSON: unknown key "max_value"; the keys are chain_ids, '),
        ({1: True}, 'policy JSON: unknown key "1"'),
        ({("a",): True}, NOT_JSON + " (TypeError: keys must be str"),
        ({"chain_ids": 1}, "policy JSON: chain_ids: expected a list, or null"),
        ({"chain_ids": [0]}, "policy JSON: chain_ids[0]: expected a chain id: an integer from 1"),
        ({"chain_ids": [True]}, "policy JSON: chain_ids[0]: expected a chain id"),
        ({"chain_ids": list(range(1, 34))}, "chain_ids has more than 32 distinct entries"),
        ({"max_value_wei": 1.5}, "policy JSON: max_value_wei: " + AMOUNT),
        ({"max_value_wei": float("nan")}, NOT_JSON + " (ValueError: Out of range float"),
        ({"max_value_wei": -1}, "policy JSON: max_value_wei: " + AMOUNT),
        ({"max_fee_wei": 2**256}, "policy JSON: max_fee_wei: " + AMOUNT),
        ({"max_fee_wei": "1e18"}, "policy JSON: max_fee_wei: " + AMOUNT),
        ({"daily_limit_wei": "0x"}, "policy JSON: daily_limit_wei: " + AMOUNT),
        ({"daily_limit_wei": True}, "policy JSON: daily_limit_wei: " + AMOUNT),
        (
            {"recipients_allow": [RECIPIENT.lower()[:-1]]},
            'policy JSON: recipients_allow[0]: expected an address: "0x" and 40 hex digits',
        ),
        (
            {"recipients_deny": ["0x000000000000000000000000000000000000DeaD"]},
            "policy JSON: recipients_deny[0]: expected a valid EIP-55 checksum",
        ),
        ({"recipients_deny": [b"\x00" * 20]}, NOT_JSON + " (TypeError: Object of type bytes"),
        ({"allow_contract_creation": 1}, "allow_contract_creation: expected true, false or null"),
        ({"selectors": [DAI]}, "policy JSON: selectors: expected an object mapping contract"),
        ({"selectors": {DAI: ["0xa9059"]}}, f'policy JSON: selectors["{DAI}"][0]: {SELECTOR}'),
        ({"selectors": {DAI: ["0xa9059c"]}}, f'policy JSON: selectors["{DAI}"][0]: {SELECTOR}'),
        ({"selectors": {"0x12": [TRANSFER]}}, 'policy JSON: selectors key "0x12": expected an'),
        (
            {"selectors": {DAI: [TRANSFER], DAI.lower(): [APPROVE]}},
            f"policy JSON: selectors names contract {DAI} twice",
        ),
        ({"delegations_allow": OTHER}, "policy JSON: delegations_allow: expected a list, or null"),
        (
            {"typed_data_domains": [{"chain_id": 1}]},
            "typed_data_domains[0]: expected an object with exactly the keys chain_id and "
            "verifying_contract",
        ),
        ({"typed_data_domains": [{"chainId": 1, "verifying_contract": OTHER}]}, "exactly the keys"),
        ([("max_value_wei", 1)], "a policy is a dict of rules, not list"),
    ],
)
def test_unknown_keys_and_wrong_types_are_named(rules: Any, message: str) -> None:
    with pytest.raises(InvalidPolicy) as raised:
        Policy(rules)
    assert message in str(raised.value)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, WalletError)


def test_a_manager_refuses_a_bad_policy_at_once(vtpm: Vtpm) -> None:
    with pytest.raises(InvalidPolicy, match='unknown key "max_value"'):
        SecureWalletManager(None, vtpm, policy={"max_value": 1}, key_lock="none")
    with pytest.raises(InvalidPolicy, match="a policy is a dict or a Policy, not list"):
        SecureWalletManager(None, vtpm, policy=[("max_value_wei", 1)], key_lock="none")  # type: ignore[arg-type]


# ---------------------------------------------------------------- one refusal per rule

UNPROTECTED = {"chainId": None, "gasPrice": GWEI, "maxFeePerGas": ..., "maxPriorityFeePerGas": ...}

# (the rule, its policy, a request it refuses, the refusal, a request just inside it)
TRANSACTION_RULES = [
    pytest.param(
        "chain_ids", {"chain_ids": [14]},
        transfer(), "chain id 1 is not in chain_ids", transfer(chainId=14),
        id="chain_ids",
    ),
    pytest.param(
        "max_value_wei", {"max_value_wei": ETHER},
        transfer(value=ETHER + 1),
        "value 1000000000000000001 wei exceeds max_value_wei 1000000000000000000",
        transfer(value=ETHER),
        id="max_value_wei",
    ),
    pytest.param(
        "max_fee_wei", {"max_fee_wei": 21000 * 2 * GWEI},
        transfer(maxFeePerGas=2 * GWEI + 1),
        "max fee 42000000021000 wei exceeds max_fee_wei 42000000000000",
        transfer(),
        id="max_fee_wei",
    ),
    pytest.param(
        "recipients_allow", {"recipients_allow": [OTHER]},
        transfer(), f"recipient {RECIPIENT} is not in recipients_allow", transfer(to=OTHER),
        id="recipients_allow",
    ),
    pytest.param(
        "recipients_deny", {"recipients_deny": [RECIPIENT]},
        transfer(), f"recipient {RECIPIENT} is on recipients_deny", transfer(to=OTHER),
        id="recipients_deny",
    ),
    pytest.param(
        "allow_contract_creation", {"allow_contract_creation": False},
        transfer(to=..., data="0x6000"),
        "contract creation is not allowed (allow_contract_creation is false)",
        transfer(data="0x6000"),
        id="allow_contract_creation",
    ),
    pytest.param(
        "selectors", {"selectors": {DAI: [TRANSFER]}},
        transfer(to=DAI, data=APPROVE + CALL_ARGS),
        f"selector {APPROVE} is not allowed for contract {DAI} (selectors)",
        transfer(to=DAI, data=TRANSFER + CALL_ARGS),
        id="selectors",
    ),
    pytest.param(
        "selectors", {"selectors": {DAI: [TRANSFER]}},
        transfer(to=DAI, data="0xa905"),
        f"call to contract {DAI} has 2 bytes of calldata, no 4-byte selector, and selectors "
        "restricts that contract",
        transfer(to=OTHER, data="0xa905"),
        id="selectors-short-calldata",
    ),
    pytest.param(
        "delegations_allow", {"delegations_allow": [OTHER]},
        transfer(authorizationList=[authorization(DAI)]),
        f"EIP-7702 delegation to {DAI} is not in delegations_allow",
        transfer(authorizationList=[authorization(OTHER)]),
        id="delegations_allow",
    ),
    pytest.param(
        "allow_unprotected", {},
        transfer(**UNPROTECTED),
        "unprotected (pre-EIP-155) transactions are not allowed (allow_unprotected is false)",
        transfer(**dict(UNPROTECTED, chainId=1)),
        id="allow_unprotected",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "rules", "refused", "message", "allowed"), TRANSACTION_RULES)
def test_each_transaction_rule_refuses_and_allows(
    with_policy: Callable[[dict[str, Any]], SecureWalletManager],
    rule: str,
    rules: dict[str, Any],
    refused: dict[str, Any],
    message: str,
    allowed: dict[str, Any],
) -> None:
    manager = with_policy(rules)
    native = manager.vtpm._native
    before = native.tpm_commands_sent
    with pytest.raises(PolicyViolation) as raised:
        manager.sign_transaction(refused)
    assert str(raised.value) == message + "; nothing was signed"
    assert raised.value.rule == rule
    # Refused before the key was unsealed (strict mode would show TPM commands).
    assert native.tpm_commands_sent == before
    expected = Account.sign_transaction(allowed, KEY).raw_transaction
    assert manager.sign_transaction(allowed) == expected


def test_allow_unprotected_signs_what_eth_account_signs(
    with_policy: Callable[[dict[str, Any]], SecureWalletManager],
) -> None:
    manager = with_policy({"allow_unprotected": True, "chain_ids": [14]})
    legacy = transfer(**UNPROTECTED)
    raw = manager.sign_transaction(legacy)
    assert raw == Account.sign_transaction(legacy, KEY).raw_transaction
    v = rlp.decode(raw)[6]
    assert int.from_bytes(v, "big") in (27, 28)  # no chain id in v: valid on every chain
    assert Account.recover_transaction(raw) == manager.address
    # Only an explicit None asks for it: a missing chainId is still an error, and a typed
    # transaction never goes without one.
    with pytest.raises(InvalidTransaction, match="chainId is missing"):
        manager.sign_transaction(transfer(chainId=...))
    with pytest.raises(InvalidTransaction, match="only a legacy transaction can go without"):
        manager.sign_transaction(transfer(chainId=None))


def test_allow_messages(with_policy: Callable[[dict[str, Any]], SecureWalletManager]) -> None:
    manager = with_policy({"allow_messages": False})
    with pytest.raises(PolicyViolation) as raised:
        manager.sign_message("hello")
    assert str(raised.value) == (
        "message signing is not allowed (allow_messages is false); nothing was signed"
    )
    assert raised.value.rule == "allow_messages"
    # Typed data has its own rule.
    assert manager.sign_typed_data(MAIL_MESSAGE) == Account.sign_typed_data(
        KEY, full_message=MAIL_MESSAGE
    )


def test_typed_data_domains(with_policy: Callable[[dict[str, Any]], SecureWalletManager]) -> None:
    listed = {"chain_id": 1, "verifying_contract": MAIL_CONTRACT}
    manager = with_policy({"typed_data_domains": [listed]})
    # The listed domain signs, so its fields reached the core (a bare hash would be refused).
    expected = Account.sign_typed_data(KEY, full_message=MAIL_MESSAGE)
    assert manager.sign_typed_data(MAIL_MESSAGE) == expected
    assert (
        manager.sign_typed_data(
            domain_data=MAIL["domain"],
            message_types={k: v for k, v in MAIL["types"].items() if k != "EIP712Domain"},
            message_data=MAIL["message"],
        )
        == expected
    )
    other_chain = dict(MAIL_MESSAGE, domain=dict(MAIL["domain"], chainId=14))
    with pytest.raises(PolicyViolation) as raised:
        manager.sign_typed_data(other_chain)
    assert str(raised.value) == (
        f"typed-data domain (chain id 14, verifying contract {MAIL_CONTRACT}) is not in "
        "typed_data_domains; nothing was signed"
    )
    assert raised.value.rule == "typed_data_domains"
    no_contract = dict(
        MAIL_MESSAGE,
        domain={k: v for k, v in MAIL["domain"].items() if k != "verifyingContract"},
        types=dict(
            MAIL["types"],
            EIP712Domain=[
                f for f in MAIL["types"]["EIP712Domain"] if f["name"] != "verifyingContract"
            ],
        ),
    )
    with pytest.raises(PolicyViolation, match="verifying contract absent"):
        manager.sign_typed_data(no_contract)
    # Hashes alone cannot be checked against the list (nor signed without
    # allow_raw_hashes).
    with pytest.raises(PolicyViolation, match="refused by allow_raw_hashes"):
        manager.sign_message(encode_typed_data(full_message=MAIL_MESSAGE))


def test_domain_fields_that_do_not_give_the_separator_sign_only_the_hashes(
    with_policy: Callable[[dict[str, Any]], SecureWalletManager],
) -> None:
    """The core uses the domain's fields only when they rebuild the separator being
    signed; otherwise it signs the hashes alone, which only allow_raw_hashes permits and a
    domain allowlist refuses."""
    signable = encode_typed_data(full_message=MAIL_MESSAGE)
    expected = Account.sign_message(signable, KEY).signature
    manager = with_policy({})
    native = manager.vtpm._native
    wrong_fields = {"name": "Not Ether Mail", "chain_id": 1, "verifying_contract": MAIL_CONTRACT}
    with pytest.raises(PolicyViolation, match="refused by allow_raw_hashes"):
        native.sign_typed_data(signable.header, signable.body, **wrong_fields)
    replace_policy(manager, {"allow_raw_hashes": True})
    assert native.sign_typed_data(signable.header, signable.body, **wrong_fields) == expected
    replace_policy(
        manager,
        {
            "allow_raw_hashes": True,
            "typed_data_domains": [{"chain_id": 1, "verifying_contract": MAIL_CONTRACT}],
        },
    )
    with pytest.raises(PolicyViolation, match="cannot be checked against typed_data_domains"):
        native.sign_typed_data(signable.header, signable.body, **wrong_fields)
    right_fields = dict(wrong_fields, name="Ether Mail", version="1")
    assert native.sign_typed_data(signable.header, signable.body, **right_fields) == expected
    # A chain id of any uint256 size reaches the check.
    big_chain = dict(MAIL_MESSAGE, domain=dict(MAIL["domain"], chainId=2**200))
    with pytest.raises(PolicyViolation, match=f"chain id {2**200}, verifying contract"):
        manager.sign_typed_data(big_chain)


def test_daily_limit_wei(with_policy: Callable[[dict[str, Any]], SecureWalletManager]) -> None:
    max_fee = 21000 * 2 * GWEI
    manager = with_policy({"daily_limit_wei": 2 * (ETHER + max_fee)})
    assert manager.daily_spent(1) == 0
    manager.sign_transaction(transfer(value=ETHER))
    manager.sign_transaction(transfer(value=ETHER, nonce=1))
    assert manager.daily_spent(1) == 2 * (ETHER + max_fee)
    with pytest.raises(PolicyViolation) as raised:
        manager.sign_transaction(transfer(value=0, nonce=2))
    assert str(raised.value) == (
        f"spend of {max_fee} wei on chain 1 would exceed daily_limit_wei {2 * (ETHER + max_fee)} "
        f"({2 * (ETHER + max_fee)} wei spent in the last 24 hours); nothing was signed"
    )
    assert raised.value.rule == "daily_limit_wei"
    assert manager.daily_spent(1) == 2 * (ETHER + max_fee)
    # The limit is per chain.
    manager.sign_transaction(transfer(value=ETHER, chainId=14))
    assert manager.daily_spent(14) == ETHER + max_fee


def test_the_spend_history_survives_a_reload(tmp_path: Path) -> None:
    places = {"state_dir": tmp_path / "state", "tpm_state_dir": tmp_path / "tpm"}
    rules = {"daily_limit_wei": ETHER}
    with (
        Vtpm.simulator(**places) as vtpm,
        SecureWalletManager(None, vtpm, policy=rules, key_lock="none") as wm,
    ):
        wm.import_private_key(KEY)
        wm.sign_transaction(transfer(value=ETHER - 21000 * 2 * GWEI))
    with Vtpm.simulator(**places) as vtpm, SecureWalletManager(None, vtpm) as wm:
        wm.load_account()
        assert wm.policy == Policy(rules)
        with pytest.raises(PolicyViolation, match="would exceed daily_limit_wei"):
            wm.sign_transaction(transfer(nonce=1))


# ---------------------------------------------------------------- binding, replacement, evidence


def test_evidence_carries_the_policy_hash_and_follows_a_replacement(
    with_policy: Callable[[dict[str, Any]], SecureWalletManager],
) -> None:
    first = Policy({"max_value_wei": ETHER})
    manager = with_policy(first.to_dict())
    assert manager.policy == first
    assert manager.policy_hash == first.hash
    evidence = manager.attest(b"nonce-1", chain_id=1)
    assert evidence["policy_hash"] == first.hash
    facts = verify_attestation(
        evidence, b"nonce-1", **anchor(manager.vtpm), expected_policy_hash=first
    )
    assert facts["policy_hash"] == first.hash

    second = Policy({"max_value_wei": 2 * ETHER, "allow_messages": False})
    assert replace_policy(manager, second) == second.hash != first.hash
    assert manager.policy == second
    assert manager.policy_hash == second.hash
    evidence = manager.attest(b"nonce-2", chain_id=1)
    facts = verify_attestation(
        evidence, b"nonce-2", **anchor(manager.vtpm), expected_policy_hash=second.hash
    )
    assert facts["policy_hash"] == second.hash
    with pytest.raises(AttestationError, match="evidence policy hash is not the expected one"):
        verify_attestation(evidence, b"nonce-2", **anchor(manager.vtpm), expected_policy_hash=first)
    # The new rules are in force at once.
    manager.sign_transaction(transfer(value=2 * ETHER))
    with pytest.raises(PolicyViolation, match="allow_messages"):
        manager.sign_message("hi")


def test_an_account_keeps_its_policy_and_refuses_another(tmp_path: Path) -> None:
    places = {"state_dir": tmp_path / "state", "tpm_state_dir": tmp_path / "tpm"}
    rules = {"recipients_deny": [RECIPIENT]}
    with (
        Vtpm.simulator(**places) as vtpm,
        SecureWalletManager(None, vtpm, policy=rules, key_lock="none") as wm,
    ):
        wm.create_account()
    with Vtpm.simulator(**places) as vtpm:
        with (
            SecureWalletManager(None, vtpm, policy={}, key_lock="none") as wm,
            pytest.raises(WalletError, match="is bound to policy 0x"),
        ):
            wm.load_account()
        with SecureWalletManager(None, vtpm, policy=rules, key_lock="none") as wm:
            wm.load_account()
        with SecureWalletManager(None, vtpm) as wm:
            wm.load_account()
            assert wm.policy == Policy(rules)
            with pytest.raises(PolicyViolation, match="recipients_deny"):
                wm.sign_transaction(transfer())


def test_an_imported_keystore_takes_the_managers_policy(vtpm: Vtpm) -> None:
    keystore = Account.encrypt(KEY, "pw", kdf="pbkdf2", iterations=1000)
    with SecureWalletManager(None, vtpm, policy={"chain_ids": [14]}, key_lock="none") as manager:
        manager.import_keystore(keystore, "pw")
        assert manager.policy == Policy({"chain_ids": [14]})
        with pytest.raises(PolicyViolation, match="chain id 1 is not in chain_ids"):
            manager.sign_transaction(transfer())


# ---------------------------------------------------------------- the command line


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flare_wallet", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_cli_policy_file_on_create_and_replace(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"max_value_wei": str(ETHER), "chain_ids": [14]}))
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    owners = [arg for address in OWNER_ADDRESSES for arg in ("--owner", address)]
    created = cli(
        *state, "--key-lock", "none", "create", "--policy", str(policy_file), *owners,
        "--threshold", "2",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    shown = json.loads(cli(*state, "policy").stdout)
    expected = Policy({"max_value_wei": ETHER, "chain_ids": [14]})
    assert shown == {"hash": expected.hash, "rules": expected.to_dict()}

    refused = cli(*state, "sign", json.dumps(transfer(value=ETHER + 1, chainId=14)))
    assert refused.returncode == 1
    assert "error: value 1000000000000000001 wei exceeds max_value_wei" in refused.stderr
    assert refused.stdout == ""

    evidence = tmp_path / "evidence.json"
    evidence.write_text(cli(*state, "attest", "--nonce", "0x01").stdout)
    with Vtpm.simulator(tmp_path / "w" / "wallet", tpm_state_dir=tmp_path / "w" / "tpm") as vtpm:
        enroll_simulator(vtpm)
        assert vtpm.trust_roots is not None
        assert vtpm.enrollment is not None
        (tmp_path / "roots.pem").write_bytes(vtpm.trust_roots)
        (tmp_path / "record.bin").write_bytes(vtpm.enrollment)
    anchor = ["--trust-roots", str(tmp_path / "roots.pem"), "--accept-unverified-tpm"]
    anchor += ["--enrollment", str(tmp_path / "record.bin")]
    verified = cli(
        "verify", str(evidence), "--nonce", "0x01", "--policy-hash", expected.hash, *anchor
    )
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["policy_hash"] == expected.hash

    policy_file.write_text(json.dumps({"max_value_wei": 2 * ETHER}))
    made = cli(*state, "admin-request", "replace_policy", "--policy", str(policy_file))
    assert made.returncode == 0, made.stderr
    (tmp_path / "request.json").write_text(made.stdout)
    signatures = [s.hex() for s in approve(json.loads(made.stdout), *OWNERS[:2])]
    replaced = cli(
        *state, "admin-execute", str(tmp_path / "request.json"), *signatures,
        "--policy", str(policy_file),
    )  # fmt: skip
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.strip() == Policy({"max_value_wei": 2 * ETHER}).hash
    assert cli(*state, "sign", json.dumps(transfer(value=ETHER + 1, chainId=14))).returncode == 0

    policy_file.write_text(json.dumps({"max_value_wei": 1, "max_fee": 1}))
    bad = cli(
        "--simulator", "--state-dir", str(tmp_path / "x"), "create", "--policy", str(policy_file)
    )
    assert bad.returncode == 1
    assert 'error: policy JSON: unknown key "max_fee"' in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_policy_file_on_import_keystore(tmp_path: Path) -> None:
    keystore = tmp_path / "keystore.json"
    keystore.write_text(json.dumps(Account.encrypt(KEY, "pw", kdf="pbkdf2", iterations=1000)))
    password = tmp_path / "password"
    password.write_text("pw\n")
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"allow_messages": False}))
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    done = cli(
        *state, "--key-lock", "none", "import-keystore", str(keystore),
        "--password-file", str(password), "--policy", str(policy_file),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == Account.from_key(KEY).address
    shown = json.loads(cli(*state, "policy").stdout)
    assert shown["hash"] == Policy({"allow_messages": False}).hash


# ---------------------------------------------------------------- end to end on anvil


def test_a_transfer_above_the_cap_is_refused_and_one_at_the_cap_is_mined(
    vtpm: Vtpm, web3: Any, fund: Callable[[str, int], None]
) -> None:
    cap = ETHER // 2
    with SecureWalletManager(web3, vtpm, policy={"max_value_wei": cap}, key_lock="none") as manager:
        sender = manager.create_account()
        fund(sender, 2 * ETHER)
        recipient = Account.create().address
        base = int(web3.eth.get_block("latest")["baseFeePerGas"])
        tx = {
            "to": recipient,
            "gas": 21000,
            "maxFeePerGas": 2 * base + GWEI,
            "maxPriorityFeePerGas": GWEI,
            "nonce": web3.eth.get_transaction_count(sender),
        }
        balance = web3.eth.get_balance(sender)
        with pytest.raises(PolicyViolation) as raised:
            manager.sign_transaction(dict(tx, value=cap + 1))
        assert str(raised.value).startswith(f"value {cap + 1} wei exceeds max_value_wei {cap}")
        # Nothing was signed, so nothing could be sent.
        assert web3.eth.get_balance(sender) == balance
        assert web3.eth.get_transaction_count(sender) == tx["nonce"]
        assert web3.eth.get_balance(recipient) == 0

        raw = manager.sign_transaction(dict(tx, value=cap))
        receipt = web3.eth.wait_for_transaction_receipt(web3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        assert web3.eth.get_balance(recipient) == cap
        fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert web3.eth.get_balance(sender) == balance - cap - fee
