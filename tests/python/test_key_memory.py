"""The cached key's memory and the host process, seen from /proc in a process of its own.

With a cached key the process has locked memory (``VmLck`` > 0) and a locked mapping
marked ``dd`` (``MADV_DONTDUMP``) in ``/proc/self/smaps``; ``harden_process`` (on by
default) makes the process non-dumpable, ``harden_process=False`` leaves it as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys
from flare_wallet import SecureWalletManager, Vtpm
from flare_wallet._native import process_is_dumpable


def locked_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmLck:"):
            return int(line.split()[1])
    raise AssertionError("no VmLck")


def locked_dontdump():
    flags = [l.split()[1:] for l in open("/proc/self/smaps") if l.startswith("VmFlags:")]
    return sum(1 for f in flags if "lo" in f and "dd" in f)


def snapshot():
    return {"vmlck_kb": locked_kb(), "lo_dd": locked_dontdump(), "dumpable": process_is_dumpable()}


harden = sys.argv[2] == "harden"
report = {"before": snapshot()}
with Vtpm.simulator(sys.argv[1]) as vtpm:
    manager = SecureWalletManager(None, vtpm, key_mode="cached", harden_process=harden)
    manager.create_account()
    manager.sign_message("hello")
    report["protection"] = vtpm._native.cached_key_protection
    report["cached"] = snapshot()
    manager.close()
print(json.dumps(report))
"""


def run_child(tmp_path: Path, mode: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / mode), mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cached_key_is_locked_left_out_of_dumps_and_the_process_hardened(
    tmp_path: Path,
) -> None:
    report = run_child(tmp_path, "harden")
    assert report["before"] == {"vmlck_kb": 0, "lo_dd": 0, "dumpable": True}
    assert report["protection"] == {"locked": True, "dont_dump": True}
    assert report["cached"]["vmlck_kb"] > 0
    assert report["cached"]["lo_dd"] == 1
    assert report["cached"]["dumpable"] is False


def test_harden_process_false_leaves_the_process_dumpable(tmp_path: Path) -> None:
    report = run_child(tmp_path, "keep")
    assert report["cached"]["dumpable"] is True
    # The key's page is protected either way.
    assert report["cached"]["lo_dd"] == 1
