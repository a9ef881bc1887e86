"""Imports point one way: specs/units/errors <- catalog <- perf <- sim, cost, policy <- plan
<- report <- cli (STYLE.md). Parsed from the source, not imported."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "airadar"
LAYER = {"errors": 0, "units": 0, "registry": 0, "host": 0, "specs": 0, "catalog": 1, "perf": 2,
         "validation": 3, "sim": 3, "cost": 3, "policy": 3, "plan": 4, "sweep": 5, "distributed": 6,
         "report": 6, "cli": 7, "bench": 1}
HEAVY = ("torch", "ray", "plotly", "llama_cpp", "onnxruntime")


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, at top level) for every import in the file."""
    tree = ast.parse(path.read_text())
    out = []
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            out.extend((a.name, id(node) in top) for a in node.names)
    return out


def _layer(rel: Path) -> int:
    head = rel.parts[0].removesuffix(".py")
    return LAYER.get(head, 0)


def test_imports_point_one_way() -> None:
    """No module imports from a layer above its own."""
    bad = []
    for f in SRC.rglob("*.py"):
        rel = f.relative_to(SRC)
        if rel.name in ("__init__.py", "__main__.py") and len(rel.parts) == 1:
            continue
        mine = _layer(rel)
        for mod, _ in _imports(f):
            if mod.startswith("airadar."):
                other = LAYER.get(mod.split(".")[1], 0)
                if other > mine:
                    bad.append(f"{rel} imports {mod}")
    assert not bad, bad


def test_core_has_no_heavy_top_level_imports() -> None:
    """torch/ray/plotly/llama.cpp/onnxruntime are imported lazily, outside the core layers."""
    bad = []
    for f in SRC.rglob("*.py"):
        rel = f.relative_to(SRC)
        if rel.parts[0] in ("report", "bench", "distributed"):
            continue
        for mod, top in _imports(f):
            if top and mod.split(".")[0] in HEAVY:
                bad.append(f"{rel}: {mod}")
    assert not bad, bad


def _module_name(f: Path) -> str:
    parts = list(f.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_graph() -> dict[str, set[str]]:
    """Module -> the airadar modules it imports at top level (``from pkg import mod`` names the
    module ``pkg.mod`` when that is a module, else ``pkg``)."""
    files = {_module_name(f): f for f in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, f in files.items():
        deps: set[str] = set()
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("airadar"):
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if full in files else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("airadar")}
        graph[name] = {d for d in deps if d in files and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    path: list[str] = []
    found: list[list[str]] = []

    def visit(u: str) -> None:
        state[u] = 1
        path.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                found.append([*path[path.index(v):], v])
            elif v not in state:
                visit(v)
        path.pop()
        state[u] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    """The finder below is not vacuous: a two-module loop is reported."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b", "a"]]


def test_no_top_level_import_cycles() -> None:
    """No airadar module imports, at top level, a module that imports it back (directly or
    through others): e.g. a backend imports ``bench.backends.base``, never the package that
    registers it; a command module imports ``cli.root``, never ``cli.app``."""
    assert _cycles(_top_level_graph()) == []


def test_backend_base_imports_no_backend() -> None:
    """The seam (``bench.backends.base``) knows no backend; each backend imports only the base."""
    graph = _top_level_graph()
    assert not {d for d in graph["airadar.bench.backends.base"] if d.startswith("airadar.bench")}
    for name in ("onnx_backend", "onnx_variants", "torch_backend", "llamacpp_backend"):
        deps = graph[f"airadar.bench.backends.{name}"]
        assert "airadar.bench.backends" not in deps, name
