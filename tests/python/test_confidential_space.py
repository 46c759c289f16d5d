"""Confidential Space tokens: ``Vtpm.get_token`` against a teeserver double on a Unix
socket, ``AttestationTokenValidator`` on the tokens it issues (good and bad), the
simulated tokens, and upstream's attestation route on swtpm and anvil, twice in a row
on the same state directory."""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import SwtpmProcess, enroll_simulator
from flare_wallet import (
    AttestationTokenValidator,
    AttestationValidator,
    SecureWalletManager,
    TokenValidationError,
    Vtpm,
    VtpmAttestationError,
    wallet_nonces,
)
from teeserver_double import IMAGE_DIGEST, TeeServerDouble

AUDIENCE = "https://relying-party.test"


@pytest.fixture(scope="session")
def double_server() -> Iterator[TeeServerDouble]:
    # Short path: a Unix socket path has a length limit that pytest's tmp dirs can pass.
    with tempfile.TemporaryDirectory(prefix="tsd-") as directory:
        server = TeeServerDouble(Path(directory))
        yield server
        server.close()


@pytest.fixture
def double(double_server: TeeServerDouble) -> TeeServerDouble:
    """The session's double with its knobs back at a good token."""
    double_server.dbgstat = "disabled-since-boot"
    double_server.lifetime_seconds = 3600
    double_server.issued_at_offset = 0
    double_server.tamper_signature = False
    double_server.chain_to_other_root = False
    double_server.answer_delay_seconds = 0.0
    double_server.requests.clear()
    return double_server


@pytest.fixture
def token_vtpm(swtpm: SwtpmProcess, tmp_path: Path, double: TeeServerDouble) -> Iterator[Vtpm]:
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "wallet", unix_socket_path=double.socket_path) as v:
        yield v


def oidc_validator(double: TeeServerDouble, **options: Any) -> AttestationTokenValidator:
    return AttestationTokenValidator(AUDIENCE, issuer=double.issuer_url, **options)


def pki_validator(double: TeeServerDouble, **options: Any) -> AttestationTokenValidator:
    return AttestationTokenValidator(
        AUDIENCE, issuer=double.issuer_url, pki_root_pem=double.ca.root_pem, **options
    )


NONCES = ["relying-party-challenge-0001", "second-nonce-of-the-test"]


# ---------------------------------------------------------------- get_token


def test_get_token_posts_the_request_and_returns_the_jwt(
    token_vtpm: Vtpm, double: TeeServerDouble
) -> None:
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE, token_type="OIDC")
    assert double.requests == [{"audience": AUDIENCE, "token_type": "OIDC", "nonces": NONCES}]
    claims = oidc_validator(double, expected_nonces=NONCES).validate_token(token)
    assert claims["aud"] == AUDIENCE
    assert claims["eat_nonce"] == NONCES


