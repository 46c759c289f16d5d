"""The wallet held by a ``flare-wallet-signer`` service, behind the same API.

``Vtpm("signer:path=/run/flare-wallet/signer.ipc")`` connects to the signing service
over its IPC socket instead of opening a TPM; a :class:`SecureWalletManager` built on
that ``Vtpm`` signs, attests and reports its policy exactly as it does in process, so
agent code changes only its connection string. The key, the TPM and the state directory
belong to the service (another OS user); this process holds a socket and nothing else.

Connection string: ``signer:path=SOCKET`` with an optional ``,account=0x...`` choosing
one of the service's accounts (the first one by default).

Account management (create, import, backup, restore, export, sealed data) is the
service operator's business and is refused here with a :class:`WalletError` that says
so. Policy refusals arrive as :class:`PolicyViolation` with the rule; TPM faults as
:class:`TpmError`; malformed transactions as :class:`InvalidTransaction`.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from flare_wallet._native import Policy
from flare_wallet.exceptions import (
    InvalidTransaction,
    PolicyViolation,
    TpmError,
    WalletError,
)

__all__ = ["SIGNER_PREFIX", "RemoteWallet", "parse_signer_address"]

SIGNER_PREFIX = "signer:"

# The service's JSON-RPC error codes (signer/src/rpc.rs).
INVALID_PARAMS = -32602
POLICY_REFUSED = -32010
TPM_UNAVAILABLE = -32020


def parse_signer_address(connection: str) -> tuple[Path, str | None]:
    """``signer:path=SOCKET[,account=0x...]`` as (socket path, account or None)."""
    if not connection.startswith(SIGNER_PREFIX):
        raise WalletError(f"not a signer connection string: {connection!r}")
    fields: dict[str, str] = {}
    for part in connection[len(SIGNER_PREFIX) :].split(","):
        key, sep, value = part.partition("=")
        if not sep or key not in ("path", "account") or key in fields:
            raise WalletError(
                "a signer connection string is signer:path=SOCKET[,account=0x...], "
                f"not {connection!r}"
            )
        fields[key] = value
    if not fields.get("path"):
        raise WalletError("the signer connection string needs path=SOCKET")
    return Path(fields["path"]), fields.get("account")


def _jsonable(value: Any) -> Any:
    """A transaction dict's values as JSON-RPC writes them: ints and bytes as 0x-hex."""
    if isinstance(value, bool):
        raise InvalidTransaction("a transaction field is a number or hex, not a bool")
    if isinstance(value, int):
        if value < 0:
            raise InvalidTransaction("transaction numbers are not negative")
        return hex(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


class RemoteWallet:
    """The native wallet's interface, answered by the signing service over IPC.

    Thread safe: one request at a time on one connection (reopened if it drops).
    """

    def __init__(self, connection: str, *, timeout: float = 60.0):
        self._path, self._account = parse_signer_address(connection)
        self._connection = connection
        self._timeout = timeout
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._buffer = ""
        self._decoder = json.JSONDecoder()
        self._next_id = 0
        self._closed = False
        self._loaded: str | None = None
        self.key_mode = "cached"

    # ------------------------------------------------------------ transport

    def _connect(self) -> socket.socket:
        if self._socket is None:
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(self._timeout)
            try:
                sock.connect(str(self._path))
            except OSError as error:
                sock.close()
                raise WalletError(
                    f"cannot connect to the signing service at {self._path}: {error.strerror}"
                ) from None
            self._socket = sock
            self._buffer = ""
        return self._socket

    def call(self, method: str, params: list[Any]) -> Any:
        """One JSON-RPC call; the service's errors become flare_wallet exceptions."""
        if self._closed:
            raise WalletError("this wallet is closed")
        with self._lock:
            self._next_id += 1
            body = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
            try:
                sock = self._connect()
                sock.sendall(json.dumps(body).encode())
                reply = self._read(sock)
            except OSError as error:
                self._drop()
                raise WalletError(f"the signing service connection failed: {error}") from None
        if "error" in reply:
            raise _exception(method, reply["error"])
        return reply.get("result")

    def _read(self, sock: socket.socket) -> dict[str, Any]:
        while True:
            text = self._buffer.lstrip()
            if text:
                try:
                    value, end = self._decoder.raw_decode(text)
                except ValueError:
                    pass
                else:
                    self._buffer = text[end:]
                    if isinstance(value, dict):
                        return value
                    raise WalletError("the signing service answered with something unexpected")
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the signing service closed the connection")
            self._buffer += chunk.decode("utf-8")

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None

    # ------------------------------------------------------------ the native interface

    @property
    def tcti(self) -> str:
        return self._connection

    @property
    def state_dir(self) -> Path:
        """The service's socket: the state directory is the service's own."""
        return self._path

    @property
    def simulator_pid(self) -> None:
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def address(self) -> str | None:
        return self._loaded

    def _chosen_account(self) -> str:
        accounts = self.call("eth_accounts", [])
        if self._account is None:
            if not accounts:
                raise WalletError("the signing service has no account")
            return str(accounts[0])
        for account in accounts:
            if str(account).lower() == self._account.lower():
                return str(account)
        raise WalletError(f"the signing service has no account {self._account}")

    def load_account(self, pin: str | None = None) -> str:
        if pin is not None:
            # The service holds the sealed key and presents its PIN itself.
            self._operator_only("setting an account's PIN")
        self._loaded = self._chosen_account()
        return self._loaded

    def _require(self) -> str:
        if self._loaded is None:
            self.load_account()
        assert self._loaded is not None
        return self._loaded

    def _operator_only(self, what: str) -> NoReturn:
        raise WalletError(
            f"{what} is done by the signing service's operator, not through its socket "
            "(see signer/README.md)"
        )

    def create_account(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._operator_only("creating an account")

    def import_key(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._operator_only("importing a key")

    def backup(self) -> NoReturn:
        self._operator_only("a backup")

    def restore(self, backup: str) -> NoReturn:
        self._operator_only("a restore")

    def export_keystore(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._operator_only("exporting a keystore (an owner-approved admin action)")

    def encrypt(self, data: bytes) -> NoReturn:
        self._operator_only("sealing data")

    def decrypt(self, data: bytes) -> NoReturn:
        self._operator_only("unsealing data")

    def replace_policy(self, policy: Policy) -> NoReturn:
        self._operator_only("replacing the policy (an owner-approved admin action)")

    def sign_transaction(self, tx: Mapping[str, Any], chain_id: int | None = None) -> bytes:
        request = self._transaction_request(tx, chain_id)
        raw = self.call("eth_signTransaction", [request])
        return bytes.fromhex(str(raw)[2:])

    def _transaction_request(self, tx: Mapping[str, Any], chain_id: int | None) -> dict[str, Any]:
        if not isinstance(tx, Mapping):
            raise InvalidTransaction(f"a transaction is a dict, not {type(tx).__name__}")
        request: dict[str, Any] = _jsonable(dict(tx))
        request.setdefault("from", self._require())
        if "chainId" not in tx and chain_id is not None:
            request["chainId"] = hex(chain_id)
        if request.get("to") in ("", "0x", None):
            request.pop("to", None)
        return request

    @staticmethod
    def _decision(answer: Mapping[str, Any]) -> dict[str, Any]:
        """A ``flare_check*`` answer in the shape the local wallet's checks return."""
        if answer.get("allowed"):
            return {"allowed": True, "mode": answer["mode"], "rules": list(answer["rules"]),
                    "reason": None}  # fmt: skip
        return {
            "allowed": False,
            "mode": answer.get("mode"),
            "rules": [answer["rule"]],
            "reason": answer.get("message"),
        }

    def check_transaction(
        self, tx: Mapping[str, Any], *, chain_id: int | None = None
    ) -> dict[str, Any]:
        request = self._transaction_request(tx, chain_id)
        return self._decision(self.call("flare_checkTransaction", [request]))

    def sign_typed_data_json(self, document: str) -> bytes:
        # The service's core parses and checks the very message it signs.
        signature = self.call("eth_signTypedData_v4", [self._require(), json.loads(document)])
        return bytes.fromhex(str(signature)[2:])

    def check_typed_data_json(self, document: str) -> dict[str, Any]:
        answer = self.call("flare_checkTypedData", [self._require(), json.loads(document)])
        return self._decision(answer)

    def check_authorization(self, chain_id: int, address: str) -> dict[str, Any]:
        authorization = {"chainId": hex(chain_id), "address": address}
        answer = self.call("flare_checkAuthorization", [self._require(), authorization])
        return self._decision(answer)

    def sign_authorization(
        self, chain_id: int, address: str, nonce: int
    ) -> tuple[int, bytes, bytes]:
        authorization = {"chainId": hex(chain_id), "address": address, "nonce": hex(nonce)}
        signed = self.call("flare_signAuthorization", [self._require(), authorization])
        return (
            int(signed["yParity"], 16),
            int(signed["r"], 16).to_bytes(32, "big"),
            int(signed["s"], 16).to_bytes(32, "big"),
        )

    def sign_message(self, message: bytes) -> bytes:
        signature = self.call("personal_sign", ["0x" + bytes(message).hex(), self._require()])
        return bytes.fromhex(str(signature)[2:])

    def _sign_hashes(self, header: bytes, body: bytes, domain: dict[str, Any] | None) -> bytes:
        hashes: dict[str, Any] = {
            "domainSeparator": "0x" + bytes(header).hex(),
            "structHash": "0x" + bytes(body).hex(),
        }
        if domain is not None:
            hashes["domain"] = domain
        signature = self.call("flare_signTypedDataHash", [self._require(), hashes])
        return bytes.fromhex(str(signature)[2:])

    def sign_typed_data_hash(self, header: bytes, body: bytes) -> bytes:
        return self._sign_hashes(header, body, None)

    def sign_typed_data(self, header: bytes, body: bytes, **fields: Any) -> bytes:
        names = {"chain_id": "chainId", "verifying_contract": "verifyingContract"}
        domain: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "salt":
                value = "0x" + bytes(value).hex()
            elif key == "chain_id":
                value = str(value)
            domain[names.get(key, key)] = value
        return self._sign_hashes(header, body, domain)

    def attest(self, nonce: bytes, chain_id: int, platform_ak: bool = False) -> dict[str, Any]:
        if platform_ak:
            self._operator_only("evidence quoted by the platform's AK")
        result = self.call("flare_attest", ["0x" + bytes(nonce).hex(), chain_id, self._require()])

        def raw(text: str) -> bytes:
            return bytes.fromhex(text[2:])

        return {
            "evidence": raw(result["evidence"]),
            "address": result["address"],
            "chain_id": int(result["chainId"]),
            "policy_hash": raw(result["policyHash"]),
            "owners_hash": raw(result["ownersHash"]),
            "threshold": int(result["threshold"]),
            "admin_nonce": int(result["adminNonce"]),
            "audit_head": raw(result["auditHead"]),
            "ak_name": raw(result["akName"]),
            "pcrs": {int(index): raw(value) for index, value in result["pcrs"].items()},
            "tpm_identity": result["tpmIdentity"],
        }

    def _policy_info(self, chain_id: int | None = None) -> dict[str, Any]:
        params: list[Any] = [self._require()]
        if chain_id is not None:
            params.append(chain_id)
        info: dict[str, Any] = self.call("flare_policy", params)
        return info

    @property
    def policy(self) -> Policy | None:
        if self._loaded is None:
            return None
        policy = self._policy_info()["policy"]
        return None if policy is None else Policy.from_json(json.dumps(policy))

    @property
    def policy_hash(self) -> bytes | None:
        if self._loaded is None:
            return None
        return bytes.fromhex(self._policy_info()["policyHash"][2:])

    @property
    def owners(self) -> tuple[list[str], int] | None:
        if self._loaded is None:
            return None
        found = self._policy_info().get("owners")
        if not found:
            return None
        return list(found["owners"]), int(found["threshold"])

    @property
    def admin_nonce(self) -> int | None:
        if self._loaded is None:
            return None
        return int(self._policy_info().get("adminNonce", 0))

    def admin_request(self, *args: Any, **kwargs: Any) -> NoReturn:
        self._operator_only("an admin request (ask the service for it with flare_adminRequest)")

    def daily_spent(self, chain_id: int | None = None) -> int:
        return int(self._policy_info(chain_id)["dailySpentWei"])

    def close(self) -> None:
        with self._lock:
            self._drop()
            self._closed = True

    def __repr__(self) -> str:
        return f"RemoteWallet({self._connection!r})"


def _exception(method: str, error: Mapping[str, Any]) -> WalletError:
    code = error.get("code")
    message = str(error.get("message", "the signing service refused the request"))
    data = error.get("data")
    if code == POLICY_REFUSED:
        rule = data.get("rule") if isinstance(data, Mapping) else None
        return PolicyViolation(message, rule)
    if code == TPM_UNAVAILABLE:
        return TpmError(message)
    if code == INVALID_PARAMS and method == "eth_signTransaction":
        return InvalidTransaction(message)
    return WalletError(f"{message} (signing service error {code})")
