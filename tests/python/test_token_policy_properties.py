"""Property test through the wallet on swtpm: for random policies (set through the
owners' ``replace_policy``), token calls, EIP-2612 permits and EIP-7702 authorizations,
the wallet's decision (allowed, or the rule that refused) equals a plain oracle's,
written here from the issue's rules without the core's code; a refused request is
never signed and an allowed one is. One swtpm and one account for the whole test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY, OWNER_ADDRESSES, OWNERS, THRESHOLD, approve
from eth_account import Account
from flare_wallet import PolicyViolation, SecureWalletManager, Vtpm
from hypothesis import given, settings
from hypothesis import strategies as st
from permits import eip2612_permit_document

OWNER = Account.from_key(KEY).address
TOKEN = "0x1D80c49BbBCd1C0911346656B529DF9E5c2F783d"  # noqa: S105 (an address)
UNRULED = "0x2222222222222222222222222222222222222222"
PEOPLE = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3333333333333333333333333333333333333333",
    "0x4444444444444444444444444444444444444444",
]
MAX = 2**256 - 1
CAP = 1000
AMOUNTS = [0, 1, CAP, CAP + 1, MAX]
CHAIN = 14
TRANSFER = "0xa9059cbb"
APPROVE = "0x095ea7b3"
# Deadlines ahead of now, far from either lifetime limit the policies use.
LIFETIMES = [600, 3600]
DEADLINE_OFFSETS = [60, 3000, 7200]

subsets = st.lists(st.sampled_from(PEOPLE), unique=True)
optional_subset = st.none() | subsets

policies = st.fixed_dictionaries(
    {
        "default": st.sampled_from(["allow", "deny"]),
        "recipients_allow": optional_subset,
        "delegations_allow": optional_subset,
        "allow_any_chain_authorization": st.booleans(),
        "permit_max_lifetime_seconds": st.sampled_from(LIFETIMES),
        "token": st.fixed_dictionaries(
            {
                "max_amount": st.none() | st.just(CAP),
                "recipients_allow": optional_subset,
                "spenders_allow": optional_subset,
                "allow_unlimited_approval": st.booleans(),
            }
        ),
    }
)

token_calls = st.tuples(
    st.just("call"),
    st.sampled_from([TOKEN, UNRULED]),
    st.sampled_from([TRANSFER, APPROVE]),
    st.sampled_from(PEOPLE),
    st.sampled_from(AMOUNTS),
)
permits = st.tuples(
    st.just("permit"),
    st.sampled_from([TOKEN, UNRULED]),
    st.sampled_from(PEOPLE),
    st.sampled_from(AMOUNTS),
    st.sampled_from(DEADLINE_OFFSETS),
)
authorizations = st.tuples(
    st.just("authorization"), st.sampled_from([0, CHAIN, CHAIN + 1]), st.sampled_from(PEOPLE)
)
requests = st.lists(token_calls | permits | authorizations, min_size=16, max_size=32)


def policy_json(spec: dict[str, Any]) -> dict[str, Any]:
    rule = {key: value for key, value in spec["token"].items() if value is not None}
    policy = {
        "default": spec["default"],
        "chain_ids": [CHAIN],
        "tokens": {TOKEN: rule},
        "allow_any_chain_authorization": spec["allow_any_chain_authorization"],
        "permit_max_lifetime_seconds": spec["permit_max_lifetime_seconds"],
    }
    for key in ("recipients_allow", "delegations_allow"):
        if spec[key] is not None:
            policy[key] = spec[key]
    return policy


# ----------------------------------------------------------------- the oracle


def listed(allowed: list[str] | None, who: str) -> bool:
    return allowed is None or who in allowed


def oracle_token_action(rule: dict[str, Any], action: str, who: str, amount: int) -> str | None:
    """The token rule: a transfer's recipient and amount, an approval's spender and amount
    (2^256-1 is unlimited; 0 is a revocation and always allowed)."""
    cap = rule["max_amount"]
    if action == TRANSFER:
        if not listed(rule["recipients_allow"], who):
            return "tokens.recipients_allow"
        if cap is not None and amount > cap:
            return "tokens.max_amount"
        return None
    if amount == 0:
        return None
    if not listed(rule["spenders_allow"], who):
        return "tokens.spenders_allow"
    above = amount == MAX or (cap is not None and amount > cap)
    if above and not rule["allow_unlimited_approval"]:
        return "tokens.allow_unlimited_approval"
    return None


def oracle(spec: dict[str, Any], request: tuple[Any, ...]) -> str | None:
    """None when the policy allows `request`, else the rule that refuses it."""
    deny = spec["default"] == "deny"
    kind = request[0]
    if kind == "call":
        _, to, action, who, amount = request
        if to == TOKEN:
            refused = oracle_token_action(spec["token"], action, who, amount)
            if refused is not None:
                return refused
            if deny:
                return None
        elif deny:
            return "default"
        # Allow mode: the call's `to` (the token contract) must be a listed recipient.
        return None if listed(spec["recipients_allow"], to) else "recipients_allow"
    if kind == "permit":
        _, token, spender, amount, offset = request
        if token != TOKEN:
            return "tokens" if deny else None
        refused = oracle_token_action(spec["token"], APPROVE, spender, amount)
        if refused is not None:
            return refused
        if offset > spec["permit_max_lifetime_seconds"]:
            return "permit_max_lifetime_seconds"
        return None
    _, chain_id, delegate = request
    if chain_id == 0:
        if not spec["allow_any_chain_authorization"]:
            return "allow_any_chain_authorization"
    elif chain_id != CHAIN:
        return "chain_ids"
    allowed = spec["delegations_allow"]
    if (delegate not in allowed) if allowed is not None else deny:
        return "delegations_allow"
    return None


# ----------------------------------------------------------------- the wallet


def word(value: int | str) -> str:
    if isinstance(value, str):
        return value[2:].lower().rjust(64, "0")
    return f"{value:064x}"


def permit_document(token: str, spender: str, amount: int, deadline: int) -> dict[str, Any]:
    domain = {"name": "Token", "version": "1", "chainId": CHAIN, "verifyingContract": token}
    message = {
        "owner": OWNER,
        "spender": spender,
        "value": amount,
        "nonce": 0,
        "deadline": deadline,
    }
    return eip2612_permit_document(domain, message)


def wallet_decision(
    manager: SecureWalletManager, request: tuple[Any, ...], sign: bool
) -> str | None:
    """The wallet's check of `request`; with `sign`, also whether signing it is refused,
    for the same rule."""
    kind = request[0]
    if kind == "call":
        _, to, action, who, amount = request
        tx = {
            "to": to,
            "data": action + word(who) + word(amount),
            "value": 0,
            "nonce": 0,
            "gas": 100_000,
            "maxFeePerGas": 10**9,
            "maxPriorityFeePerGas": 1,
            "chainId": CHAIN,
        }
        check, signer = manager.check_transaction(tx), lambda: manager.sign_transaction(tx)
    elif kind == "permit":
        _, token, spender, amount, offset = request
        document = permit_document(token, spender, amount, int(time.time()) + offset)
        check = manager.check_typed_data(full_message=document)
        signer = lambda: manager.sign_typed_data(full_message=document)  # noqa: E731
    else:
        _, chain_id, delegate = request
        check = manager.check_authorization(chain_id, delegate)
        signer = lambda: manager.sign_authorization(chain_id, delegate, 0)  # noqa: E731
    decided = None if check["allowed"] else check["rules"][0]
    if not check["allowed"]:
        assert len(check["rules"]) == 1, check
    if sign:
        if decided is None:
            signer()
        else:
            with pytest.raises(PolicyViolation) as raised:
                signer()
            assert raised.value.rule == decided
    return decided


@pytest.fixture(scope="module")
def owned_wallet() -> Iterator[SecureWalletManager]:
    """One swtpm and one account, administered by OWNERS, for every example."""
    with (
        Vtpm.simulator() as vtpm,
        SecureWalletManager(
            None, vtpm, owners=OWNER_ADDRESSES, threshold=THRESHOLD, key_lock="none"
        ) as manager,
    ):
        manager.import_private_key(KEY)
        yield manager


@settings(max_examples=15)
@given(spec=policies, batch=requests)
def test_the_wallet_decides_as_the_oracle(
    owned_wallet: SecureWalletManager, spec: dict[str, Any], batch: list[tuple[Any, ...]]
) -> None:
    policy = policy_json(spec)
    request = owned_wallet.admin_request("replace_policy", policy=policy)
    owned_wallet.execute_admin(request, approve(request, *OWNERS[:THRESHOLD]), policy=policy)
    for index, item in enumerate(batch):
        expected = oracle(spec, item)
        # Signing costs the TPM a signature: the first two requests of each example.
        assert wallet_decision(owned_wallet, item, sign=index < 2) == expected, (policy, item)
