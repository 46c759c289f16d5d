"""`--check-config`: the configuration is checked without the TPM; every problem is named
and the exit code is 2."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import Signer, Swtpm, certified_template, signer_binary


def _check(*arguments: str, roots: bool = True) -> subprocess.CompletedProcess[str]:
    trust = ["--trust-roots", str(certified_template() / "roots.pem")] if roots else []
    return subprocess.run(
        [signer_binary(), "--check-config", "--tpm", "swtpm:path=/nonexistent", *trust, *arguments],
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
    assert "trust roots:" in good.stdout
    assert "swtpm-localca" in good.stdout

    # No silent fallback: without roots the configuration is refused, unless an
    # unverified TPM is allowed explicitly (and then said so).
    no_roots = _check("--account", account, "--ipc", ipc, roots=False)
    assert no_roots.returncode == 2
    assert "no TPM trust roots" in no_roots.stderr
    allowed = _check("--account", account, "--ipc", ipc, "--allow-unverified-tpm", roots=False)
    assert allowed.returncode == 0, allowed.stderr
    assert "INSECURE" in allowed.stdout
    unreadable = _check(
        "--account", account, "--ipc", ipc, "--trust-roots", str(tmp_path / "none"), roots=False
    )
    assert unreadable.returncode == 2
    assert "unreadable" in unreadable.stderr

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


def test_a_tpm_without_ek_certificate_stops_the_service_unless_allowed(tmp_path: Path) -> None:
    tpm = Swtpm(tmp_path / "swtpm", certified=False)
    try:
        account = tmp_path / "account"
        arguments = [
            signer_binary(), "--tpm", tpm.tcti, "--account", str(account), "--create-missing",
            "--ipc", str(tmp_path / "signer.ipc"),
            "--trust-roots", str(certified_template() / "roots.pem"),
        ]  # fmt: skip
        refused = subprocess.run(arguments, capture_output=True, text=True, timeout=60, check=False)
        assert refused.returncode != 0
        assert "no EK certificate" in refused.stderr, refused.stderr
        assert not (account / "account.flwseal").exists()
        tpm.stop()
        tpm.start()
        (tmp_path / "allowed").mkdir()
        signer = Signer(
            tmp_path / "allowed", tpm, accounts=[account], extra=["--allow-unverified-tpm"]
        )
        try:
            assert "allow-unverified-tpm" in signer.log.read_text()
            assert (account / "account.flwseal").exists()
        finally:
            signer.kill()
    finally:
        tpm.stop()
