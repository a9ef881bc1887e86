"""Counting tokens on the client, for servers that send no ``usage``: the prompt before it is
sent, the answer from the streamed text once it has ended (text re-tokenized, as guidellm and
vLLM's benchmark do when they must; a byte-level BPE gives back the same count in practice).

``--tokenizer`` takes a GGUF file or a packaged model name (its vocabulary is loaded through
llama.cpp, weights not read), or a Hugging Face ``tokenizer.json`` (the ``tokenizers``
package)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from airadar.errors import BackendError, SpecError

TokenCounter = Callable[[str], int]


def load_counter(spec: str, cache_dir: Path) -> TokenCounter:
    """A function text -> number of tokens, from ``spec`` (see the module docstring)."""
    from airadar.bench import packaged

    if spec.endswith(".json"):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise BackendError("--tokenizer FILE.json needs the tokenizers package: "
                               "pip install tokenizers") from None
        if not Path(spec).is_file():
            raise SpecError("--tokenizer", spec, "an existing tokenizer.json")
        tok = Tokenizer.from_file(spec)
        return lambda text: len(tok.encode(text, add_special_tokens=False).ids)
    path = packaged.resolve(spec, cache_dir)
    if path.suffix != ".gguf":
        raise SpecError("--tokenizer", spec, "a .gguf file, a packaged GGUF model name "
                        f"({', '.join(n for n, p in packaged.PACKAGED.items() if p.fmt == 'gguf')})"
                        " or a tokenizer.json")
    from airadar.bench.llamacpp import load

    llm = load(path, n_ctx=64, threads=1, vocab_only=True)
    return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
