"""Pareto front: the candidates no other candidate beats on every objective at once."""

from __future__ import annotations

import numpy as np


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask of non-dominated rows of ``points`` (n x k, all minimised). A row is
    dominated if another is <= in every column and < in at least one. Ties are kept."""
    n = points.shape[0]
    keep = np.ones(n, dtype=bool)
    order = np.argsort(points[:, 0], kind="stable")
    for idx in order:
        if not keep[idx]:
            continue
        p = points[idx]
        dominated = np.all(points >= p, axis=1) & np.any(points > p, axis=1)
        keep &= ~dominated
    return keep
