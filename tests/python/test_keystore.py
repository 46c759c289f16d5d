"""Portable keystores through Python: ``export_keystore`` (approved by the account's
owners) read by eth-account and cast, keystores from eth-account and ``cast wallet new``
imported and sealed, and the refusals.

Small KDF costs keep imports fast; an export takes at least pbkdf2 ``c=600000``, the
cheapest cost it accepts, and one test runs the default scrypt cost end to end.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY, OWNER_ADDRESSES, OWNERS, VECTORS, approve, cast_executable
from eth_account import Account
from flare_wallet import KeystoreError, SecureWalletManager, Vtpm, WalletError
from flare_wallet.__main__ import main as cli_main

FAST_SCRYPT = {"n": 1024, "r": 8, "p": 1}
STRONG_PBKDF2 = {"c": 600_000}
PASSWORD = "correct horse battery staple"  # noqa: S105 (a test password)
TX = {
    "to": "0x000000000000000000000000000000000000dEaD",
    "value": 1,
    "gas": 21000,
    "maxFeePerGas": 2 * 10**9,
    "maxPriorityFeePerGas": 10**9,
    "nonce": 0,
    "chainId": 1,
}


class Cast:
    """Foundry's ``cast wallet``; passwords go through the environment, not argv."""

    def __init__(self, executable: str):
        self.executable = executable

    def run(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.executable, *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env, "NO_COLOR": "1"},
        )

    def decrypt_keystore(self, path: Path, password: str) -> bytes:
        done = self.run(
            ["wallet", "decrypt-keystore", path.name, "--keystore-dir", str(path.parent)],
            {"CAST_UNSAFE_PASSWORD": password},
        )
        assert done.returncode == 0, done.stderr
        match = re.search(r"private key is: 0x([0-9a-fA-F]{64})", done.stdout)
        assert match, done.stdout
        return bytes.fromhex(match.group(1))

    def wallet_new(self, directory: Path, name: str, password: str) -> str:
        done = self.run(["wallet", "new", str(directory), name], {"CAST_PASSWORD": password})
        assert done.returncode == 0, done.stderr
        match = re.search(r"Address:\s+(0x[0-9a-fA-F]{40})", done.stdout)
        assert match, done.stdout
        return match.group(1)


@pytest.fixture(scope="session")
def cast() -> Cast:
    return Cast(cast_executable())


@pytest.fixture
def fresh(vtpm: Vtpm) -> Iterator[SecureWalletManager]:
    """A manager on a fresh swtpm with no account yet."""
    with SecureWalletManager(None, vtpm) as manager:
        yield manager


