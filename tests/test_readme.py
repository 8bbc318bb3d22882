"""The README's file map lists every module of `rtt/` and `flows/`, and nothing that is not there."""

import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]
DESCRIPTION_COLUMN = 25


def map_block() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## File map\n") : text.index("\n## ", text.index("## File map\n") + 1)]
    return [line[4:] for line in section.splitlines() if line.startswith("    ")]


def mapped_files() -> set[str]:
    """Paths of the map's entries: a name ending in `/` is a folder holding the more-indented entries below it;
    lines indented to the description column continue a description."""
    folders: list[tuple[int, str]] = []
    out = set()
    for line in map_block():
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent >= DESCRIPTION_COLUMN:
            continue
        entry = line.split()[0]
        folders = [(i, f) for i, f in folders if i < indent]
        path = "".join(f for _, f in folders) + entry
        if entry.endswith("/"):
            folders.append((indent, entry))
        else:
            out.add(path)
    return out


def tree_files() -> set[str]:
    files = set()
    for top in ("rtt", "flows"):
        for path in (REPO / top).rglob("*.py"):
            if path.name == "__init__.py" and not path.read_text().strip():
                continue
            files.add(path.relative_to(REPO).as_posix())
    return files


def test_the_file_map_matches_the_tree():
    mapped = {f for f in mapped_files() if f.endswith(".py") and f.split("/")[0] in ("rtt", "flows")}
    tree = tree_files()
    assert sorted(tree - mapped) == [], "in the tree, missing from README's file map"
    assert sorted(mapped - tree) == [], "in README's file map, not in the tree"


def test_the_map_parser_sees_nested_entries():
    mapped = mapped_files()
    assert {"rtt/grpo/advantages.py", "flows/cli.py", "rtt/testing/llm_server.py", "Makefile"} <= mapped
