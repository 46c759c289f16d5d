"""Type stubs of the native core ``flare_wallet._native``."""

from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, final

__all__ = [
    "Policy",
    "TpmWallet",
    "harden_process",
    "owners_hash",
    "process_is_dumpable",
    "signing_hash",
    "signing_payload",
    "verify_audit_log",
    "verify_evidence",
]

def signing_payload(
    tx: Mapping[str, Any], *, chain_id: int | None = None, sender: str | None = None
) -> bytes: ...
def signing_hash(
    tx: Mapping[str, Any], *, chain_id: int | None = None, sender: str | None = None
) -> bytes: ...
def owners_hash(owners: Sequence[str], threshold: int) -> bytes: ...
def harden_process() -> None: ...
def process_is_dumpable() -> bool: ...
def verify_audit_log(log: bytes, head: bytes) -> list[dict[str, Any]]: ...
def verify_evidence(
    evidence: bytes,
    nonce: bytes,
    *,
    trust_roots: bytes | None = None,
    enrollment: bytes | None = None,
    ak_certificate: bytes | None = None,
    pcrs: bytes | None = None,
    accept_unverified_tpm: bool = False,
    expected_address: str | None = None,
    expected_chain_id: int | None = None,
    expected_pcrs: Sequence[tuple[int, bytes]] | None = None,
    expected_policy_hash: bytes | None = None,
    expected_owners_hash: bytes | None = None,
    expected_threshold: int | None = None,
    expected_admin_nonce: int | None = None,
    expected_audit_head: bytes | None = None,
) -> dict[str, Any]: ...

@final
class Policy:
    def __new__(cls, rules: Mapping[str, Any] | None = None, /) -> Policy: ...
    @staticmethod
    def from_json(json: str) -> Policy: ...
    def to_json(self) -> str: ...
    @staticmethod
    def from_encoding(encoding: bytes) -> Policy: ...
    @property
    def hash(self) -> str: ...
    @property
    def encoding(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class TpmWallet:
    @staticmethod
    def open(
        tcti: str | None,
        state_dir: str | PathLike[str],
        *,
        trust_roots: bytes | str | PathLike[str] | None = None,
        allow_unverified_tpm: bool = False,
    ) -> TpmWallet: ...
    @staticmethod
    def simulator(
        tpm_state_dir: str | PathLike[str] | None,
        state_dir: str | PathLike[str],
        new_ek: bool = False,
    ) -> TpmWallet: ...
    @property
    def tcti(self) -> str: ...
    @property
    def state_dir(self) -> Path: ...
    @property
    def simulator_pid(self) -> int | None: ...
    @property
    def simulator_trust_roots(self) -> Path | None: ...
    @property
    def tpm_verified(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def address(self) -> str | None: ...
    @property
    def key_mode(self) -> str: ...
    @key_mode.setter
    def key_mode(self, mode: str) -> None: ...
    @property
    def cached_key_protection(self) -> dict[str, bool] | None: ...
    @property
    def tpm_commands_sent(self) -> int: ...
    @property
    def policy(self) -> Policy | None: ...
    @property
    def policy_hash(self) -> bytes | None: ...
    @property
    def owners(self) -> tuple[list[str], int] | None: ...
    @property
    def admin_nonce(self) -> int | None: ...
    def create_account(
        self,
        *,
        pcrs: Sequence[int] | None = None,
        policy: Policy | None = None,
        owners: Sequence[str] | None = None,
        threshold: int | None = None,
        key_lock: str | None = None,
        pin: str | None = None,
    ) -> str: ...
    def import_key(
        self,
        key: bytes,
        *,
        pcrs: Sequence[int] | None = None,
        policy: Policy | None = None,
        owners: Sequence[str] | None = None,
        threshold: int | None = None,
        key_lock: str | None = None,
        pin: str | None = None,
    ) -> str: ...
    def load_account(self, *, pin: str | None = None) -> str: ...
    @property
    def key_lock(self) -> str: ...
    @property
    def dictionary_attack(self) -> dict[str, int]: ...
    def sign_transaction(self, tx: Mapping[str, Any], *, chain_id: int | None = None) -> bytes: ...
    def sign_message(self, message: bytes) -> bytes: ...
    def sign_typed_data_hash(self, domain_separator: bytes, struct_hash: bytes) -> bytes: ...
    def sign_typed_data_json(self, json: str) -> bytes: ...
    def check_typed_data_json(self, json: str) -> dict[str, Any]: ...
    def check_transaction(
        self, tx: Mapping[str, Any], *, chain_id: int | None = None
    ) -> dict[str, Any]: ...
    def check_authorization(self, chain_id: int, address: str) -> dict[str, Any]: ...
    def sign_authorization(
        self, chain_id: int, address: str, nonce: int
    ) -> tuple[int, bytes, bytes]: ...
    def sign_typed_data(
        self,
        domain_separator: bytes,
        struct_hash: bytes,
        *,
        name: str | None = None,
        version: str | None = None,
        chain_id: int | None = None,
        verifying_contract: str | None = None,
        salt: bytes | None = None,
    ) -> bytes: ...
    def admin_request(self, action: str, params_hash: bytes, deadline: int) -> str: ...
    def replace_policy(
        self, policy: Policy, request: str, approvals: Sequence[bytes | str]
    ) -> bytes: ...
    def change_pin_params_hash(self) -> bytes: ...
    def change_pin(
        self,
        new_pin: str,
        request: str,
        approvals: Sequence[bytes | str],
        *,
        pin: str | None = None,
    ) -> None: ...
    def replace_owners(
        self,
        owners: Sequence[str],
        threshold: int,
        request: str,
        approvals: Sequence[bytes | str],
    ) -> bytes: ...
    def audit_log(self) -> bytes: ...
    def audit_entries(self) -> list[dict[str, Any]]: ...
    def audit_head(self) -> bytes: ...
    def daily_spent(self, chain_id: int | None = None) -> int: ...
    def attest(self, nonce: bytes, chain_id: int, platform_ak: bool = False) -> dict[str, Any]: ...
    def enroll(self, trust_roots: bytes, ek_certificate: bytes | None = None) -> bytes: ...
    def enroll_platform_ak(
        self, trust_roots: bytes, ak_intermediates: list[bytes] | None = None
    ) -> bytes: ...
    def endorsement_keys(
        self, trust_roots: bytes | str | PathLike[str] | None = None
    ) -> list[dict[str, Any]]: ...
    def enrollment_request(self) -> dict[str, bytes | None]: ...
    def backup(self) -> str: ...
    def restore(self, backup: str, *, pin: str | None = None) -> str: ...
    def export_keystore_params_hash(
        self,
        password: str | bytes | bytearray,
        *,
        kdf: str = "scrypt",
        n: int | None = None,
        r: int | None = None,
        p: int | None = None,
        c: int | None = None,
    ) -> bytes: ...
    def export_keystore(
        self,
        password: str | bytes | bytearray,
        request: str,
        approvals: Sequence[bytes | str],
        *,
        kdf: str = "scrypt",
        n: int | None = None,
        r: int | None = None,
        p: int | None = None,
        c: int | None = None,
    ) -> str: ...
    def import_keystore(
        self,
        keystore: str,
        password: str | bytes | bytearray,
        *,
        pcrs: Sequence[int] | None = None,
        policy: Policy | None = None,
        owners: Sequence[str] | None = None,
        threshold: int | None = None,
        key_lock: str | None = None,
        pin: str | None = None,
    ) -> str: ...
    def encrypt(self, data: bytes) -> bytes: ...
    def decrypt(self, blob: bytes) -> bytes: ...
    def close(self) -> None: ...