def approved_export(
    manager: SecureWalletManager,
    password: str | bytes,
    *,
    kdf: str = "pbkdf2",
    kdf_params: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An export approved by two of the account's three owners."""
    params = STRONG_PBKDF2 if kdf_params is None and kdf == "pbkdf2" else kdf_params
    request = manager.admin_request(
        "export_keystore", password=password, kdf=kdf, kdf_params=params
    )
    return manager.export_keystore(
        password, kdf=kdf, kdf_params=params, request=request,
        approvals=approve(request, *OWNERS[:2]),
    )  # fmt: skip


def write(directory: Path, name: str, keystore: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(json.dumps(keystore))
    return path


# ---------------------------------------------------------------- ours, read by theirs


def test_a_scrypt_export_opens_in_eth_account_and_cast(
    owned: SecureWalletManager, cast: Cast, tmp_path: Path
) -> None:
    # The cheapest scrypt cost an export accepts (the default is n=2**18): the KDF runs
    # for the request, for its execution and in each reader.
    keystore = approved_export(owned, PASSWORD, kdf="scrypt", kdf_params={"n": 2**17})
    assert keystore["version"] == 3
    assert keystore["address"] == owned.address[2:].lower()
    crypto = keystore["crypto"]
    assert crypto["cipher"] == "aes-128-ctr"
    assert crypto["kdf"] == "scrypt"
    assert {k: crypto["kdfparams"][k] for k in ("n", "r", "p", "dklen")} == {
        "n": 2**17,
        "r": 8,
        "p": 1,
        "dklen": 32,
    }
    assert bytes(Account.decrypt(keystore, PASSWORD)) == bytes.fromhex(KEY[2:])
    assert cast.decrypt_keystore(write(tmp_path, "ours", keystore), PASSWORD) == bytes.fromhex(
        KEY[2:]
    )


def test_a_created_account_exports_to_its_own_address(
    vtpm: Vtpm, cast: Cast, tmp_path: Path
) -> None:
    with SecureWalletManager(
        None, vtpm, owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
    ) as manager:
        address = manager.create_account()
        keystore = approved_export(manager, PASSWORD)
    assert keystore["crypto"]["kdf"] == "pbkdf2"
    assert keystore["crypto"]["kdfparams"]["c"] == STRONG_PBKDF2["c"]
    key = bytes(Account.decrypt(keystore, PASSWORD))
    assert Account.from_key(key).address == address
    assert cast.decrypt_keystore(write(tmp_path, "ours", keystore), PASSWORD) == key


def test_each_export_is_fresh_and_the_password_is_utf8(owned: SecureWalletManager) -> None:
    password = "pässwörd ✓"  # noqa: S105 (a test password)
    first = approved_export(owned, password)
    second = approved_export(owned, password.encode("utf-8"))
    assert first["id"] != second["id"]
    assert first["crypto"]["kdfparams"]["salt"] != second["crypto"]["kdfparams"]["salt"]
    assert first["crypto"]["ciphertext"] != second["crypto"]["ciphertext"]
    for keystore in (first, second):
        assert bytes(Account.decrypt(keystore, password)) == bytes.fromhex(KEY[2:])
        assert password not in json.dumps(keystore)


def test_strict_mode_exports_the_same_key(vtpm: Vtpm) -> None:
    with SecureWalletManager(
        None, vtpm, key_mode="strict", owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
    ) as strict:
        strict.import_private_key(KEY)
        keystore = approved_export(strict, PASSWORD)
    assert bytes(Account.decrypt(keystore, PASSWORD)) == bytes.fromhex(KEY[2:])


# ---------------------------------------------------------------- theirs, sealed by ours


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_eth_account_keystores_import_seal_and_sign(fresh: SecureWalletManager, kdf: str) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf=kdf, iterations=1024 if kdf == "scrypt" else 1000)
    assert keystore["crypto"]["kdf"] == kdf
    address = fresh.import_keystore(keystore, PASSWORD)
    assert address == Account.from_key(KEY).address == fresh.address
    raw = fresh.sign_transaction(TX)
    assert raw == Account.sign_transaction(TX, KEY).raw_transaction


KEYSTORE_TESTS = json.loads((VECTORS / "ethereum-tests/KeyStoreTests/basic_tests.json").read_text())


@pytest.mark.parametrize("name", sorted(KEYSTORE_TESTS))
def test_ethereum_tests_keystores_import_to_their_key(vtpm: Vtpm, name: str) -> None:
    """ethereum/tests KeyStoreTests: pbkdf2 and scrypt (the specification's r=1 p=8
    example among them), an odd-length IV and a counter that wraps."""
    case = KEYSTORE_TESTS[name]
    with SecureWalletManager(None, vtpm) as manager:
        address = manager.import_keystore(case["json"], case["password"])
    assert address == Account.from_key(case["priv"]).address


def test_a_keystore_imports_as_json_text_and_bytes(vtpm: Vtpm, tmp_path: Path) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="pbkdf2", iterations=1000)
    text = json.dumps(keystore)
    expected = Account.from_key(KEY).address
    with SecureWalletManager(None, vtpm) as manager:
        assert manager.import_keystore(text, PASSWORD.encode()) == expected
    for form in (text, text.encode()):
        with (
            Vtpm.simulator(tmp_path / f"state-{type(form).__name__}") as other,
            SecureWalletManager(None, other) as manager,
        ):
            assert manager.import_keystore(form, PASSWORD) == expected


@pytest.mark.parametrize("password", ["cast password", "ünïcödé"])
def test_cast_wallet_new_keystores_import_to_its_address(
    fresh: SecureWalletManager, cast: Cast, tmp_path: Path, password: str
) -> None:
    address = cast.wallet_new(tmp_path, "account", password)
    assert fresh.import_keystore((tmp_path / "account").read_text(), password) == address
    assert Account.recover_transaction(fresh.sign_transaction(TX)) == address


