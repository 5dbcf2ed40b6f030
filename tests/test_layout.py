"""The shape of the code: dependencies point one way (handlers → feature → core and storage),
nothing in core knows a feature, and no module imports itself back through others."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
# The composition roots: they import everything by design, and nothing imports them back.
ROOTS = {"bot.features", "bot.cli", "bot.__main__", "storage.migrations.env"}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "versions" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `path`'s import statements name: `from pkg import sub` names pkg and pkg.sub."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, known) for name, path in known.items()}


def test_no_import_cycles():
    edges = graph()
    # A package's __init__ imports its modules (a feature declares itself there), so a module that
    # imports its own package back (`from bot.kudos import blocks`) closes a cycle: siblings are
    # imported by their full name (`import bot.kudos.blocks as messages`).
    for name, targets in edges.items():
        edges[name] = targets - {name}
    state: dict[str, str] = {}
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = "visiting"
        for target in sorted(edges[name]):
            if state.get(target) == "visiting":
                cycles.append(path[path.index(target) :] + [target] if target in path else [name, target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_core_knows_no_feature_and_features_know_no_handlers():
    edges = graph()
    features = {name.split(".")[1] for name in edges if name.count(".") == 1 and name.startswith("bot.")}
    features -= {"core", "features", "cli", "__main__"}
    assert {"kudos", "feedback", "ideas", "tips", "home", "weekly"} <= features
    for name, targets in edges.items():
        if name.startswith("bot.core"):
            assert all(t.startswith(("bot.core", "storage")) for t in targets), (name, targets)
        if name.startswith("bot.") and name not in ROOTS:
            assert not any(t.startswith("handlers") or t in ROOTS for t in targets), (name, targets)
        if name.startswith("storage.") and name not in ROOTS:
            assert not any(t.startswith(("bot", "handlers")) for t in targets), (name, targets)


def test_no_feature_reads_the_home_or_weekly_assembly():
    """Home and weekly assemble the other features' parts; a feature never imports them back,
    except to mark someone's Home tab as changed."""
    edges = graph()
    assemblers = ("bot.core", "bot.home", "bot.weekly")
    for name, targets in edges.items():
        if name.startswith("bot.") and not name.startswith(assemblers) and name not in ROOTS:
            assert not any(t.startswith("bot.weekly") for t in targets), (name, targets)
            assert all(t in ("bot.home", "bot.home.rules") for t in targets if t.startswith("bot.home")), name
