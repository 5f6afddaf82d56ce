"""``make docs``: writes what is generated into ``docs/`` (the Toggl contract table)."""

from __future__ import annotations

from local.emulator.template import ROOT
from local.toggl_sandbox import documented

TOGGL_API = ROOT / "docs" / "toggl-api.md"


def main() -> None:
    TOGGL_API.write_text(documented.document_with_table(TOGGL_API.read_text()))
    print(f"wrote the contract table into docs/toggl-api.md: {documented.summary()}")


if __name__ == "__main__":
    main()
