"""flare_wallet's simulated CA (`_simulated_ca.py`) loaded from the source tree, for the
C suite's helper scripts, which run without the wheel installed."""

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load() -> ModuleType:
    """The module `flare_wallet._simulated_ca`, from python/python/flare_wallet."""
    spec = importlib.util.spec_from_file_location(
        "simulated_ca", ROOT / "python/python/flare_wallet/_simulated_ca.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
