"""The README and the pages of docs/ say what the code does: every parameter of the template is in
the parameters table (docs/deploying.md), every make target they name exists and every target is in
docs/developing.md's table, every query, action and tool they list is one the code has
(docs/queries.md, docs/actions.md, docs/agents.md), the folder map (docs/developing.md) is the
tree's, and every link and anchor leads somewhere. The local commands (the README's and
docs/local.md's) are read here too: tests/e2e/test_readme_commands.py runs them."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

from local.emulator import template
from toggl_connection.calls.actions import ACTIONS
from toggl_connection.calls.queries import QUERIES

ROOT = template.ROOT
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text()
# The front door, then every page, by the reader's task.
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def page(name: str) -> str:
    """The text of a page of docs/: ``page("local")`` is docs/local.md."""
    return (DOCS / f"{name}.md").read_text()


# The sections a new user reads first: the front door, and running it on this machine up to its
# agents' part (whose make mcp-proxy serves until stopped; the agent tests drive both of its commands).
LOCAL_SECTIONS = (
    README,
    page("local").split("## Agents on this machine", 1)[0],
)
# The local commands tests/e2e/test_readme_commands.py does not run, and why.
NOT_RUN = {
    "make run": "the fixture starts it, as a process of its own",
    "make test": "this test is part of it",
}
# The README is a front door: what it is, what it needs, the two commands, the pages.
README_MOST_LINES = 150


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


def table_after(heading: str, text: str) -> list[list[str]]:
    """The rows of the first table after ``heading`` in ``text`` (a page), its header row left out."""
    section = text.split(heading, 1)[1]
    rows: list[list[str]] = []
    for line in section.splitlines()[1:]:
        if not line.startswith("|") and rows:
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows if heading.startswith("|") else rows[1:]  # a heading that is the header row itself


def test_every_template_parameter_is_in_the_parameters_table() -> None:
    named = {name for row in table_after("## Parameters", page("deploying")) for name in re.findall(r"`(\w+)`", row[0])}
    assert named == set(template.load()["Parameters"])


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def test_every_make_target_the_docs_name_exists() -> None:
    targets = makefile_targets()
    for path in PAGES:
        for target in set(re.findall(r"`make ([a-z-]+)", path.read_text())):
            assert target in targets, (path.name, target)


def test_every_make_target_with_a_help_line_is_in_the_developing_pages_table() -> None:
    listed = {
        target
        for row in table_after("## Make targets", page("developing"))
        for target in re.findall(r"`make ([a-z-]+)", row[1])
    }
    documented = set(re.findall(r"^([a-z-]+):.*## ", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))
    assert listed == documented, (listed - documented, documented - listed)


def test_the_queries_and_actions_tables_list_what_the_code_has() -> None:
    queries = {
        row[0].strip("`") for row in table_after("| query | Toggl call | parameters | example |", page("queries"))
    }
    assert queries == set(QUERIES)
    routes = [
        re.search(r"/actions/([a-z-]+)", row[1])
        for row in table_after("| action | route (IAM-signed)", page("actions"))
    ]
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


def test_the_readme_is_a_front_door_that_says_what_it_needs_and_links_every_page() -> None:
    assert len(README.splitlines()) <= README_MOST_LINES
    assert "Python 3.13" in README and "`make`" in README and "Node.js and npm" in README
    linked = set(re.findall(r"\]\((docs/[^)#\s]+)", README))
    assert linked == {f"docs/{p.name}" for p in DOCS.glob("*.md")}


def test_the_command_line_is_shown_as_it_can_be_run_after_make_venv() -> None:
    for path in PAGES:
        bare = [line for line in path.read_text().splitlines() if line.startswith("toggl-connection ")]
        assert bare == [], (path.name, bare)  # it is in .venv/bin, not on PATH


def folder_map() -> str:
    """The folder map: the one code block of docs/developing.md's section of that name."""
    return page("developing").split("## The folder map", 1)[1].split("```", 2)[1]


def test_the_tree_names_every_folder_and_module_of_the_layer_and_nothing_else() -> None:
    layer = template.ROOT / "layers" / "toggl" / "python" / "toggl_connection"
    tree = folder_map()
    section = tree.split("layers/toggl/python/toggl_connection/", 1)[1].split("\ntoggl_connection_cli/", 1)[0]
    folders = set(re.findall(r"^  ([a-z_]+)/", section, flags=re.MULTILINE))
    assert folders == {p.parent.name for p in layer.glob("*/__init__.py")}
    named = set(re.findall(r"\b([a-z_]+\.py)\b", section))
    assert named == {p.name for p in layer.glob("*/*.py") if p.name != "__init__.py"}
    assert not list(layer.glob("*.py")) or {p.name for p in layer.glob("*.py")} == {"__init__.py"}


