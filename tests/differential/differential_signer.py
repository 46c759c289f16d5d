"""The core's `sign_json` example as a long-running process, and how to build it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class CoreSigner:
    """The core's `sign_json` example, kept running: one request line in, one answer line out."""

    def __init__(self, executable: str) -> None:
        self.process = subprocess.Popen(
            [executable],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def ask_line(self, line: bytes) -> dict[str, Any]:
        """Sends one raw request line and returns the parsed answer."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        if self.process.poll() is not None:
            stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            raise AssertionError(f"sign_json exited with {self.process.returncode}: {stderr}")
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            self.process.wait(timeout=10)
            stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            raise AssertionError(f"sign_json died (exit {self.process.returncode}) on {line[:200]!r}: {stderr}")
        parsed = json.loads(answer)
        assert isinstance(parsed, dict), answer
        return parsed

    def ask(self, request: Any) -> dict[str, Any]:
        return self.ask_line(json.dumps(request).encode())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stderr is not None:
            self.process.stderr.close()


def build_sign_json() -> str:
    """Builds the example once and returns the executable's path.

    The dev profile: `cargo test --workspace` (test-rust) has built it already, so
    this is a no-op in `make test` instead of a release build of the whole core."""
    build = subprocess.run(
        [
            "cargo",
            "build",
            "--locked",
            "-p",
            "wallet-core",
            "--example",
            "sign_json",
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
            and message["target"]["name"] == "sign_json"
        ):
            return str(message["executable"])
    raise AssertionError("cargo built no sign_json executable")