def test_get_token_defaults_are_upstreams(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    token_vtpm.get_token(["only-one-nonce-here"])
    assert double.requests[-1]["audience"] == "https://sts.google.com"
    assert double.requests[-1]["token_type"] == "OIDC"


def test_get_token_over_tcp_when_given_only_a_url(
    swtpm: SwtpmProcess, tmp_path: Path, double: TeeServerDouble
) -> None:
    with Vtpm(swtpm.tcti, state_dir=tmp_path / "wallet", url=double.issuer_url) as vtpm:
        assert vtpm.unix_socket_path is None
        token = vtpm.get_token(NONCES, audience=AUDIENCE, token_type="PKI")
    assert pki_validator(double, expected_nonces=NONCES).validate_token(token)["aud"] == AUDIENCE


@pytest.mark.parametrize("nonce", ["123456789", "x" * 75, "é" * 38])
def test_nonce_length_is_checked_before_anything_else(tmp_path: Path, nonce: str) -> None:
    # The socket does not exist: a length error proves the check came first.
    with Vtpm.simulator() as vtpm:
        vtpm.unix_socket_path = str(tmp_path / "absent.sock")
        with pytest.raises(VtpmAttestationError, match=r"between 10 and 74 bytes"):
            vtpm.get_token([nonce])


def test_socket_errors_are_wrapped(tmp_path: Path) -> None:
    with Vtpm.simulator() as vtpm:
        vtpm.unix_socket_path = str(tmp_path / "absent.sock")
        with pytest.raises(VtpmAttestationError, match="did not answer"):
            vtpm.get_token(NONCES)


def test_a_silent_teeserver_times_out(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    double.answer_delay_seconds = 1.5
    token_vtpm.timeout = 0.3
    with pytest.raises(VtpmAttestationError, match="timed out"):
        token_vtpm.get_token(NONCES)


def test_the_token_is_never_logged(
    token_vtpm: Vtpm, double: TeeServerDouble, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        token = token_vtpm.get_token(NONCES, audience=AUDIENCE)
    signature = token.split(".")[2]
    assert signature not in caplog.text
    assert token.split(".")[1] not in caplog.text


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("token_type", ["OIDC", "PKI"])
def test_good_token_validates(token_vtpm: Vtpm, double: TeeServerDouble, token_type: str) -> None:
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE, token_type=token_type)
    validator = (oidc_validator if token_type == "OIDC" else pki_validator)(
        double, image_digest=IMAGE_DIGEST
    )
    claims = validator.validate_token(token, nonces=NONCES)
    assert claims["swname"] == "CONFIDENTIAL_SPACE"


@pytest.mark.parametrize("token_type", ["OIDC", "PKI"])
def test_wrong_audience_is_refused(
    token_vtpm: Vtpm, double: TeeServerDouble, token_type: str
) -> None:
    token = token_vtpm.get_token(
        NONCES, audience="https://someone-else.test", token_type=token_type
    )
    validator = (oidc_validator if token_type == "OIDC" else pki_validator)(double)
    with pytest.raises(TokenValidationError, match="audience"):
        validator.validate_token(token)


def test_expired_token_is_refused(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    double.issued_at_offset = -7200
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE)
    with pytest.raises(TokenValidationError, match="expired"):
        oidc_validator(double).validate_token(token)


def test_nonce_mismatch_is_refused(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE)
    with pytest.raises(TokenValidationError, match="eat_nonce"):
        oidc_validator(double).validate_token(token, nonces=["a-challenge-never-sent"])


def test_debug_image_is_refused_unless_allowed(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    double.dbgstat = "enabled"
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE)
    with pytest.raises(TokenValidationError, match="dbgstat"):
        oidc_validator(double).validate_token(token)
    assert oidc_validator(double, allow_debug=True).validate_token(token)["dbgstat"] == "enabled"


@pytest.mark.parametrize("token_type", ["OIDC", "PKI"])
def test_bad_signature_is_refused(
    token_vtpm: Vtpm, double: TeeServerDouble, token_type: str
) -> None:
    double.tamper_signature = True
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE, token_type=token_type)
    validator = (oidc_validator if token_type == "OIDC" else pki_validator)(double)
    with pytest.raises(TokenValidationError, match="signature"):
        validator.validate_token(token)


def test_x5c_chain_to_another_root_is_refused(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    double.chain_to_other_root = True
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE, token_type="PKI")
    with pytest.raises(TokenValidationError, match="pinned root"):
        pki_validator(double).validate_token(token)


def test_pinned_image_digest_must_match(token_vtpm: Vtpm, double: TeeServerDouble) -> None:
    token = token_vtpm.get_token(NONCES, audience=AUDIENCE)
    with pytest.raises(TokenValidationError, match="image_digest"):
        oidc_validator(double, image_digest="sha256:" + "cd" * 32).validate_token(token)


def test_the_jwks_is_cached_and_fetched_again_after_a_rotation(
    token_vtpm: Vtpm, double: TeeServerDouble
) -> None:
    validator = oidc_validator(double)
    fetches = double.jwks_fetches
    for _ in range(2):
        validator.validate_token(token_vtpm.get_token(NONCES, audience=AUDIENCE))
    assert double.jwks_fetches == fetches + 1
    double.rotate_oidc_key()
    claims = validator.validate_token(token_vtpm.get_token(NONCES, audience=AUDIENCE))
    assert claims["aud"] == AUDIENCE
    assert double.jwks_fetches == fetches + 2


def test_only_rs256_is_accepted(double: TeeServerDouble) -> None:
    claims = double.claims(AUDIENCE, NONCES)
    forged = jwt.encode(claims, "a shared secret of thirty-two bytes!", algorithm="HS256")
    with pytest.raises(TokenValidationError, match="only RS256"):
        oidc_validator(double).validate_token(forged)


def test_the_audience_is_never_skipped() -> None:
    with pytest.raises(TokenValidationError, match="audience is required"):
        AttestationTokenValidator("")


def test_flaretrade_attestation_validator_reports_errors(
    token_vtpm: Vtpm, double: TeeServerDouble
) -> None:
    validator = AttestationValidator(audience=AUDIENCE, validator=oidc_validator(double))
    good = validator.validate_token(token_vtpm.get_token(NONCES, audience=AUDIENCE))
    assert good["valid"] is True
    assert good["errors"] == []
    double.dbgstat = "enabled"
    bad = validator.validate_token(token_vtpm.get_token(NONCES, audience=AUDIENCE))
    assert bad["valid"] is False
    assert "dbgstat" in bad["errors"][0]


# ---------------------------------------------------------------- simulation


def test_simulated_tokens_say_so_and_production_refuses_them(tmp_path: Path) -> None:
    # No TPM configured (the autouse fixture clears $FLARE_WALLET_TPM): a swtpm starts.
    with Vtpm(simulate=True, state_dir=tmp_path / "wallet") as vtpm:
        assert vtpm.is_simulator
        first = vtpm.get_token(NONCES, audience=AUDIENCE)
        other = vtpm.get_token(["another-challenge-0002"], audience=AUDIENCE)
    # Made for each request, not a fixed string, and signed by the simulation key.
    assert first != other
    simulation_key = jwt.PyJWKSet.from_dict(Vtpm.simulation_jwks()).keys[0].key
    claims = jwt.decode(first, simulation_key, algorithms=["RS256"], audience=AUDIENCE)
    assert (
        jwt.decode(other, simulation_key, algorithms=["RS256"], audience=AUDIENCE)["eat_nonce"]
        == "another-challenge-0002"
    )
    assert claims["simulated"] is True
    assert claims["dbgstat"] == "enabled"
    assert claims["hwmodel"] == "FLARE_WALLET_SIMULATION_NO_HARDWARE"
    assert claims["eat_nonce"] == NONCES
    # A production validator refuses it (another issuer), even given the simulation key.
    production = AttestationTokenValidator(AUDIENCE, jwks=Vtpm.simulation_jwks())
    with pytest.raises(TokenValidationError, match="issuer"):
        production.validate_token(first)
    # The simulation validator accepts only this process's simulated tokens.
    assert AttestationValidator(simulate=True, audience=AUDIENCE).validate_token(first)["valid"]
    assert not AttestationValidator(simulate=True).validate_token(first)["valid"]


def test_simulate_starts_a_swtpm_with_its_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        Vtpm(simulate=True) as vtpm,
        SecureWalletManager(None, vtpm) as manager,
    ):
        address = manager.create_account()
        enroll_simulator(vtpm)
        assert manager.validate_wallet_state()
    assert address.startswith("0x")
    assert "SOFTWARE TPM" in caplog.text
    assert "SIMULATED" in caplog.text


