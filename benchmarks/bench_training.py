"""Training benchmarks (issue 5): LeNet-5 on Digits to ≥97%, and the trainer's throughput with
dashboard snapshots on against a plain PyTorch loop on the same model, data and batch size."""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F  # noqa: N812

from engine import compile_graph
from engine.training.trainer import Trainer, train
from presets import PRESETS

LENET_SETTINGS = {"epochs": 12, "batch_size": 32, "lr": 0.002, "schedule": "onecycle"}


def lenet_on_digits() -> None:
    """Accuracy and wall time (set-up included) of LeNet-5 on the built-in Digits."""
    start = time.perf_counter()
    best = None
    last = None
    for event in train(PRESETS.get("lenet5").create(), LENET_SETTINGS, snapshots=False):
        if event.kind == "failed":
            print(f"  LeNet-5 on Digits: FAILED: {event.message}")
            return
        if event.kind == "finished":
            best, last = event.best_val_accuracy, event.final_val_accuracy
    seconds = time.perf_counter() - start
    verdict = "ok" if last >= 0.97 and seconds < 60 else "MISSED (target ≥97% in <60 s)"
    print(
        f"  LeNet-5 on Digits, {LENET_SETTINGS['epochs']} epochs: val accuracy {last:.2%} "
        f"(best {best:.2%}) in {seconds:.1f} s [{verdict}]"
    )


def plain_epoch(
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch: int,
    seed: int,
) -> float:
    """The reference: one epoch of a hand-written loop over pre-normalised tensors; seconds."""
    model.train()
    start = time.perf_counter()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    for i in range(0, len(x), batch):
        index = order[i : i + batch]
        loss = F.cross_entropy(model(x[index]), y[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def throughput_ratio(epochs: int = 20, batch: int = 64) -> None:
    """Our trainer (snapshots on) and the plain loop, one epoch each in turn in this process;
    the fastest epoch of each is compared, so bursts of load on a shared machine do not decide."""
    trainer = Trainer(PRESETS.get("lenet5").create(), {"epochs": epochs, "batch_size": batch})
    events = trainer.run()
    started = next(events)
    if started.kind == "failed":
        print(f"  throughput: FAILED: {started.message}")
        return
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
            return
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


def main() -> None:
    print("training:")
    lenet_on_digits()
    throughput_ratio()


if __name__ == "__main__":
    main()
