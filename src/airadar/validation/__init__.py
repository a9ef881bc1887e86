"""Scoring the performance model against measurements and fitting its efficiency profiles."""
