"""The formatter trusted: ``make format`` and the pre-commit hooks rewrite code the way ``make lint``
then finds clean, and the hygiene hooks tidy any text file, with the pinned tools of .venv and
nothing downloaded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local.emulator.template import ROOT

BIN = Path(sys.executable).parent
UNTIDY = "import sys\nimport os\ndef f( a,b ):\n  return {'a':a,'b':b, 'path': os.sep, 'argv': sys.argv}\n"
# A text file as an editor may leave it: spaces at a line's end, no newline at the end of the file.
UNTIDY_TEXT = "A note.   \nAnother line.\t\nThe last one, unfinished"


def recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with $(BIN) as .venv/bin."""
    text = (ROOT / "Makefile").read_text()
    body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M)
    assert body, target
    return [line.strip().replace("$(BIN)/", "") for line in body.group(1).splitlines()]


def test_make_format_runs_what_make_lint_checks_without_the_check_flags() -> None:
    # make lint also lints the Markdown, which make format leaves as it is
    assert recipe("lint") == [
        "ruff check .",
        "ruff format --check .",
        "pymarkdown scan --recurse --respect-gitignore .",
    ]
    assert recipe("format") == ["ruff check --fix .", "ruff format ."]


def test_no_formatter_is_switched_off_in_the_code() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    skipped = [
        path
        for path in tracked.stdout.split()
        if re.search(r"#\s*fmt:\s*(skip|off)", (ROOT / path).read_text(encoding="utf-8"))
    ]
    assert skipped == []


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A git repository with this project's ruff settings and hooks, .venv linked in, and one
    file written as no formatter would."""
    for name in ("pyproject.toml", ".pre-commit-config.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(BIN.parent)
    (tmp_path / "untidy.py").write_text(UNTIDY)
    (tmp_path / "untidy.txt").write_text(UNTIDY_TEXT)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run(
        ["git", "add", "untidy.py", "untidy.txt", "pyproject.toml", ".pre-commit-config.yaml"], cwd=tmp_path, check=True
    )
    return tmp_path


def test_the_pre_commit_hooks_format_a_file_as_make_lint_wants_it(repository: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_CONFIG_GLOBAL": os.devnull}

    def hooks() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "pre-commit"), "run", "--files", "untidy.py", "untidy.txt"],
            cwd=repository,
            capture_output=True,
            text=True,
            env={**env, "SKIP": "mypy,cfn-lint"},
            timeout=300,
        )

    # When the hooks run on an untidy file, they rewrite it (and say so: a failed run)
    first = hooks()
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    # Then make lint's commands find it clean, and a second run of the hooks changes nothing
    for command in (["ruff", "check", "untidy.py"], ["ruff", "format", "--check", "untidy.py"]):
        lint = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=repository, capture_output=True, text=True)
        assert lint.returncode == 0, lint.stdout + lint.stderr
    assert (repository / "untidy.py").read_text() != UNTIDY
    # And the hygiene hooks took the spaces off the lines' ends and finished the file with a newline
    assert (repository / "untidy.txt").read_text() == "A note.\nAnother line.\nThe last one, unfinished\n"
    second = hooks()
    assert second.returncode == 0, second.stdout + second.stderr
