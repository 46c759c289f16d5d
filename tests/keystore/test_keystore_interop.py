"""Keystores across implementations.

Ours (written by the core through `keystore_tool`) must decrypt to the same key with eth-account's
`Account.decrypt` and with `cast wallet decrypt-keystore`; keystores written by eth-account
(`Account.encrypt`, scrypt and pbkdf2) and by `cast wallet new` must import to the right address.
Most cases use cheap KDF parameters; one export and one eth-account keystore use the defaults.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from pathlib import Path
from typing import Any, Literal

import pytest
from eth_account import Account

from conftest import Cast, KeystoreTool

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# KDF arguments as keystore_tool takes them, cheap enough to run many.
CHEAP_KDFS = {
    "scrypt-n1024-r8-p1": ["scrypt", "10", "8", "1"],
    "scrypt-n1024-r1-p8": ["scrypt", "10", "1", "8"],
    "scrypt-n16-r3-p2": ["scrypt", "4", "3", "2"],
    "pbkdf2-c1000": ["pbkdf2", "1000"],
    "pbkdf2-c1": ["pbkdf2", "1"],
}
PASSWORDS = ["correct horse battery staple", "pässwörd ✓ with spaces", "x"]


def secret_key(seed: int) -> bytes:
    """A valid secp256k1 secret key drawn from `seed`."""
    rng = random.Random(seed)
    while True:
        key = rng.randbytes(32)
        if 0 < int.from_bytes(key, "big") < SECP256K1_ORDER:
            return key


def write(directory: Path, name: str, keystore: dict[str, Any]) -> Path:
    path = directory / name
    path.write_text(json.dumps(keystore))
    return path


# ---------------------------------------------------------------- ours, read by them


def test_our_default_scrypt_export_decrypts_with_eth_account_and_cast(
    tool: KeystoreTool, cast: Cast, tmp_path: Path
) -> None:
    key = secret_key(1)
    password = PASSWORDS[0]
    keystore = tool.export(key, password, [])
    assert keystore["crypto"]["kdfparams"] == {
        "dklen": 32,
        "n": 262144,
        "r": 8,
        "p": 1,
        "salt": keystore["crypto"]["kdfparams"]["salt"],
    }
    account = Account.from_key(key)
    assert keystore["address"] == account.address.lower()[2:]

    assert Account.decrypt(keystore, password) == key
    assert cast.decrypt_keystore(write(tmp_path, "ours-default", keystore), password) == key


@pytest.mark.parametrize("kdf", CHEAP_KDFS.values(), ids=CHEAP_KDFS.keys())
@pytest.mark.parametrize("password", PASSWORDS)
def test_our_export_decrypts_with_eth_account_and_cast(
    tool: KeystoreTool, cast: Cast, tmp_path: Path, kdf: list[str], password: str
) -> None:
    key = secret_key(zlib.crc32(f"{kdf} {password}".encode()))
    keystore = tool.export(key, password, kdf)
    assert keystore["version"] == 3
    assert keystore["crypto"]["kdf"] == kdf[0]
    assert keystore["address"] == Account.from_key(key).address.lower()[2:]

    assert Account.decrypt(keystore, password) == key
    assert cast.decrypt_keystore(write(tmp_path, "ours", keystore), password) == key


def test_our_export_under_an_empty_password_decrypts_with_eth_account(tool: KeystoreTool) -> None:
    key = secret_key(2)
    keystore = tool.export(key, "", ["scrypt", "10", "8", "1"])
    assert Account.decrypt(keystore, "") == key


def test_a_wrong_password_on_our_export_fails_in_eth_account_and_cast(
    tool: KeystoreTool, cast: Cast, tmp_path: Path
) -> None:
    keystore = tool.export(secret_key(3), "right", ["pbkdf2", "1000"])
    with pytest.raises(ValueError, match="MAC mismatch"):
        Account.decrypt(keystore, "wrong")
    outcome = cast.decrypt_keystore_outcome(write(tmp_path, "ours", keystore), "wrong")
    assert outcome.returncode != 0
    assert "Mac Mismatch" in outcome.stderr


# ---------------------------------------------------------------- theirs, read by ours


@pytest.mark.parametrize(
    ("kdf", "iterations"),
    [("scrypt", 1024), ("scrypt", 2), ("pbkdf2", 1000), ("pbkdf2", 1), ("pbkdf2", None)],
    ids=["scrypt-n1024", "scrypt-n2", "pbkdf2-c1000", "pbkdf2-c1", "pbkdf2-default-c1000000"],
)
@pytest.mark.parametrize("password", PASSWORDS)
def test_eth_account_keystores_import_to_the_right_address(
    tool: KeystoreTool,
    tmp_path: Path,
    kdf: Literal["scrypt", "pbkdf2"],
    iterations: int | None,
    password: str,
) -> None:
    key = secret_key(zlib.crc32(f"{kdf} {iterations} {password}".encode()))
    keystore = Account.encrypt(key, password, kdf=kdf, iterations=iterations)
    outcome = tool.import_file(write(tmp_path, "eth-account.json", keystore), password)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.strip() == Account.from_key(key).address


def test_an_eth_account_default_scrypt_keystore_imports(tool: KeystoreTool, tmp_path: Path) -> None:
    key = secret_key(4)
    keystore = Account.encrypt(key, PASSWORDS[1])
    assert keystore["crypto"]["kdfparams"]["n"] == 262144
    outcome = tool.import_file(write(tmp_path, "eth-account.json", keystore), PASSWORDS[1])
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.strip() == Account.from_key(key).address


@pytest.mark.parametrize("password", ["cast password", "ünïcödé"])
def test_cast_wallet_new_keystores_import_to_the_right_address(
    tool: KeystoreTool, cast: Cast, tmp_path: Path, password: str
) -> None:
    address = cast.wallet_new(tmp_path, "account", password)
    outcome = tool.import_file(tmp_path / "account", password)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.strip() == address


# ---------------------------------------------------------------- refusals, with clear errors


def test_a_wrong_password_on_their_keystore_is_reported(tool: KeystoreTool, tmp_path: Path) -> None:
    keystore = Account.encrypt(secret_key(5), "right", kdf="scrypt", iterations=1024)
    outcome = tool.import_file(write(tmp_path, "k.json", keystore), "wrong")
    assert outcome.returncode == 1
    assert "wrong password" in outcome.stderr


@pytest.mark.parametrize("field", ["ciphertext", "mac"])
def test_a_tampered_keystore_from_eth_account_is_refused(tool: KeystoreTool, tmp_path: Path, field: str) -> None:
    keystore = Account.encrypt(secret_key(6), "pw", kdf="pbkdf2", iterations=1000)
    value = bytearray(bytes.fromhex(keystore["crypto"][field]))
    value[-1] ^= 0x80
    keystore["crypto"][field] = value.hex()
    outcome = tool.import_file(write(tmp_path, "k.json", keystore), "pw")
    assert outcome.returncode == 1
    assert "MAC does not match" in outcome.stderr


@pytest.mark.parametrize(
    ("kdfparams", "message"),
    [
        ({"n": 2**30}, "scrypt n=2^30 exceeds the limit 2^20"),
        ({"n": 2**20, "r": 8}, "scrypt memory 128*n*r = 1073741824 bytes exceeds the limit"),
        ({"n": 2**18, "r": 8, "p": 64}, "scrypt work 128*n*r*p"),
        ({"n": 1000}, "scrypt n must be a power of two greater than 1"),
        ({"dklen": 64}, "kdf dklen must be 32"),
    ],
    ids=["n", "memory", "work", "n-not-power-of-two", "dklen"],
)
def test_absurd_kdf_parameters_are_refused_at_once(
    tool: KeystoreTool, tmp_path: Path, kdfparams: dict[str, int], message: str
) -> None:
    keystore = Account.encrypt(secret_key(7), "pw", kdf="scrypt", iterations=1024)
    keystore["crypto"]["kdfparams"].update(kdfparams)
    started = time.monotonic()
    outcome = tool.import_file(write(tmp_path, "k.json", keystore), "pw")
    assert time.monotonic() - started < 5
    assert outcome.returncode == 1
    assert message in outcome.stderr


def test_absurd_pbkdf2_iterations_are_refused_at_once(tool: KeystoreTool, tmp_path: Path) -> None:
    keystore = Account.encrypt(secret_key(8), "pw", kdf="pbkdf2", iterations=1000)
    keystore["crypto"]["kdfparams"]["c"] = 10**12
    outcome = tool.import_file(write(tmp_path, "k.json", keystore), "pw")
    assert outcome.returncode == 1
    assert "pbkdf2 c=1000000000000 exceeds the limit 10000000" in outcome.stderr


def test_truncated_and_garbage_files_are_reported(tool: KeystoreTool, tmp_path: Path) -> None:
    text = json.dumps(Account.encrypt(secret_key(9), "pw", kdf="pbkdf2", iterations=1000))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(text[: len(text) // 2])
    outcome = tool.import_file(truncated, "pw")
    assert outcome.returncode == 1
    assert "truncated" in outcome.stderr

    garbage = tmp_path / "garbage.json"
    garbage.write_text("this is not a keystore")
    outcome = tool.import_file(garbage, "pw")
    assert outcome.returncode == 1
    assert "not valid JSON (syntax error at line 1, column 2)" in outcome.stderr