def mapped_paths() -> list[str]:
    """The paths the folder map gives a line of its own (those written from its first column)."""
    return [line.split()[0] for line in folder_map().splitlines()[1:] if line and not line[0].isspace()]


def ignored(path: Path) -> bool:
    patterns = [line.rstrip("/") for line in (ROOT / ".gitignore").read_text().split() if not line.startswith("#")]
    return path.name.startswith(".") or any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)


def test_every_path_the_folder_map_names_exists() -> None:
    paths = mapped_paths()
    assert len(paths) >= 30, paths
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == [], missing


def test_every_file_and_folder_at_the_top_and_every_folder_of_functions_local_and_tests_has_its_line() -> None:
    mapped = {path.rstrip("/") for path in mapped_paths()}
    top = {p.name for p in ROOT.iterdir() if not ignored(p)}
    folders = {
        f"{parent}/{p.name}"
        for parent in ("functions", "local", "tests")
        for p in (ROOT / parent).iterdir()
        if p.is_dir() and not ignored(p) and (any(p.glob("*.py")) or (p / "Makefile").exists())
    }
    unmapped = sorted(name for name in top | folders if not any(m == name or m.startswith(name + "/") for m in mapped))
    assert unmapped == [], unmapped


def test_every_relative_link_of_the_docs_leads_to_a_file_of_the_repository() -> None:
    pages = [template.ROOT / "README.md", template.ROOT / "CHANGELOG.md", *(template.ROOT / "docs").glob("*.md")]
    for page_path in pages:
        for link in re.findall(r"\]\(([^)#\s]+)", page_path.read_text()):
            if not link.startswith(("http://", "https://", "mailto:")):
                target = (page_path.parent / link).resolve()
                assert target.is_relative_to(template.ROOT) and target.exists(), (page_path.name, link)


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as
    hyphens, a repeated one numbered."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return found


def test_every_anchor_a_link_names_is_a_heading_of_its_page() -> None:
    checked = 0
    for page_path in [*PAGES, ROOT / "CHANGELOG.md"]:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", page_path.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            linked = (page_path.parent / target).resolve() if target else page_path
            assert anchor in anchors(linked.read_text()), (page_path.name, target, anchor)
            checked += 1
    assert checked >= 50, checked


def test_every_page_opens_with_its_contents() -> None:
    for page_path in DOCS.glob("*.md"):
        text = re.sub(r"^```.*?^```", "", page_path.read_text(), flags=re.MULTILINE | re.DOTALL)
        opening = text.split("\n## ", 1)[0]
        contents = set(re.findall(r"^\s*- \[[^\]]+\]\(#([^)]+)\)", opening, flags=re.MULTILINE))
        sections = {
            re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
            for heading in re.findall(r"^## (.+?)\s*$", text, flags=re.MULTILINE)
        }
        assert sections and sections <= contents, (page_path.name, sections - contents)


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


def test_every_benchmark_goal_is_a_row_of_the_performance_table_with_its_goal() -> None:
    from bench.run import GOALS

    table = table_after("| metric | measured | goal | what it is |", page("operating"))
    rows = {row[0].strip("`"): row[2] for row in table}
    for metric, (op, goal) in GOALS.items():
        assert metric in rows, f"docs/operating.md's performance table has no row for {metric}"
        shown = rows[metric].replace("≤", "<=").replace(",", "").replace(" ", "")
        number = re.fullmatch(r"(<=)?([0-9.]+)", shown)
        assert number, f"{metric}: the goal cell {rows[metric]!r} is not a goal"
        assert (number.group(1) or "==", float(number.group(2))) == (op, float(goal)), metric


def test_the_front_door_counts_the_agent_tools_as_the_stack_offers_them() -> None:
    from toggl_connection.agents import tool_list

    counted = re.search(r"as (\d+) tools for AI agents \((\d+) with deletes allowed\)", " ".join(README.split()))
    assert counted, "the README's Agents line no longer counts the tools"
    offered = len(tool_list.tools(False, False)), len(tool_list.tools(False, True))
    assert (int(counted.group(1)), int(counted.group(2))) == offered
    # and the performance table counts the same tools and actions
    operating = " ".join(page("operating").split())
    assert f"the worst of the {offered[1]} tools (deletes allowed)" in operating
    assert f"for each of the {len(ACTIONS)} actions" in operating
