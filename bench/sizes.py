"""Deployment sizes: the layer as ``sam build`` makes it (wheels for Lambda arm64 / Python 3.13),
zipped, and each function's code zipped."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from local.emulator import template


def _zip_size(root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root))
    return len(buffer.getvalue())


def measure() -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as out:
        layer = template.ROOT / "layers" / "toggl"
        built = subprocess.run(
            ["make", "--no-print-directory", "-C", str(layer), "build-TogglLayer"],
            env={**os.environ, "ARTIFACTS_DIR": out},
            capture_output=True,
            text=True,
        )
        if built.returncode == 0:
            result["layer_zip_bytes"] = _zip_size(Path(out))
        else:
            result["layer_zip_bytes"] = None
            result["layer_build_error"] = built.stderr.strip().splitlines()[-1:] or ["failed"]
    sizes = {}
    for fn in template.functions():
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                ["make", "--no-print-directory", "-C", str(fn.code_dir), f"build-{fn.logical_id}"],
                env={**os.environ, "ARTIFACTS_DIR": out},
                check=True,
                capture_output=True,
            )
            sizes[fn.logical_id] = _zip_size(Path(out))
    result["function_zip_bytes"] = sizes
    return result
