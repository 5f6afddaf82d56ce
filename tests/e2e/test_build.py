"""The layer as ``sam build`` builds it (its makefile target, no Docker): Lambda's wheels, checked
against their hashes, no console scripts; and nothing built is committed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from local.emulator.template import ROOT

LAYER = ROOT / "layers" / "toggl" / "python"


def test_the_layer_build_ships_lambda_wheels_and_no_scripts(tmp_path: Path) -> None:
    # Built from the wheels make venv fetched, with every proxy pointing at a closed loopback port:
    # a request to anywhere (PyPI included) would fail the build.
    nowhere = "http://127.0.0.1:9"
    proxies = dict.fromkeys(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"), nowhere)
    offline = {**os.environ, **proxies, "NO_PROXY": "", "no_proxy": "", "PIP_INDEX_URL": "https://pypi.org/simple"}
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT / "layers" / "toggl"),
            "build-TogglLayer",
            f"ARTIFACTS_DIR={tmp_path}",
            f"WHEELHOUSE={ROOT / '.wheels'}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=offline,
    )
    assert done.returncode == 0, done.stderr
    python = tmp_path / "python"
    shipped = sorted(str(p.relative_to(python)) for p in (python / "toggl_connection").rglob("*.py"))
    source = sorted(str(p.relative_to(LAYER)) for p in (LAYER / "toggl_connection").rglob("*.py"))
    assert shipped == source and "toggl_connection/webhooks/receive.py" in shipped
    # The operator's command is not Lambda code: it stays out of the layer.
    assert not [p for p in shipped if p.endswith(("/cli.py", "/doctor.py"))]
    assert not (python / "bin").exists()  # charset-normalizer's normalizer script, with the builder's shebang
    compiled = [p.name for p in python.rglob("*.so")]
    assert compiled and all("aarch64" in name and "313" in name for name in compiled), compiled
    assert not list(python.rglob("__pycache__"))


def test_no_build_output_is_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    built = [p for p in tracked.splitlines() if ".egg-info/" in p or "__pycache__/" in p or p.endswith(".pyc")]
    assert built == []
