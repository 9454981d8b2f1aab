"""``cnn-designer memory``: the memory a design needs to train and to run, and the largest batch
that fits a device, without running it (engine.analysis.memory)."""

from __future__ import annotations

import argparse
import json
import sys

from designer.cli.common import add_source_arguments, fail, invalid_design, load_graph
from engine import DesignerError, infer


def register(subparsers: argparse._SubParsersAction) -> None:
    from engine.analysis.memory import OPTIMIZER_NAMES, PRECISIONS

    parser = subparsers.add_parser(
        "memory",
        help="estimate the memory to train and run a project or preset, and the largest batch",
        description=(
            "Bytes of weights, gradients, optimiser state and the activations autograd keeps "
            "for backward, per layer and in total; with --device-memory the largest batch that "
            "fits. Exits 1 on an invalid graph, 2 on bad options."
        ),
    )
    add_source_arguments(parser)
    parser.add_argument("--batch", type=int, required=True, metavar="N", help="the batch size")
    parser.add_argument(
        "--optimizer", default="adam", choices=OPTIMIZER_NAMES, help="the optimiser (adam)"
    )
    parser.add_argument(
        "--momentum",
        type=float,
        default=0.9,
        help="SGD/RMSprop momentum (0.9; 0 keeps no momentum buffer)",
    )
    parser.add_argument(
        "--precision",
        default="fp32",
        choices=PRECISIONS,
        help="fp32, bf16 (model in bfloat16) or amp (fp16 autocast, float32 weights)",
    )
    parser.add_argument(
        "--device-memory",
        metavar="SIZE",
        help="the device's memory (24GB, 24 GiB, 16000MB, 8g or a card: rtx3090, a100-40, "
        "h100-80, t4, ...): adds the largest batch that fits",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (bytes)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.analysis.memory import MemoryPlanError, plan_memory
    from engine.analysis.memory_sizes import MemorySizeError, parse_memory_size

    if args.batch < 1:
        return fail(f"--batch: must be at least 1. Received: --batch={args.batch}. Use e.g. 32")
    if not 0 <= args.momentum < 1:
        return fail(
            f"--momentum: must be in [0, 1). Received: --momentum={args.momentum}. Use e.g. 0.9"
        )
    try:
        memory = (
            None
            if args.device_memory is None
            else parse_memory_size(args.device_memory, "--device-memory")
        )
    except MemorySizeError as error:
        return fail(str(error))
    try:
        graph = load_graph(args)
    except DesignerError as error:
        return fail(str(error))
    result = infer(graph)
    if (refusal := invalid_design(args, result, "planned")) is not None:
        print(f"cnn-designer: {refusal}", file=sys.stderr)
        return 1
    try:
        plan = plan_memory(
            graph,
            args.batch,
            args.optimizer,
            args.precision,
            momentum=args.momentum,
            device_memory=memory,
            result=result,
        )
    except MemoryPlanError as error:
        return fail(str(error))
    if args.json:
        print(json.dumps(plan.to_json(), indent=1))
    else:
        from designer.cli.memory_text import plan_text

        print(plan_text(plan))
    return 0
