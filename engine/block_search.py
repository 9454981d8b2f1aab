"""Finding block types by what people type, and which ones accept a tensor (Qt-free).

Used by the palette's search box and the canvas's search-to-add popup, so that both rank the
same way: the name or type id typed out first, then a common word for the block ("fc" and
"dense" find Linear, "bn" BatchNorm, "deconv" ConvTranspose2d, "pool" the pooling blocks: the
``keywords`` of each ``BlockSpec``), then names that start with the text, then words of the
name, category or description that start with it, then the text anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from engine.catalog import CATALOG, BlockSpec, Shape

NO_MATCH = 5
_WORDS = re.compile(r"[^0-9a-z]+")


def match_rank(spec: BlockSpec, needle: str) -> int | None:
    """How well ``spec`` matches the lower-case search text ``needle``; None when it does not.

    0: the display name or type id is the text; 1: one of the block's keywords is; 2: the name
    or type id starts with it; 3: a keyword, or a word of the name, category or description
    starts with it (words split at spaces, punctuation and underscores); 4: the text appears
    anywhere. An empty text matches every block equally.
    """
    needle = needle.strip().lower()
    if not needle:
        return 0
    names = (spec.display_name.lower(), spec.type_id.lower())
    keywords = tuple(k.lower() for k in spec.keywords)
    if needle in names:
        return 0
    if needle in keywords:
        return 1
    if any(name.startswith(needle) for name in names):
        return 2
    if any(k.startswith(needle) for k in keywords):
        return 3
    text = " ".join(
        (spec.display_name, spec.type_id, spec.category, spec.description, *spec.keywords)
    ).lower()
    if any(word.startswith(needle) for word in _WORDS.split(text)):
        return 3
    return 4 if needle in text else None


def sort_key(spec: BlockSpec) -> tuple[int, str]:
    """Input and Output first, then by display name (the order among equal matches)."""
    order = {"input": 0, "output": 1}
    return order.get(spec.type_id, 2), spec.display_name.lower()


def search(text: str, preferred: Iterable[str] = ()) -> list[BlockSpec]:
    """The block types matching ``text``, best first; those in ``preferred`` (type ids, such
    as the blocks that accept a dragged tensor) before the others at every rank."""
    favoured = set(preferred)
    ranked = []
    for spec in CATALOG:
        rank = match_rank(spec, text)
        if rank is not None:
            ranked.append((spec.type_id not in favoured, rank, *sort_key(spec), spec.type_id))
    ranked.sort()
    return [CATALOG.get(key[-1]) for key in ranked]


def accepting_types(shape: Shape) -> list[str]:
    """The block types that take a tensor of ``shape`` (per sample) on their input with their
    default parameters: each is tried on a scratch graph ``Input(shape) → block`` and kept when
    inference reports no error on it. Add and Concat get the tensor on each of their ports."""
    return list(_accepting(tuple(int(s) for s in shape)))


@lru_cache(maxsize=64)
def _accepting(shape: Shape) -> tuple[str, ...]:
    from engine.errors import DesignerError
    from engine.graph import Graph  # the inference imports the catalog: late, no cycle
    from engine.inference import infer

    accepted = []
    for spec in CATALOG:
        if spec.is_source:
            continue
        graph = Graph()
        graph.add_node("input", "x", {"shape": list(shape)})
        graph.add_node(spec.type_id, "block")
        try:
            for _ in range(spec.min_inputs if spec.variadic else 1):
                graph.connect("x", "block")
        except DesignerError:  # a block that cannot take the wire does not accept it
            continue
        result = infer(graph)
        if not any(d.node == "block" for d in result.errors):
            accepted.append(spec.type_id)
    return tuple(accepted)