def test_the_imported_account_survives_a_reload(tmp_path: Path) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="scrypt", iterations=1024)
    places = {"state_dir": tmp_path / "state", "tpm_state_dir": tmp_path / "tpm"}
    with Vtpm.simulator(**places) as vtpm, SecureWalletManager(None, vtpm) as manager:
        address = manager.import_keystore(keystore, PASSWORD)
    with Vtpm.simulator(**places) as vtpm, SecureWalletManager(None, vtpm) as manager:
        assert manager.load_account() == address


# ---------------------------------------------------------------- refusals, with clear errors


def test_a_wrong_password_is_refused_and_nothing_is_sealed(fresh: SecureWalletManager) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="scrypt", iterations=1024)
    with pytest.raises(KeystoreError, match="wrong password: the keystore MAC does not match") as e:
        fresh.import_keystore(keystore, "not the password")
    assert "not the password" not in str(e.value)
    assert fresh.address is None
    # The right password still works on the same wallet.
    assert fresh.import_keystore(keystore, PASSWORD) == Account.from_key(KEY).address


@pytest.mark.parametrize("field", ["ciphertext", "mac"])
def test_a_tampered_keystore_is_refused(fresh: SecureWalletManager, field: str) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="pbkdf2", iterations=1000)
    value = bytearray(bytes.fromhex(keystore["crypto"][field]))
    value[0] ^= 0x01
    keystore["crypto"][field] = value.hex()
    with pytest.raises(KeystoreError, match="MAC does not match"):
        fresh.import_keystore(keystore, PASSWORD)
    assert fresh.address is None


def test_an_address_that_is_not_the_keys_is_refused(fresh: SecureWalletManager) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="pbkdf2", iterations=1000)
    keystore["address"] = "00" * 20
    with pytest.raises(KeystoreError, match="does not match the address of the key"):
        fresh.import_keystore(keystore, PASSWORD)


@pytest.mark.parametrize(
    ("kdf", "kdfparams", "message"),
    [
        ("scrypt", {"n": 2**30}, "scrypt n=2^30 exceeds the limit 2^20"),
        ("scrypt", {"n": 2**20, "r": 8}, "scrypt memory 128*n*r = 1073741824 bytes exceeds"),
        ("scrypt", {"n": 2**18, "r": 8, "p": 64}, "scrypt work 128*n*r*p"),
        ("scrypt", {"n": 1000}, "scrypt n must be a power of two greater than 1"),
        ("pbkdf2", {"c": 10**12}, "pbkdf2 c=1000000000000 exceeds the limit 10000000"),
    ],
    ids=["n", "memory", "work", "n-not-power-of-two", "pbkdf2-c"],
)
def test_absurd_kdf_parameters_are_refused_before_any_work(
    fresh: SecureWalletManager, kdf: str, kdfparams: dict[str, int], message: str
) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf=kdf, iterations=1024 if kdf == "scrypt" else 1)
    keystore["crypto"]["kdfparams"].update(kdfparams)
    started = time.monotonic()
    with pytest.raises(KeystoreError, match=re.escape(message)):
        fresh.import_keystore(keystore, PASSWORD)
    assert time.monotonic() - started < 2
    assert fresh.address is None


@pytest.mark.parametrize(
    ("keystore", "message"),
    [
        ("{", "JSON ends early"),
        ("[]", "must be a JSON object"),
        ('{"version": 3}', "no `crypto`"),
        (b"\xff", "not UTF-8"),
        (42, "a dict or its JSON text, not int"),
    ],
    ids=["truncated", "array", "no-crypto", "not-utf8", "int"],
)
def test_malformed_keystores_are_named(
    fresh: SecureWalletManager, keystore: Any, message: str
) -> None:
    with pytest.raises(KeystoreError, match=message):
        fresh.import_keystore(keystore, PASSWORD)


def test_import_into_a_wallet_with_an_account_is_refused_first(
    imported: SecureWalletManager,
) -> None:
    keystore = Account.encrypt(KEY, PASSWORD, kdf="scrypt", iterations=1024)
    keystore["crypto"]["kdfparams"]["n"] = 2**30  # would fail later, at the limits
    with pytest.raises(WalletError, match="already exists") as e:
        imported.import_keystore(keystore, PASSWORD)
    assert not isinstance(e.value, KeystoreError)


