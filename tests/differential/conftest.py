"""Fixtures of the differential suite: the core's signer process, the seed, cast."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from differential_signer import ROOT, CoreSigner, build_sign_json

CAST_IN_TREE = ROOT / "tools/node/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"


@pytest.fixture(scope="session")
def core_signer() -> Iterator[CoreSigner]:
    signer = CoreSigner(build_sign_json())
    yield signer
    signer.close()
    assert signer.process.returncode == 0, f"sign_json exited with {signer.process.returncode}"


def _session_seed() -> int:
    given = os.environ.get("FLARE_WALLET_DIFF_SEED")
    return int(given, 0) if given else random.SystemRandom().randrange(2**32)


# `FLARE_WALLET_DIFF_SEED` replays a run; otherwise each run draws a new seed.
SEED = _session_seed()


def pytest_report_header() -> str:
    return f"differential seed: {SEED} (replay with FLARE_WALLET_DIFF_SEED={SEED})"


@pytest.fixture(scope="session")
def seed() -> int:
    return SEED


@pytest.fixture(scope="session")
def cast() -> str:
    path = os.environ.get("FLARE_WALLET_CAST") or str(CAST_IN_TREE)
    assert os.access(path, os.X_OK), f"cast not found at {path}: run `make deps-node` (or set FLARE_WALLET_CAST)"
    return path
