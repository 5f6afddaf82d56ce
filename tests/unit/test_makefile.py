"""The Makefile read as text: what every target exports, and what make clean removes."""

from __future__ import annotations

import re
from pathlib import Path

from local.emulator.template import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def exported() -> dict[str, str]:
    return dict(re.findall(r"^export ([A-Z_]+) := (.*)$", MAKEFILE, flags=re.MULTILINE))


def test_sam_cli_telemetry_is_off_for_every_target() -> None:
    assert exported().get("SAM_CLI_TELEMETRY") == "0"


def test_make_clean_removes_what_the_makefile_creates(tmp_path: Path) -> None:
    clean = next(line for line in MAKEFILE.splitlines() if line.startswith("\trm -rf"))
    removed = set(clean.split()[2:])
    made = {
        ".aws-sam",
        ".local",
        ".bench",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".coverage",
        ".hypothesis",
        "$(SAM_VENV)",
        "$(CHECKOV_VENV)",
    }
    assert made <= removed, made - removed
