"""``make layer-hashes``: rewrites ``layers/toggl/requirements.txt`` with the sha256 of every file
pip may install for each pinned package (from PyPI's JSON simple index): the Lambda wheel
(manylinux aarch64, CPython 3.13), the wheels of the machines that develop the connection, the
pure-Python wheel and the source archive. The layer build and ``make venv`` install with
``--require-hashes``: exactly what was reviewed, or nothing."""

from __future__ import annotations

import json
import re
import urllib.request

from local.emulator.template import ROOT

REQUIREMENTS = ROOT / "layers" / "toggl" / "requirements.txt"
HEADER = """\
# What the shared layer ships, every package pinned and hash-checked (pip --require-hashes), installed
# with --no-deps so the layer holds exactly this list. boto3, botocore and s3transfer are left out: the
# Lambda runtime has them, and a second botocore in the layer would shadow the runtime's (30 MB, possibly
# mismatched). Each package lists its Lambda wheel (manylinux aarch64, CPython 3.13) and the files of
# the machines that develop and test the connection. After changing a pin: make layer-hashes.
"""
# Which files of a package with platform wheels to trust: CPython 3.13 on Linux (glibc) and macOS,
# the pure-Python wheel and the source archive.
WANTED = re.compile(r"cp313-cp313-(manylinux[^-]*_(aarch64|x86_64)|macosx[^-]*)\.whl$|py3-none-any\.whl$|\.tar\.gz$")


def _files(name: str, version: str) -> list[tuple[str, str]]:
    project = re.sub(r"[-_.]+", "-", name).lower()
    request = urllib.request.Request(
        f"https://pypi.org/simple/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - a fixed https URL
        index = json.load(answer)
    stem = re.escape(re.sub(r"[-.]+", "_", name).lower() + "-" + version)
    return sorted(
        (f["filename"], f["hashes"]["sha256"])
        for f in index["files"]
        if re.match(rf"^{stem}(-|\.tar\.gz$)", f["filename"].lower()) and WANTED.search(f["filename"])
    )


def main() -> None:
    pins = [line.split("==") for line in REQUIREMENTS.read_text().splitlines() if "==" in line]
    lines = [HEADER.rstrip("\n")]
    for name, rest in pins:
        version = rest.split()[0]
        hashes = sorted({sha for _, sha in _files(name, version)})
        if not hashes:
            raise SystemExit(f"no files found for {name}=={version}")
        lines.append(f"{name}=={version} \\")
        lines.append(" \\\n".join(f"    --hash=sha256:{sha}" for sha in hashes))
        print(f"{name}=={version}: {len(hashes)} file(s)")
    REQUIREMENTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
