"""Fixtures of the keystore interop suite: the core's `keystore_tool` example and `cast`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAST_IN_TREE = ROOT / "tools/node/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"


def build_keystore_tool() -> str:
    """Builds the example once and returns the executable's path.

    A debug build: it reuses what `cargo test` built, and the KDF crates are
    optimised in debug builds too (the workspace's `profile.dev.package`).
    """
    build = subprocess.run(
        [
            "cargo",
            "build",
            "--locked",
            "-p",
            "wallet-core",
            "--example",
            "keystore_tool",
            "--message-format=json-render-diagnostics",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        check=True,
    )
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if (
            message.get("reason") == "compiler-artifact"
            and message.get("executable")
            and message["target"]["name"] == "keystore_tool"
        ):
            return str(message["executable"])
    raise AssertionError("cargo built no keystore_tool executable")


@dataclass
class Outcome:
    """What one run of a tool left behind."""

    returncode: int
    stdout: str
    stderr: str


class KeystoreTool:
    """The core's keystore, through `core/examples/keystore_tool.rs`."""

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def _run(self, args: list[str], stdin: bytes) -> Outcome:
        done = subprocess.run([self.executable, *args], input=stdin, capture_output=True, timeout=120, check=False)
        return Outcome(done.returncode, done.stdout.decode(), done.stderr.decode())

    def export(self, key: bytes, password: str, kdf: list[str]) -> dict[str, Any]:
        """The keystore the core writes for `key` under `password` (KDF args as the tool takes them)."""
        outcome = self._run(["export", *kdf], key.hex().encode() + b"\n" + password.encode() + b"\n")
        assert outcome.returncode == 0, outcome.stderr
        keystore = json.loads(outcome.stdout)
        assert isinstance(keystore, dict)
        return keystore

    def import_file(self, path: Path, password: str) -> Outcome:
        """Imports the keystore at `path`; on success stdout is the EIP-55 address."""
        return self._run(["import", str(path)], password.encode() + b"\n")


@pytest.fixture(scope="session")
def tool() -> KeystoreTool:
    return KeystoreTool(build_keystore_tool())


class Cast:
    """Foundry's `cast wallet`, passwords passed through the environment, not argv."""

    def __init__(self, executable: str) -> None:
        self.executable = executable

    def _run(self, args: list[str], env: dict[str, str]) -> Outcome:
        done = subprocess.run(
            [self.executable, *args],
            capture_output=True,
            timeout=120,
            check=False,
            env={**os.environ, **env, "NO_COLOR": "1"},
        )
        return Outcome(done.returncode, done.stdout.decode(), done.stderr.decode())

    def decrypt_keystore(self, path: Path, password: str) -> bytes:
        """The private key `cast wallet decrypt-keystore` reads from the file at `path`."""
        outcome = self._run(
            ["wallet", "decrypt-keystore", path.name, "--keystore-dir", str(path.parent)],
            {"CAST_UNSAFE_PASSWORD": password},
        )
        assert outcome.returncode == 0, outcome.stderr
        match = re.search(r"private key is: 0x([0-9a-fA-F]{64})", outcome.stdout)
        assert match, outcome.stdout
        return bytes.fromhex(match.group(1))

    def decrypt_keystore_outcome(self, path: Path, password: str) -> Outcome:
        return self._run(
            ["wallet", "decrypt-keystore", path.name, "--keystore-dir", str(path.parent)],
            {"CAST_UNSAFE_PASSWORD": password},
        )

    def wallet_new(self, directory: Path, name: str, password: str) -> str:
        """Creates a keystore `directory/name` with `cast wallet new`; returns the address cast printed."""
        outcome = self._run(["wallet", "new", str(directory), name], {"CAST_PASSWORD": password})
        assert outcome.returncode == 0, outcome.stderr
        match = re.search(r"Address:\s+(0x[0-9a-fA-F]{40})", outcome.stdout)
        assert match, outcome.stdout
        return match.group(1)


@pytest.fixture(scope="session")
def cast() -> Cast:
    path = os.environ.get("FLARE_WALLET_CAST") or str(CAST_IN_TREE)
    assert os.access(path, os.X_OK), f"cast not found at {path}: run `make deps-node` (or set FLARE_WALLET_CAST)"
    return Cast(path)
