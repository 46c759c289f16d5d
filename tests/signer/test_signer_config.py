"""`--check-config`: the configuration is checked without the TPM; every problem is named
and the exit code is 2."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import Signer, signer_binary


def _check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [signer_binary(), "--check-config", "--tpm", "swtpm:path=/nonexistent", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_check_config(start_signer: Callable[..., Signer], tmp_path: Path) -> None:
    signer = start_signer()
    account = str(signer.accounts[0])
    ipc = str(tmp_path / "check.ipc")
    good = _check("--account", account, "--ipc", ipc)
    assert good.returncode == 0, good.stderr
    assert "configuration ok" in good.stdout

    token = tmp_path / "token"
    token.write_text("a-token-that-is-long-enough")
    token.chmod(0o644)
    http = ["--http-listen", "127.0.0.1:1", "--http-token-file", str(token)]
    for arguments, problem in [
        (["--account", str(tmp_path / "missing")], "No such file"),
        (["--account", str(tmp_path)], "mode"),
        (["--account", account, *http], "readable by others"),
        (["--account", account, "--http-listen", "0.0.0.0:1"], "client certificates"),
        (["--account", account, "--metrics-listen", "0.0.0.0:1"], "loopback"),
        (["--account", account, "--upstream", "https://node.invalid"], "http://"),
        (["--account", account, "--ipc-group", "no-such-group-here"], "no such group"),
    ]:
        tmp_path.chmod(0o755)
        checked = _check(*arguments, "--ipc", ipc)
        assert checked.returncode == 2, (arguments, checked.stdout)
        assert problem in checked.stderr, (arguments, checked.stderr)
