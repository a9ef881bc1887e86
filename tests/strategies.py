"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from airadar.catalog.loader import load_hardware, load_models

LLMS = [m for m in load_models() if m.is_llm]
GPUS = [h for h in load_hardware() if h.hw_class == "gpu"]

llm = st.sampled_from(LLMS)
gpu = st.sampled_from(GPUS)
small_llm = st.sampled_from([m for m in LLMS if m.params_total < 20e9])
tokens = st.integers(min_value=16, max_value=8192)
batch = st.integers(min_value=1, max_value=512)
scale = st.floats(min_value=1.01, max_value=8.0)
