"""Training benchmarks (issue 5): LeNet-5 on Digits to ≥97%, and the trainer's throughput with
dashboard snapshots on against a plain PyTorch loop on the same model, data and batch size: on
this CPU (LeNet-5) and, where CUDA is available, on the GPU (ResNet-18 in mixed precision)."""

from __future__ import annotations

import contextlib
import statistics
import time

import torch
import torch.nn.functional as F  # noqa: N812

from benchmarks.results import Measure, measure
from engine import compile_graph
from engine.training.trainer import Trainer, train
from presets import PRESETS

LENET_SETTINGS = {"epochs": 12, "batch_size": 32, "lr": 0.002, "schedule": "onecycle"}


def lenet_on_digits() -> list[Measure]:
    """Accuracy and wall time (set-up included) of LeNet-5 on the built-in Digits."""
    missing = [
        measure("training.lenet5_digits.val_accuracy", None, "fraction", ">= 0.97"),
        measure("training.lenet5_digits.seconds", None, "s", "< 60"),
    ]
    start = time.perf_counter()
    best = None
    last = None
    for event in train(PRESETS.get("lenet5").create(), LENET_SETTINGS, snapshots=False):
        if event.kind == "failed":
            print(f"  LeNet-5 on Digits: FAILED: {event.message}")
            return missing
        if event.kind == "finished":
            best, last = event.best_val_accuracy, event.final_val_accuracy
    seconds = time.perf_counter() - start
    verdict = "ok" if last >= 0.97 and seconds < 60 else "MISSED (target ≥97% in <60 s)"
    print(
        f"  LeNet-5 on Digits, {LENET_SETTINGS['epochs']} epochs: val accuracy {last:.2%} "
        f"(best {best:.2%}) in {seconds:.1f} s [{verdict}]"
    )
    return [
        measure("training.lenet5_digits.val_accuracy", last, "fraction", ">= 0.97"),
        measure("training.lenet5_digits.seconds", seconds, "s", "< 60"),
    ]


def plain_epoch(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int,
    seed: int,
    scaler: torch.amp.GradScaler | None = None,
) -> float:
    """The reference: one epoch of a hand-written loop over pre-normalised tensors; seconds.

    With ``scaler`` it trains in mixed precision (float16 autocast on CUDA, as the trainer
    does). On CUDA the time includes the queued GPU work.
    """
    model.train()
    cuda = x.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(x.device)
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(x.device)
    amp = scaler is not None
    for i in range(0, len(x), batch):
        index = order[i : i + batch]
        with torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext():
            loss = F.cross_entropy(model(x[index]).float(), y[index])
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    if cuda:
        torch.cuda.synchronize(x.device)
    return time.perf_counter() - start


def throughput_ratio(epochs: int = 20, batch: int = 64) -> list[Measure]:
    """Our trainer (snapshots on) and the plain loop, one epoch each in turn in this process;
    the fastest epoch of each is compared, so bursts of load on a shared machine do not decide."""
    trainer = Trainer(PRESETS.get("lenet5").create(), {"epochs": epochs, "batch_size": batch})
    missing = [measure("training.throughput.ratio", None, "ratio", ">= 0.95")]
    events = trainer.run()
    started = next(events)
    if started.kind == "failed":
        print(f"  throughput: FAILED: {started.message}")
        return missing
    split = trainer.train_split
    x, y = trainer.loader.normalize(split.images), split.labels
    model = compile_graph(PRESETS.get("lenet5").create())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    plain, ours, snaps, cost = [], [], 0, 0.0
    for event in events:
        if event.kind == "snapshot":
            snaps, cost = snaps + 1, cost + event.cost_seconds
        elif event.kind == "epoch_end":
            ours.append(event.seconds)  # the epoch's training time (validation excluded)
            plain.append(plain_epoch(model, opt, x, y, batch, len(plain)))
        elif event.kind == "failed":
            print(f"  throughput: FAILED: {event.message}")
            return missing
    ratio = min(plain) / min(ours)
    median_ratio = statistics.median(plain) / statistics.median(ours)
    verdict = "ok" if ratio >= 0.95 else "below the 0.95 target"
    print(
        f"  throughput, LeNet-5 on Digits 1×32×32, batch {batch}, {torch.get_num_threads()} threads, "
        f"fastest of {epochs} alternating epochs: plain loop {len(split) / min(plain):,.0f} img/s, "
        f"trainer with snapshots {len(split) / min(ours):,.0f} img/s, ratio {ratio:.3f} [{verdict}] "
        f"(ratio of medians {median_ratio:.3f}); "
        f"{snaps} snapshots costing {cost:.2f} s of {sum(ours):.1f} s ({cost / sum(ours):.1%})"
    )
    return [
        measure("training.throughput.ratio", ratio, "ratio", ">= 0.95"),
        measure("training.throughput.median_ratio", median_ratio, "ratio"),
        measure("training.throughput.snapshot_share", cost / sum(ours), "fraction"),
    ]


