"""Imports point one way: specs/units/errors <- catalog <- perf <- sim, cost, policy <- plan
<- report <- cli (STYLE.md). Parsed from the source, not imported."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "airadar"
LAYER = {"errors": 0, "units": 0, "registry": 0, "specs": 0, "catalog": 1, "perf": 2, "validation": 3,
         "sim": 3, "cost": 3, "policy": 3, "plan": 4, "sweep": 5, "distributed": 6, "report": 6, "cli": 7,
         "bench": 1}
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
