"""Vtpm: the FlareTrade methods, the simulator's life cycle, and clear errors."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import KEY, SwtpmProcess
from eth_account import Account
from flare_wallet import KeyExportForbidden, TpmError, Vtpm, WalletError


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; /proc says so.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "\nState:\tZ" not in status.read_text()


def test_store_key_seals_the_key_and_retrieve_key_refuses(vtpm: Vtpm) -> None:
    assert vtpm.store_key(KEY[2:]) is True  # hex without 0x, as FlareTrade passes it
    assert vtpm.address == Account.from_key(KEY).address
    with pytest.raises(KeyExportForbidden, match="never leaves the signing core"):
        vtpm.retrieve_key()
    # No file of the state directory (the sealed account among them) holds the key in clear.
    files = [p for p in vtpm.state_dir.iterdir() if p.is_file()]
    assert files
    for path in files:
        assert bytes.fromhex(KEY[2:]) not in path.read_bytes()


def test_store_key_refuses_garbage_without_echoing_it(vtpm: Vtpm) -> None:
    for bad in ["0x1234", "zz" * 32, b"\x01" * 31, "00" * 32]:
        with pytest.raises(WalletError) as raised:
            vtpm.store_key(bad)  # type: ignore[arg-type]
        if isinstance(bad, str) and len(bad) > 8:
            assert bad not in str(raised.value)


def test_verify_attestation(vtpm: Vtpm) -> None:
    assert vtpm.verify_attestation() is False  # no account yet: nothing to attest
    vtpm.store_key(KEY)
    assert vtpm.verify_attestation() is True
    # Without an enrollment there is no trust anchor: no trust on first use.
    with Vtpm.simulator() as unenrolled:
        unenrolled.store_key(KEY)
        assert unenrolled.enrollment is None
        assert unenrolled.verify_attestation() is False


def test_encrypt_and_decrypt_keep_the_type(vtpm: Vtpm) -> None:
    text = "a FlareTrade secret: ünïcode too"
    sealed_text = vtpm.encrypt_data(text)
    assert isinstance(sealed_text, str)
    assert text not in sealed_text
    assert vtpm.decrypt_data(sealed_text) == text

    data = bytes(range(256)) * 20
    sealed = vtpm.encrypt_data(data)
    assert isinstance(sealed, bytes)
    assert data[:64] not in sealed
    assert vtpm.decrypt_data(sealed) == data
    assert vtpm.encrypt_data(data) != sealed  # a fresh data key and IV each time


def test_altered_sealed_data_is_refused(vtpm: Vtpm) -> None:
    sealed = bytearray(vtpm.encrypt_data(b"backup of something"))
    sealed[-40] ^= 1
    with pytest.raises(WalletError, match="does not authenticate"):
        vtpm.decrypt_data(bytes(sealed))
    with pytest.raises(WalletError, match="not data sealed"):
        vtpm.decrypt_data(b"not a blob at all")
    with pytest.raises(WalletError, match="not base64"):
        vtpm.decrypt_data("%%%")


def test_another_tpm_cannot_decrypt() -> None:
    with Vtpm.simulator() as first, Vtpm.simulator() as second:
        sealed = first.encrypt_data("for the first TPM only")
        with pytest.raises(TpmError, match="another TPM"):
            second.decrypt_data(sealed)


def test_the_simulator_stops_on_close_and_at_context_exit() -> None:
    vtpm = Vtpm.simulator()
    pid = vtpm.simulator_pid
    assert pid is not None
    assert pid_alive(pid)
    vtpm.close()
    assert not pid_alive(pid)
    assert vtpm.closed
    vtpm.close()  # twice is fine
    with pytest.raises(WalletError, match="closed"):
        vtpm.encrypt_data(b"x")

    with Vtpm.simulator() as vtpm:
        pid = vtpm.simulator_pid
        assert pid is not None
        assert pid_alive(pid)
    assert not pid_alive(pid)


def test_the_simulator_stops_at_interpreter_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from flare_wallet import Vtpm
        vtpm = Vtpm.simulator()
        print(vtpm.simulator_pid, flush=True)
        # exits without closing
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    pid = int(out.stdout.strip())
    assert not pid_alive(pid)
    assert "SOFTWARE TPM" in out.stderr  # the warning was logged


def test_missing_swtpm_names_the_debian_package(tmp_path: Path) -> None:
    script = "from flare_wallet import Vtpm\nVtpm.simulator()\n"
    env = dict(os.environ, PATH=str(tmp_path))  # no swtpm on this PATH
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode != 0
    assert "TpmError" in out.stderr
    assert "Debian package `swtpm`" in out.stderr


def test_no_default_tpm_is_a_clear_error(tmp_path: Path) -> None:
    if Path("/dev/tpmrm0").exists():
        pytest.fail("this machine has a TPM device: the test needs one without")
    with pytest.raises(TpmError) as raised:
        Vtpm(state_dir=tmp_path / "state")
    message = str(raised.value)
    assert "FLARE_WALLET_TPM" in message
    assert "/dev/tpmrm0" in message
    assert "Vtpm.simulator()" in message


def test_vtpm_by_tcti_and_environment(
    swtpm: SwtpmProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "a") as vtpm:
        assert vtpm.tcti == swtpm.tcti
        assert not vtpm.is_simulator
        vtpm.store_key(KEY)
    monkeypatch.setenv("FLARE_WALLET_TPM", swtpm.tcti)
    monkeypatch.setenv("FLARE_WALLET_STATE_DIR", str(tmp_path / "a"))
    with Vtpm() as vtpm:
        assert vtpm.state_dir == tmp_path / "a"
        assert vtpm.address is None  # not loaded until asked
    with pytest.raises(TpmError, match="invalid TPM connection string"):
        Vtpm("carrier-pigeon:coop=1", state_dir=tmp_path / "b")


def test_repr_shows_no_secret(vtpm: Vtpm) -> None:
    vtpm.store_key(KEY)
    text = repr(vtpm) + repr(vtpm._native)
    assert KEY[2:] not in text
    assert base64.b64encode(bytes.fromhex(KEY[2:])).decode() not in text
    assert "simulator" in repr(vtpm)


# ---------------------------------------------------------------- no silent fallback


def test_a_tpm_without_ek_certificate_is_refused_unless_allowed_and_then_reported(
    uncertified_swtpm: SwtpmProcess, tmp_path: Path
) -> None:
    from conftest import enroll_simulator
    from flare_wallet import AttestationError, SecureWalletManager, verify_attestation

    state = tmp_path / "wallet"
    with pytest.raises(TpmError, match=r"no EK certificate.*allow_unverified_tpm"):
        Vtpm(uncertified_swtpm.tcti, state_dir=state)
    # Roots of a real CA do not help a TPM that has no certificate at all.
    # The simulator's roots file lives as long as the simulator: keep its PEM bytes.
    with Vtpm.simulator() as certified:
        assert certified.tpm_verified
        assert certified.simulator_trust_roots is not None
        roots = certified.simulator_trust_roots.read_bytes()
    with pytest.raises(TpmError, match="no EK certificate"):
        Vtpm(uncertified_swtpm.tcti, state_dir=state, trust_roots=roots)

    with (
        Vtpm(uncertified_swtpm.tcti, state_dir=state, allow_unverified_tpm=True) as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        assert vtpm.tpm_verified is False
        manager.import_private_key(KEY)
        enroll_simulator(vtpm)
        nonce = os.urandom(32)
        evidence = manager.attest(nonce)
        assert evidence["tpm_identity"] == "unverified TPM"
        anchor = {"trust_roots": vtpm.trust_roots, "enrollment": vtpm.enrollment}
        with pytest.raises(AttestationError, match="unverified TPM"):
            verify_attestation(evidence, nonce, **anchor)
        facts = verify_attestation(evidence, nonce, accept_unverified_tpm=True, **anchor)
        assert facts["tpm_verified"] is False
        assert facts["tpm_identity"] == "unverified TPM"
        # The readable field cannot claim otherwise than the signed evidence.
        with pytest.raises(AttestationError, match="tpm_identity"):
            verify_attestation(
                {**evidence, "tpm_identity": "verified TPM"},
                nonce,
                accept_unverified_tpm=True,
                **anchor,
            )


def test_a_tpm_certified_by_another_ca_is_refused(
    swtpm: SwtpmProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verified under its own CA ($FLARE_WALLET_TPM_ROOTS, set by the fixture)...
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "own") as vtpm:
        assert vtpm.tpm_verified
    # ...and given as a parameter.
    assert swtpm.roots is not None
    monkeypatch.delenv("FLARE_WALLET_TPM_ROOTS")
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "param", trust_roots=swtpm.roots) as vtpm:
        assert vtpm.tpm_verified
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "pem", trust_roots=swtpm.roots.read_bytes()) as vtpm:
        assert vtpm.tpm_verified
    # No roots at all: refused, saying how to fix it.
    with pytest.raises(TpmError, match=r"does not verify.*--trust-roots"):
        Vtpm(swtpm.tcti, state_dir=tmp_path / "none")
    # The simulator's CA is another CA.
    with Vtpm.simulator() as other:
        assert other.simulator_trust_roots is not None
        other_roots = other.simulator_trust_roots.read_bytes()
    with pytest.raises(TpmError, match="does not verify against the configured roots"):
        Vtpm(swtpm.tcti, state_dir=tmp_path / "other", trust_roots=other_roots)
    with pytest.raises(WalletError, match="trust_roots"):
        Vtpm(swtpm.tcti, state_dir=tmp_path / "bad", trust_roots=tmp_path / "missing.pem")


def test_the_manager_passes_trust_to_the_tpm_it_opens(
    uncertified_swtpm: SwtpmProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flare_wallet import SecureWalletManager

    monkeypatch.setenv("FLARE_WALLET_TPM", uncertified_swtpm.tcti)
    monkeypatch.setenv("FLARE_WALLET_STATE_DIR", str(tmp_path / "wallet"))
    with pytest.raises(TpmError, match="no EK certificate"):
        SecureWalletManager(None)
    with SecureWalletManager(None, allow_unverified_tpm=True) as manager:
        assert manager.vtpm.tpm_verified is False
    with Vtpm.simulator() as vtpm, pytest.raises(WalletError, match="pass them to Vtpm"):
        SecureWalletManager(None, vtpm, allow_unverified_tpm=True)


def test_every_ek_certificate_is_verified_on_its_own(vtpm: Vtpm) -> None:
    from flare_wallet._simulated_ca import SimulatedEkCa
    from gce_platform import GcePlatformDouble

    roots = vtpm.simulator_trust_roots
    assert roots is not None
    # swtpm_setup certifies the L-1 RSA 2048 and the H-3 ECC P-384 EK.
    checks = vtpm.endorsement_keys(roots)
    assert [(c["template"], c["nv_index"], c["verified"], c["error"]) for c in checks] == [
        ("L-1 RSA 2048", 0x01C00002, True, None),
        ("H-3 ECC NIST P-384", 0x01C00016, True, None),
    ]
    # Names: nameAlg SHA-256 (0x000b) for L-1, SHA-384 (0x000c) for H-3.
    assert checks[0]["ek_name"][:2] == b"\x00\x0b"
    assert len(checks[0]["ek_name"]) == 34
    assert checks[1]["ek_name"][:2] == b"\x00\x0c"
    assert len(checks[1]["ek_name"]) == 50
    assert vtpm.endorsement_keys(roots.read_bytes()) == checks
    # Another vendor's root: each certificate refused, saying why.
    foreign = vtpm.endorsement_keys(SimulatedEkCa("another EK CA").root_pem)
    assert [c["verified"] for c in foreign] == [False, False]
    assert all("does not verify against the configured roots" in c["error"] for c in foreign)
    assert all(c["ek_name"] is None for c in foreign)

    # A certificate at the H-1 index (RSA 2048) over another key (a P-256 key of
    # another template), from a CA the verifier is given: it chains, and is refused
    # because it does not certify the TPM's H-1 EK; the others still verify.
    ca = SimulatedEkCa("foreign EK CA")
    platform = GcePlatformDouble(vtpm.tcti, ca)
    platform.write(0x01C00012, ca.certify_ek(platform.key_of(platform.template(0x33))))
    checks = vtpm.endorsement_keys(roots.read_bytes() + ca.root_pem)
    outcomes = {c["template"]: (c["nv_index"], c["verified"]) for c in checks}
    assert outcomes == {
        "L-1 RSA 2048": (0x01C00002, True),
        "H-1 RSA 2048": (0x01C00012, False),
        "H-3 ECC NIST P-384": (0x01C00016, True),
    }
    (h1,) = [c for c in checks if c["template"] == "H-1 RSA 2048"]
    assert "not the key its EK certificate certifies" in h1["error"]
    # Without that CA it does not even chain.
    (h1,) = [c for c in vtpm.endorsement_keys(roots) if c["template"] == "H-1 RSA 2048"]
    assert "does not verify against the configured roots" in h1["error"]
    with pytest.raises(WalletError, match="trust_roots"):
        vtpm.endorsement_keys(b"not pem")
