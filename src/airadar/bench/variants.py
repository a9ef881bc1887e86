"""Pruned and quantized variants of a model's weights, shared by the backends.

Pruning is applied to weight matrices only (never norms, biases or embeddings):
- ``prune-magnitude``: unstructured, the smallest-|w| half of each matrix set to zero;
- ``prune-2:4``: in every group of 4 consecutive weights along the reduction (input) axis,
  the 2 smallest-|w| set to zero (the pattern NVIDIA sparse tensor cores accelerate).
Dense kernels run a pruned matrix at the dense speed; the quality change is what is measured."""

from __future__ import annotations

import numpy as np

from airadar.errors import SpecError

PRUNE_VARIANTS = ("prune-magnitude", "prune-2:4")
MAGNITUDE_SPARSITY = 0.5


def magnitude_mask(w: np.ndarray, sparsity: float = MAGNITUDE_SPARSITY) -> np.ndarray:
    """Boolean keep-mask zeroing the ``sparsity`` fraction of smallest-|w| entries."""
    if not 0.0 <= sparsity < 1.0:
        raise SpecError("sparsity", sparsity, "a fraction in [0, 1)")
    k = int(round(w.size * sparsity))
    if k == 0:
        return np.ones(w.shape, dtype=bool)
    flat = np.abs(w).ravel()
    cut = np.partition(flat, k - 1)[k - 1]
    mask = np.abs(w) > cut
    # ties at the threshold: keep exactly size - k entries
    short = (w.size - k) - int(mask.sum())
    if short > 0:
        tie = np.flatnonzero((np.abs(w) == cut).ravel())[:short]
        mask.ravel()[tie] = True
    return mask


def two_four_mask(w: np.ndarray, axis: int) -> np.ndarray:
    """Boolean keep-mask with 2 of every 4 consecutive entries along ``axis`` kept (the
    larger |w|). The axis length must be a multiple of 4."""
    a = np.moveaxis(np.abs(w), axis, -1)
    n = a.shape[-1]
    if n % 4:
        raise SpecError("prune-2:4", n, "a reduction axis that is a multiple of 4")
    g = a.reshape(*a.shape[:-1], n // 4, 4)
    order = np.argsort(g, axis=-1, kind="stable")
    keep = np.zeros(g.shape, dtype=bool)
    np.put_along_axis(keep, order[..., 2:], True, axis=-1)
    return np.moveaxis(keep.reshape(a.shape), -1, axis)


def prune(w: np.ndarray, variant: str, *, reduction_axis: int) -> np.ndarray:
    """The pruned copy of ``w`` for ``variant`` (one of PRUNE_VARIANTS)."""
    if variant == "prune-magnitude":
        mask = magnitude_mask(w)
    elif variant == "prune-2:4":
        mask = two_four_mask(w, reduction_axis)
    else:
        raise SpecError("--variant", variant, ", ".join(PRUNE_VARIANTS))
    return np.where(mask, w, 0).astype(w.dtype)