# ---------------------------------------------------------------- upstream's route


class AttestationRoute:
    """Upstream's chat route, reduced to its attestation turns: the user asks, the
    flag is set, the next message is the challenge the token must carry."""

    def __init__(self, attestation: Vtpm, manager: SecureWalletManager):
        self.attestation = attestation
        self.manager = manager

    def handle(self, message: str) -> dict[str, str]:
        if self.attestation.attestation_requested:
            token = self.attestation.get_token(
                wallet_nonces(self.manager.address or "", message), audience=AUDIENCE
            )
            self.attestation.attestation_requested = False
            return {"response": token}
        if message == "please attest":
            self.attestation.attestation_requested = True
            return {"response": "Send a challenge of 10 to 64 characters."}
        return {"response": "conversation"}


def test_upstream_attestation_route_runs_twice_on_the_same_state(
    swtpm: SwtpmProcess, tmp_path: Path, double: TeeServerDouble, web3: Any
) -> None:
    addresses = []
    for _run in range(2):
        with (
            Vtpm(
                swtpm.tcti, state_dir=tmp_path / "wallet", unix_socket_path=double.socket_path
            ) as vtpm,
            SecureWalletManager(web3, vtpm, account="load_or_create") as manager,
        ):
            route = AttestationRoute(vtpm, manager)
            assert route.handle("please attest")["response"].startswith("Send")
            challenge = secrets.token_hex(16)
            token = route.handle(challenge)["response"]
            assert not vtpm.attestation_requested
            expected = wallet_nonces(manager.create_account(), challenge)
            claims = oidc_validator(double, expected_nonces=expected).validate_token(token)
            assert f"eth-address:{manager.address}" in claims["eat_nonce"]
            # The TPM side of the same wallet attests on the node's chain too.
            enroll_simulator(vtpm)
            assert manager.validate_wallet_state()
            addresses.append(manager.address)
    assert addresses[0] == addresses[1]
