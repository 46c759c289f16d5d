"""Signing policies: ``Policy`` objects from dicts and JSON files.

``Policy`` itself is the core's (``flare_wallet._native.Policy``): its rules, canonical
encoding and hash are computed where they are enforced.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flare_wallet._native import Policy
from flare_wallet.exceptions import InvalidPolicy

__all__ = ["Policy", "as_policy", "read_policy_file"]


def as_policy(policy: Policy | Mapping[str, Any] | None) -> Policy | None:
    """``policy`` as a :class:`Policy`: a Policy as it is, a dict read by the core (an
    unknown key or a wrong type raises :class:`InvalidPolicy`), None as None."""
    if policy is None or isinstance(policy, Policy):
        return policy
    if isinstance(policy, Mapping):
        return Policy(policy)
    raise InvalidPolicy(f"a policy is a dict or a Policy, not {type(policy).__name__}")


def read_policy_file(path: str | Path) -> Policy:
    """The policy in a JSON file holding one object with the policy dict's keys, read by
    the core's JSON reader (amounts of any size exact, a key given twice refused)."""
    return Policy.from_json(Path(path).read_text(encoding="utf-8"))
