"""Fine-tuning on an image folder from the command line (issue 20, point 4): LeNet-5 weights
for 10 classes start a 3-class design on a folder of PNG images, the classifier trained anew,
the frozen block unchanged; the run folder records where it started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def image_folder(root: Path) -> Path:
    """Three classes (a bar, a square, a cross) of eight 24×24 PNG images each."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("bar", "square", "cross"):
        (root / label).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 40, (24, 24, 3), dtype=np.uint8)
            o = int(rng.integers(2, 6))
            if label == "bar":
                pixels[:, 10 + o // 2 : 14 + o // 2] = 230
            elif label == "square":
                pixels[o : 24 - o, o : 24 - o] = 230
            else:
                pixels[11:13, :] = pixels[:, 11:13] = 230
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def test_fine_tune_on_an_image_folder_from_pretrained_weights(tmp_path: Path) -> None:
    import torch

    from engine.compiler import compile_graph
    from presets import PRESETS

    torch.manual_seed(5)
    start = compile_graph(PRESETS.get("lenet5").create()).state_dict()
    weights = tmp_path / "lenet10.pt"
    torch.save(start, weights)
    folder = image_folder(tmp_path / "images")
    out = tmp_path / "runs"
    done = subprocess.run(
        [sys.executable, "-m", "designer", "train", "--preset", "lenet5", "--option",
         "classes=3", "--data", "imagefolder", "--data-dir", str(folder), "--epochs", "1",
         "--batch-size", "8", "--weights", str(weights), "--freeze", "conv1", "--out",
         str(out), "--device", "cpu"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = done.stdout + done.stderr
    assert "8 of the design's 10 tensors matched" in report, report
    assert "fc3.weight: file 10×84, design 3×84 (the classifier: trained anew)" in report
    assert "Traceback" not in report
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    settings = json.loads((run / "settings.json").read_text())["settings"]
    assert settings["weights"] == str(weights.resolve()) and settings["freeze"] == ["conv1"]
    assert settings["data"]["dataset"] == "imagefolder"
    trained = torch.load(run / "last.pt", weights_only=True)["model"]
    assert torch.equal(trained["conv1.weight"], start["conv1.weight"])  # frozen
    assert not torch.equal(trained["conv2.weight"], start["conv2.weight"])  # fine-tuned
    assert trained["fc3.weight"].shape == (3, 84)
