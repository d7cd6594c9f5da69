"""The dependency direction between the rooms (design: "Dependencies point one way"),
checked by static import analysis: every ``.py`` file of a room is parsed with ``ast``
and every ``import`` / ``from ... import`` in it (module level or inside a function)
is collected, so a lazy import breaks the rule as much as a top-level one.

* ``events`` and ``analog_models`` import nothing else of the project;
* ``golden`` imports only ``events`` and ``analog_models`` (and itself);
* ``tb`` imports only ``events``, ``analog_models`` and ``golden`` (and itself);
* ``events`` never imports torch (it is the numpy-only event data layer).

``p2m`` (the console front) may import every room and is not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: The top-level packages of the project.
PROJECT = ("analog_models", "events", "golden", "p2m", "tb")

#: Room -> the project packages its modules may import.
ALLOWED = {
    "events": {"events"},
    "analog_models": {"analog_models"},
    "golden": {"golden", "events", "analog_models"},
    "tb": {"tb", "events", "analog_models", "golden"},
}

#: Room -> third-party top-level packages its modules must not import.
FORBIDDEN = {
    "events": {"torch"},
}


def imports_of(source: str, room: str) -> list[tuple[int, str]]:
    """``(line, dotted module)`` of every import in ``source``, a module of ``room``.

    A relative import (``from . import x``, ``from .mod import y``) stays inside the
    room's package and is reported as ``room`` (plus its module, when named)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, f"{room}.{node.module}" if node.module else room))
            else:
                found.append((node.lineno, node.module))
    return sorted(found)


def violations(room: str) -> list[str]:
    """One line per forbidden import in ``room``: ``file:line imports X (why)``."""
    bad = []
    for f in sorted((ROOT / room).rglob("*.py")):
        rel = f.relative_to(ROOT).as_posix()
        for line, mod in imports_of(f.read_text(encoding="utf-8"), room):
            top = mod.split(".")[0]
            if top in PROJECT and top not in ALLOWED[room]:
                bad.append(f"{rel}:{line} imports {mod} ({room} may import only "
                           f"{', '.join(sorted(ALLOWED[room]))} of the project)")
            if top in FORBIDDEN.get(room, ()):
                bad.append(f"{rel}:{line} imports {mod} ({room} must not import {top})")
    return bad


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_dependencies_point_one_way(room):
    assert any((ROOT / room).rglob("*.py")), f"no Python files under {room}/"
    bad = violations(room)
    if bad:
        pytest.fail(f"{len(bad)} import(s) against the dependency direction (the design: "
                    "'Dependencies point one way'):\n  " + "\n  ".join(bad), pytrace=False)


def test_import_collection():
    """The analysis itself: plain, dotted, from-, relative and function-local imports."""
    src = ("import numpy as np, golden.model\n"
           "from tb.run import run_test\n"
           "from . import stream\n"
           "from .formats.nmnist import write_nmnist_bin\n"
           "def f():\n"
           "    import torch.nn\n")
    assert imports_of(src, "events") == [
        (1, "golden.model"), (1, "numpy"), (2, "tb.run"), (3, "events"),
        (4, "events.formats.nmnist"), (6, "torch.nn")]


def _imported_names(source: str, room: str) -> list[str]:
    """Dotted names an import may refer to: ``import a.b`` -> a.b; ``from a import b``
    -> a.b and a (b may be a module or a name in a); relative imports inside ``room``."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = f"{room}.{base}" if base else room
            names += [f"{base}.{alias.name}" for alias in node.names] + [base]
    return names


def _module_graph(room: str) -> dict[str, set[str]]:
    """Module -> the modules of the same room it imports (function-local imports too)."""
    files = {f.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."): f
             for f in (ROOT / room).rglob("*.py")}
    mods = {m.removesuffix(".__init__") for m in files}
    graph: dict[str, set[str]] = {}
    for m, f in files.items():
        name = m.removesuffix(".__init__")
        deps = set()
        for imp in _imported_names(f.read_text(encoding="utf-8"), room):
            parts = imp.split(".")
            for k in range(len(parts), 1, -1):  # the longest prefix that is a module
                cand = ".".join(parts[:k])
                if cand in mods:
                    if cand != name:
                        deps.add(cand)
                    break
        graph[name] = deps
    return graph


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_no_import_cycles_inside_a_room(room):
    """Imports inside a room run one way too (issue 7: characterization and figures
    imported each other inside functions); a cycle is reported as a path."""
    graph = _module_graph(room)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cyc := visit(d)):
                return cyc
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            pytest.fail(f"import cycle in {room}: {' -> '.join(cycle)}", pytrace=False)
