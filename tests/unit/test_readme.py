"""The README says what the code does: every parameter of the template is in its table, every
make target it names exists, every query and action it lists is one the code has. Its local
sections' commands are read here too (tests/e2e/test_readme_commands.py runs them)."""

from __future__ import annotations

import re

from local.emulator import template
from toggl_connection.calls.actions import ACTIONS
from toggl_connection.calls.queries import QUERIES

README = (template.ROOT / "README.md").read_text()
# The sections a new user reads first: the opening screen, and set-up with make run.
LOCAL_SECTIONS = (
    README.split("## Triggers", 1)[0],
    README.split("## Set-up: two commands", 1)[1].split("## Deploying to AWS", 1)[0],
)
# The local commands tests/e2e/test_readme_commands.py does not run, and why.
NOT_RUN = {
    "make run": "the fixture starts it, as a process of its own",
    "make test": "this test is part of it",
}


def commands() -> list[str]:
    """The command lines of the local sections' bash blocks, comments left out."""
    found: list[str] = []
    for section in LOCAL_SECTIONS:
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
            for line in block.replace("\\\n", " ").splitlines():
                command = re.sub(r"\s+#.*$", "", line).strip()
                if command and not command.startswith("#"):
                    found.append(command)
    return found


def table_after(heading: str) -> list[list[str]]:
    section = README.split(heading, 1)[1]
    rows: list[list[str]] = []
    for line in section.splitlines()[1:]:
        if not line.startswith("|") and rows:
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows if heading.startswith("|") else rows[1:]  # a heading that is the header row itself


def test_every_template_parameter_is_in_the_parameters_table() -> None:
    named = {name for row in table_after("### Parameters") for name in re.findall(r"`(\w+)`", row[0])}
    assert named == set(template.load()["Parameters"])


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (template.ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert target in targets, target


def test_the_queries_and_actions_tables_list_what_the_code_has() -> None:
    queries = {row[0].strip("`") for row in table_after("| query | Toggl call | parameters | example |")}
    assert queries == set(QUERIES)
    routes = [re.search(r"/actions/([a-z-]+)", row[1]) for row in table_after("| action | route (IAM-signed)")]
    actions = {route.group(1) for route in routes if route}
    assert actions == set(ACTIONS)


def test_the_readme_points_nowhere_outside_the_repository() -> None:
    for link in re.findall(r"\]\(([^)#]+)\)", README):
        if not link.startswith("http"):
            assert not link.startswith(".."), link
            assert (template.ROOT / link).exists(), link


def test_the_first_screen_says_what_it_is_and_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "AWS SAM application" in first_screen and "EventBridge" in first_screen
    assert "make run " in first_screen and "make test " in first_screen


def test_the_command_line_is_shown_as_it_can_be_run_after_make_venv() -> None:
    bare = [line for line in README.splitlines() if line.startswith("toggl-connection ")]
    assert bare == [], bare  # it is in .venv/bin, not on PATH


def test_the_tree_names_every_folder_and_module_of_the_layer_and_nothing_else() -> None:
    layer = template.ROOT / "layers" / "toggl" / "python" / "toggl_connection"
    tree = README.split("## Developing", 1)[1].split("```", 2)[1]
    section = tree.split("layers/toggl/python/toggl_connection/", 1)[1].split("\ntoggl_connection_cli/", 1)[0]
    folders = set(re.findall(r"^  ([a-z_]+)/", section, flags=re.MULTILINE))
    assert folders == {p.parent.name for p in layer.glob("*/__init__.py")}
    named = set(re.findall(r"\b([a-z_]+\.py)\b", section))
    assert named == {p.name for p in layer.glob("*/*.py") if p.name != "__init__.py"}
    assert not list(layer.glob("*.py")) or {p.name for p in layer.glob("*.py")} == {"__init__.py"}


def test_every_relative_link_of_the_docs_leads_to_a_file_of_the_repository() -> None:
    pages = [template.ROOT / "README.md", template.ROOT / "CHANGELOG.md", *(template.ROOT / "docs").glob("*.md")]
    for page in pages:
        for link in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if not link.startswith(("http://", "https://", "mailto:")):
                target = (page.parent / link).resolve()
                assert target.is_relative_to(template.ROOT) and target.exists(), (page.name, link)


def test_no_file_cites_a_document_the_repository_does_not_hold() -> None:
    absent = ["DESIGN" + ".md", "TOGGL_API" + ".md", "../" + "shared"]  # the words, not written out here
    root = template.ROOT
    files = [root / name for name in ("README.md", "CHANGELOG.md", "template.yaml", "Makefile", "pyproject.toml")]
    for folder in ("docs", "layers", "functions", "local", "bench", "tests", "toggl_connection_cli", ".ci"):
        files += [
            p
            for p in (root / folder).rglob("*")
            if p.is_file() and "node_modules" not in p.parts and "__pycache__" not in p.parts
        ]
    citing = [str(p.relative_to(root)) for p in files if any(name in p.read_text(errors="ignore") for name in absent)]
    assert len(files) > 100 and citing == []


def test_the_local_sections_show_commands_and_the_not_run_list_is_current() -> None:
    shown = commands()
    assert len(shown) >= 10, shown
    assert set(NOT_RUN) <= set(shown), set(NOT_RUN) - set(shown)