@pytest.mark.parametrize(
    ("kdf", "params", "message"),
    [
        ("argon2", None, "kdf must be 'scrypt' or 'pbkdf2', not 'argon2'"),
        ("scrypt", {"c": 1000}, "unknown scrypt parameter 'c'"),
        ("pbkdf2", {"n": 1024}, "unknown pbkdf2 parameter 'n'"),
        ("scrypt", {"n": "1024"}, "scrypt parameter n must be an int, not str"),
        ("scrypt", {"n": 0}, "scrypt parameter n must be at least 1"),
        ("scrypt", {"n": 1000}, "scrypt n must be a power of two greater than 1"),
        ("scrypt", {"n": 2**21}, "scrypt n=2^21 exceeds the limit 2^20"),
        ("pbkdf2", {"c": 10**8}, "pbkdf2 c=100000000 exceeds the limit"),
    ],
)
def test_export_parameters_are_checked(
    owned: SecureWalletManager, kdf: str, params: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(KeystoreError, match=re.escape(message)):
        owned.admin_request("export_keystore", password=PASSWORD, kdf=kdf, kdf_params=params)


def test_export_needs_an_account_and_a_usable_password(vtpm: Vtpm) -> None:
    with SecureWalletManager(
        None, vtpm, owners=OWNER_ADDRESSES, threshold=2, key_lock="none"
    ) as manager:
        with pytest.raises(WalletError, match="no account"):
            manager.export_keystore(PASSWORD, kdf_params=FAST_SCRYPT)
        manager.import_private_key(KEY)
        with pytest.raises(KeystoreError, match="the password must be str or bytes, not int"):
            manager.admin_request("export_keystore", password=1234)


# ---------------------------------------------------------------- the command line


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flare_wallet", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


OWNER_FLAGS = [arg for address in OWNER_ADDRESSES for arg in ("--owner", address)]
EXPORT_FLAGS = ["--kdf", "pbkdf2", "--kdf-param", "c=600000"]


def cli_approved_export(
    state: list[str], password_file: Path, out: Path, *, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """admin-request, two owners' signatures (eth-account), admin-execute --out."""
    password = ["--password-file", str(password_file)]
    made = cli(*state, "admin-request", "export_keystore", *EXPORT_FLAGS, *password)
    assert made.returncode == 0, made.stderr
    assert password_file.read_text().strip() not in made.stdout
    request = tmp_path / "request.json"
    request.write_text(made.stdout)
    signatures = [s.hex() for s in approve(json.loads(made.stdout), *OWNERS[:2])]
    return cli(
        *state, "admin-execute", str(request), *signatures, *EXPORT_FLAGS, *password,
        "--out", str(out),
    )  # fmt: skip


def test_cli_export_then_import_elsewhere(cast: Cast, tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    first = ["--simulator", "--state-dir", str(tmp_path / "first")]
    address = cli(
        *first, "--key-lock", "none", "create", *OWNER_FLAGS, "--threshold", "2"
    ).stdout.strip()
    out = tmp_path / "account.json"
    export = cli_approved_export(first, password_file, out, tmp_path=tmp_path)
    assert export.returncode == 0, export.stderr
    assert export.stdout.strip() == address
    assert "opens outside this TPM" in export.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    keystore = json.loads(out.read_text())
    assert keystore["crypto"]["kdfparams"]["c"] == 600_000
    key = bytes(Account.decrypt(keystore, PASSWORD))
    assert Account.from_key(key).address == address
    assert cast.decrypt_keystore(out, PASSWORD) == key

    second = ["--simulator", "--state-dir", str(tmp_path / "second")]
    imported = cli(*second, "import-keystore", str(out), "--password-file", str(password_file))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == address

    third = ["--simulator", "--state-dir", str(tmp_path / "third")]
    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    refused = cli(
        *third, "import-keystore", "-", "--password-file", str(wrong), stdin=out.read_text()
    )
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1].startswith("error: keystore: wrong password")
    assert "Traceback" not in refused.stderr


def test_cli_export_to_an_existing_file_keeps_the_approval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)  # no newline at the end
    password = ["--password-file", str(password_file)]
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    assert cli_main([*state, "--key-lock", "none", "create", *OWNER_FLAGS, "--threshold", "2"]) == 0
    capsys.readouterr()
    assert cli_main([*state, "admin-request", "export_keystore", *EXPORT_FLAGS, *password]) == 0
    request = capsys.readouterr().out
    (tmp_path / "request.json").write_text(request)
    signatures = [s.hex() for s in approve(json.loads(request), *OWNERS[:2])]
    out = tmp_path / "exists.json"
    out.write_text("")
    execute = [*state, "admin-execute", str(tmp_path / "request.json"), *signatures]
    assert cli_main([*execute, *EXPORT_FLAGS, *password, "--out", str(out)]) == 1
    assert "File exists" in capsys.readouterr().err
    assert out.read_text() == ""
    # The approval was not used up: the same request exports to a new file.
    out = tmp_path / "new.json"
    assert cli_main([*execute, *EXPORT_FLAGS, *password, "--out", str(out)]) == 0
    keystore = json.loads(out.read_text())
    assert (
        Account.from_key(Account.decrypt(keystore, PASSWORD)).address
        == capsys.readouterr().out.strip()
    )


def test_cli_export_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD)
    password = ["--password-file", str(password_file)]
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    request = [*state, "admin-request", "export_keystore"]
    assert cli_main([*state, "--key-lock", "none", "create", *OWNER_FLAGS, "--threshold", "2"]) == 0
    for args, message in [
        (["--kdf-param", "n"], "--kdf-param takes NAME=NUMBER"),
        (["--kdf", "pbkdf2"], "refuses a KDF weaker than"),
        (["--threshold", "1"], "export_keystore does not take --threshold"),
    ]:
        capsys.readouterr()
        assert cli_main([*request, *args, *password]) == 1
        assert message in capsys.readouterr().err
    ownerless = ["--simulator", "--state-dir", str(tmp_path / "ownerless")]
    assert cli_main([*ownerless, "create"]) == 0
    capsys.readouterr()
    ownerless_request = [*ownerless, "admin-request", "export_keystore", *EXPORT_FLAGS]
    assert cli_main([*ownerless_request, *password]) == 1
    assert "its key can never leave the TPM" in capsys.readouterr().err


