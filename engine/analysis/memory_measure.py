"""What autograd really keeps: the check of the memory planner against torch.

``measure_saved_bytes`` compiles the design, runs one forward pass in training mode under
``torch.autograd.graph.saved_tensors_hooks`` and adds up the bytes of the distinct storages
autograd packs for the backward pass (parameters, buffers and the input batch left out), per
block where a storage's owner can be told. Imports torch when called.
"""

from __future__ import annotations

from typing import Any

from engine.graph import Graph


def measure_saved_bytes(
    graph: Graph, batch: int = 2, precision: str = "fp32", device: str = "cpu"
) -> int:
    """Bytes of the distinct storages saved for backward by one training forward pass.

    ``precision`` "bf16" casts the model and input to bfloat16; "amp" runs under fp16 autocast
    on ``device``."""
    import torch

    from engine.compiler import compile_graph, example_inputs

    model = compile_graph(graph).to(device).train()
    inputs = example_inputs(graph, batch=batch, device=device)
    if precision == "bf16":
        model = model.to(torch.bfloat16)
        inputs = [x.to(torch.bfloat16) for x in inputs]
    excluded = {t.untyped_storage().data_ptr() for t in model.parameters()}
    excluded |= {t.untyped_storage().data_ptr() for t in model.buffers()}
    excluded |= {t.untyped_storage().data_ptr() for t in inputs}
    storages: dict[int, int] = {}
    kept: list[Any] = []  # keeps every packed tensor alive, so no address is reused

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in excluded and storage.nbytes() > 0:
            storages[storage.data_ptr()] = storage.nbytes()
        kept.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        if precision == "amp":
            with torch.autocast(device, dtype=torch.float16):
                outputs = model(*inputs)
        else:
            outputs = model(*inputs)
    total = sum(storages.values())
    kept.clear()
    del outputs
    return total
