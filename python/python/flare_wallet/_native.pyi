"""Type stubs of the native core ``flare_wallet._native``."""

from collections.abc import Mapping
from typing import Any

__all__ = ["signing_hash", "signing_payload"]

def signing_payload(
    tx: Mapping[str, Any], *, chain_id: int | None = None, sender: str | None = None
) -> bytes: ...
def signing_hash(
    tx: Mapping[str, Any], *, chain_id: int | None = None, sender: str | None = None
) -> bytes: ...