class TypedPasswords:
    """Stands in for a person at the terminal (no terminal here): answers getpass prompts
    with the given lines, and records the prompts."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "Password: ", stream: Any = None) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def test_cli_asks_twice_on_export_and_refuses_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    assert cli_main([*state, "--key-lock", "none", "create", *OWNER_FLAGS, "--threshold", "2"]) == 0
    address = capsys.readouterr().out.strip()
    request_args = [*state, "admin-request", "export_keystore", *EXPORT_FLAGS]

    mismatch = TypedPasswords("one", "two")
    monkeypatch.setattr("getpass.getpass", mismatch)
    assert cli_main(request_args) == 1
    assert len(mismatch.prompts) == 2
    assert "the two passwords differ: nothing was done" in capsys.readouterr().err

    empty = TypedPasswords("", "")
    monkeypatch.setattr("getpass.getpass", empty)
    assert cli_main(request_args) == 1
    assert "the password is empty" in capsys.readouterr().err

    typed = TypedPasswords(PASSWORD, PASSWORD)
    monkeypatch.setattr("getpass.getpass", typed)
    assert cli_main(request_args) == 0
    request = capsys.readouterr().out
    request_file = tmp_path / "request.json"
    request_file.write_text(request)
    signatures = [s.hex() for s in approve(json.loads(request), *OWNERS[1:])]

    once = TypedPasswords(PASSWORD)
    monkeypatch.setattr("getpass.getpass", once)
    out = tmp_path / "k.json"
    execute = [*state, "admin-execute", str(request_file), *signatures, *EXPORT_FLAGS]
    assert cli_main([*execute, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == address
    assert once.prompts == ["Keystore password: "]

    once = TypedPasswords(PASSWORD)
    monkeypatch.setattr("getpass.getpass", once)
    other = ["--simulator", "--state-dir", str(tmp_path / "other")]
    assert cli_main([*other, "import-keystore", str(out)]) == 0
    assert capsys.readouterr().out.strip() == address
    assert once.prompts == ["Keystore password: "]
