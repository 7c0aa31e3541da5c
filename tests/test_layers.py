"""The map of the house (docs/architecture.md): which package may import which, and where transport
libraries may appear. A change that breaks it should move the code, not this table."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Each package and the packages of ours it may import; nothing imports back up this list.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "embeddings": {"errors"},
    "language": {"errors", "embeddings"},  # the Query holds an Embedder, through its protocol
    "knowledge_base": {"errors", "embeddings", "language"},
    "nlu": {"errors", "embeddings", "language"},
    "bot": {"errors", "embeddings", "language", "knowledge_base", "nlu"},
    "storage": {"errors", "bot"},  # SQL implementations of the core's stores
    "channels": {"errors", "bot", "storage", "language"},
    "hocvu": {"errors", "embeddings", "language", "knowledge_base", "nlu", "bot", "storage", "channels"},
}
CORE = ("errors", "embeddings", "language", "knowledge_base", "nlu", "bot")
TRANSPORT = {"telegram", "aiohttp", "tornado", "httpx", "starlette", "uvicorn", "redis", "requests", "websockets"}


def _imports(package: str) -> dict[str, set[str]]:
    """Top-level names each module of `package` imports, function-level imports included."""
    paths = [REPO / "errors.py"] if package == "errors" else sorted((REPO / package).rglob("*.py"))
    found: dict[str, set[str]] = {}
    for path in paths:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO))] = names
    return found


def test_every_package_imports_only_what_the_map_allows() -> None:
    ours = set(MAY_IMPORT)
    wrong = [
        f"{module} imports {name}"
        for package, allowed in MAY_IMPORT.items()
        for module, names in _imports(package).items()
        for name in sorted(names & ours - allowed - {package})
    ]
    assert not wrong, wrong


def test_the_core_never_imports_a_transport_library() -> None:
    wrong = [
        f"{module} imports {name}"
        for package in CORE
        for module, names in _imports(package).items()
        for name in sorted(names & TRANSPORT)
    ]
    assert not wrong, wrong


def test_every_top_level_package_is_on_the_map() -> None:
    packages = {p.name for p in REPO.iterdir() if (p / "__init__.py").is_file()} - {"tests", "bench"}
    assert packages | {"errors"} == set(MAY_IMPORT)
    assert set(sys.stdlib_module_names).isdisjoint(MAY_IMPORT), "a package of ours shadows the standard library"


# What every channel shares: no platform's library and no adapter of ours, so Zalo can reuse it as it is.
CHANNEL_NEUTRAL = ("runner.py", "inbox.py", "turns.py", "flood.py", "metrics.py")
PLATFORMS = {"telegram", "aiohttp", "starlette", "uvicorn", "httpx", "requests"}


def test_the_runner_and_its_stores_belong_to_no_channel() -> None:
    found = _imports("channels")
    wrong = [
        f"{module} imports {name}"
        for module, names in found.items()
        if Path(module).name in CHANNEL_NEUTRAL
        for name in sorted(names & PLATFORMS)
    ]
    assert not wrong, wrong
    with_adapters = [
        module
        for module in found
        if Path(module).name in CHANNEL_NEUTRAL
        and any(
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith(("channels.telegram", "channels.terminal"))
            for node in ast.walk(ast.parse((REPO / module).read_text(encoding="utf-8")))
        )
    ]
    assert not with_adapters, with_adapters
