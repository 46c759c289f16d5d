"""``python -m flare_wallet``: every subcommand, against a simulator kept in --state-dir,
and the demo end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import KEY, SwtpmProcess, enroll_simulator
from eth_account import Account
from flare_wallet import Vtpm


def cli(
    *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flare_wallet", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def test_every_subcommand(tmp_path: Path) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    address = cli(*state, "create").stdout.strip()
    assert address.startswith("0x")
    assert len(address) == 42
    assert cli(*state, "address").stdout.strip() == address

    tx = {"to": None, "gas": "0xea60", "gasPrice": 1, "nonce": 0, "data": "0x6000"}
    signed = cli(*state, "sign", "-", "--chain-id", "7", stdin=json.dumps(tx)).stdout.strip()
    assert Account.recover_transaction(signed) == address
    tx_file = tmp_path / "tx.json"
    tx_file.write_text(json.dumps(dict(tx, chainId=7)))
    assert cli(*state, "sign", str(tx_file)).stdout.strip() == signed

    evidence = cli(*state, "attest", "--nonce", "0x0102", "--chain-id", "7").stdout
    evidence_file = tmp_path / "evidence.json"
    evidence_file.write_text(evidence)
    # Without a trust anchor nothing verifies (argparse refuses the call).
    assert cli("verify", str(evidence_file), "--nonce", "0x0102", check=False).returncode == 2
    # Enroll the simulated TPM's AK (its EK certified by a local CA) and verify.
    with Vtpm.simulator(tmp_path / "w" / "wallet", tpm_state_dir=tmp_path / "w" / "tpm") as vtpm:
        enroll_simulator(vtpm)
        assert vtpm.trust_roots is not None
        assert vtpm.enrollment is not None
        (tmp_path / "roots.pem").write_bytes(vtpm.trust_roots)
        (tmp_path / "record.bin").write_bytes(vtpm.enrollment)
    anchor = ["--trust-roots", str(tmp_path / "roots.pem")]
    anchor += ["--enrollment", str(tmp_path / "record.bin"), "--accept-unverified-tpm"]
    facts = json.loads(
        cli("verify", str(evidence_file), "--nonce", "0x0102", "--address", address, *anchor).stdout
    )
    assert facts["address"] == address
    assert facts["chain_id"] == 7
    refused = cli("verify", str(evidence_file), "--nonce", "0x0103", *anchor, check=False)
    assert refused.returncode == 1
    assert "challenge" in refused.stderr

    backup = cli(*state, "backup").stdout.strip()
    (tmp_path / "backup.txt").write_text(backup)
    # A new wallet state on the same simulated TPM: move the wallet state away.
    (tmp_path / "w" / "wallet").rename(tmp_path / "old-wallet")
    assert cli(*state, "restore", f"@{tmp_path / 'backup.txt'}").stdout.strip() == address
    assert cli(*state, "address").stdout.strip() == address


def test_errors_are_one_line_and_exit_1(tmp_path: Path) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    no_account = cli(*state, "address", check=False)
    assert no_account.returncode == 1
    assert no_account.stderr.splitlines()[-1].startswith("error: no account")
    cli(*state, "create")
    bad = cli(*state, "sign", '{"gasPrice": 1, "foo": 2}', check=False)
    assert bad.returncode == 1
    assert "unknown transaction field 'foo'" in bad.stderr
    assert "Traceback" not in bad.stderr
    usage = cli("sign", check=False)
    assert usage.returncode == 2


def test_key_never_printed(tmp_path: Path) -> None:
    state = ["--simulator", "--state-dir", str(tmp_path / "w")]
    with_key = cli(*state, "create")
    backup = cli(*state, "backup")
    for out in (with_key, backup):
        assert KEY[2:] not in out.stdout + out.stderr


def test_demo_runs_end_to_end() -> None:
    demo = cli("demo")
    lines = demo.stdout.splitlines()
    assert lines[-1].startswith("done: 5 transactions mined, every one with status 1")
    created = next(line for line in lines if " create " in line).split()[3].rstrip(",")
    restored = next(line for line in lines if " restore " in line).split()[3]
    assert created == restored
    assert "SOFTWARE TPM" in demo.stderr


def test_a_tpm_that_cannot_prove_itself_is_refused_unless_allowed(
    uncertified_swtpm: SwtpmProcess, swtpm: SwtpmProcess, tmp_path: Path
) -> None:
    uncertified = ["--tcti", uncertified_swtpm.tcti, "--state-dir", str(tmp_path / "u")]
    refused = cli(*uncertified, "create", check=False)
    assert refused.returncode == 1
    assert "no EK certificate" in refused.stderr
    assert "--allow-unverified-tpm" in refused.stderr
    assert not (tmp_path / "u" / "account.flwseal").exists()
    created = cli(*uncertified, "--allow-unverified-tpm", "create")
    assert "0x" in created.stdout
    evidence = json.loads(
        cli(*uncertified, "--allow-unverified-tpm", "attest", "--nonce", "ab").stdout
    )
    assert evidence["tpm_identity"] == "unverified TPM"

    # A certified TPM under roots of another CA is refused; under its own, it opens.
    certified = ["--tcti", swtpm.tcti, "--state-dir", str(tmp_path / "c")]
    other_roots = tmp_path / "other-roots.pem"
    with Vtpm.simulator() as simulator:
        roots = simulator.simulator_trust_roots
        assert roots is not None
        other_roots.write_bytes(roots.read_bytes())
    wrong = cli(*certified, "--trust-roots", str(other_roots), "create", check=False)
    assert wrong.returncode == 1
    assert "does not verify against the configured roots" in wrong.stderr
    assert swtpm.roots is not None
    cli(*certified, "--trust-roots", str(swtpm.roots), "create")
