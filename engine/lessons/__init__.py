"""The Lessons menu's content, Qt-free and torch-free: the lessons of the lecture (texts filled
from the engine's computations), the architectures compared, and the one-click experiments'
variants of a design (``variants``). ``measure`` (torch, imported only by the experiment's
background process) reads gradient norms and first-layer filters from a finished run."""