def gpu_throughput_ratio(
    epochs: int = 12, batch: int = 256, images: int = 25_000, device: str = "cuda"
) -> list[Measure]:
    """ResNet-18 on the built-in 3×32×32 Shapes in mixed precision on a GPU: the trainer
    (snapshots on, as in the designer) against a plain autocast + GradScaler loop on the same
    model, data and batch size, one epoch each in turn in this process; the card is named."""
    missing = [measure("training.gpu_throughput.ratio", None, "ratio", ">= 0.95")]
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("  GPU throughput (ResNet-18, mixed precision): skipped, no CUDA device here")
        return missing
    from engine.data import SHAPE_CLASSES

    graph = PRESETS.get("resnet18").create(classes=len(SHAPE_CLASSES), resolution=32)
    settings = {
        "epochs": epochs,
        "batch_size": batch,
        "device": device,
        "mixed_precision": True,
        "data": {"dataset": "shapes", "shapes_count": images},
    }
    trainer = Trainer(graph, settings)
    events = trainer.run()
    if (started := next(events)).kind == "failed":
        print(f"  GPU throughput: FAILED: {started.message}")
        return missing
    split = trainer.train_split
    x = trainer.loader.normalize(split.images).to(trainer.device)
    y = split.labels.to(trainer.device)
    model = compile_graph(graph).to(trainer.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda") if trainer.amp else None
    plain_epoch(model, opt, x, y, batch, 99, scaler)  # warm-up (kernels, allocator)
    plain, ours = [], []
    for event in events:
        if event.kind == "epoch_end":
            ours.append(event.seconds)
            plain.append(plain_epoch(model, opt, x, y, batch, len(plain), scaler))
        elif event.kind == "failed":
            print(f"  GPU throughput: FAILED: {event.message}")
            return missing
    # the first epoch of each side warms up cuDNN's choices: left out when there are others
    plain, ours = (plain[1:], ours[1:]) if len(ours) > 1 else (plain, ours)
    ratio = statistics.median(plain) / statistics.median(ours)
    card = torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else "CPU"
    verdict = "ok" if ratio >= 0.95 else "below the 0.95 target"
    print(
        f"  GPU throughput, ResNet-18 on Shapes 3×32×32 ({len(split)} images), batch {batch}, "
        f"mixed precision {'on' if trainer.amp else 'off'}, {card}: plain loop "
        f"{len(split) / statistics.median(plain):,.0f} img/s, trainer with snapshots "
        f"{len(split) / statistics.median(ours):,.0f} img/s (medians of {len(ours)} alternating "
        f"epochs); ratio {ratio:.3f} [{verdict}], ratio of the fastest "
        f"{min(plain) / min(ours):.3f}"
    )
    return [
        measure("training.gpu_throughput.ratio", ratio, "ratio", ">= 0.95"),
        measure(
            "training.gpu_throughput.images_per_s", len(split) / statistics.median(ours), "img/s"
        ),
    ]


def main() -> list[Measure]:
    print("training:")
    return lenet_on_digits() + throughput_ratio() + gpu_throughput_ratio()


if __name__ == "__main__":
    main()
