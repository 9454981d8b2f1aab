"""Experiments over many runs: sweeps on Optuna (``sweep``) and repeated runs with several
seeds (``repeats``). Qt-free; Optuna and torch are imported only by the modules that run them."""

from engine.experiments.space import SearchParam, SweepError, parse_param

__all__ = ["SearchParam", "SweepError", "parse_param"]
