"""Issue 20, point 7: Grad-CAM and the input gradient.

The engine's ``grad_cam`` and ``input_saliency`` are checked against a hand computation (numpy
loops, no autograd) on a tiny network whose weights are set by hand; the Predict page shows both
maps over the image of a trained run's prediction, for the class and convolution chosen.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.analysis.saliency import SaliencyError, grad_cam, input_saliency

ROOT = Path(__file__).resolve().parents[1]

X = np.array(
    [[1.0, -2.0, 0.5, 3.0], [0.0, 1.5, -1.0, 2.0], [2.5, -0.5, 1.0, -3.0], [1.0, 0.0, -2.0, 0.5]]
)
CONV = np.array([[[[1.0, -1.0], [0.5, 2.0]]], [[[-1.0, 0.5], [1.0, -0.5]]]])  # 2×1×2×2
HEAD = np.arange(2 * 18, dtype=float).reshape(2, 18) % 7 - 3.0  # 2 classes × (2×3×3)


def tiny() -> nn.Module:
    conv = nn.Conv2d(1, 2, 2, bias=False)
    linear = nn.Linear(18, 2)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor(CONV))
        linear.weight.copy_(torch.tensor(HEAD))
        linear.bias.copy_(torch.tensor([0.25, -0.5]))
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), linear).double()


def hand_conv(x: np.ndarray) -> np.ndarray:
    a = np.zeros((2, 3, 3))
    for k in range(2):
        for i in range(3):
            for j in range(3):
                a[k, i, j] = (CONV[k, 0] * x[i : i + 2, j : j + 2]).sum()
    return a


def hand_upsample(m: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize with half-pixel centres (PyTorch's align_corners=False)."""
    n = m.shape[0]
    out = np.zeros((size, size))
    for y in range(size):
        for x in range(size):
            sy = max((y + 0.5) * n / size - 0.5, 0.0)
            sx = max((x + 0.5) * n / size - 0.5, 0.0)
            y0, x0 = int(sy), int(sx)
            y1, x1 = min(y0 + 1, n - 1), min(x0 + 1, n - 1)
            fy, fx = sy - y0, sx - x0
            out[y, x] = (
                (1 - fy) * (1 - fx) * m[y0, x0]
                + (1 - fy) * fx * m[y0, x1]
                + fy * (1 - fx) * m[y1, x0]
                + fy * fx * m[y1, x1]
            )
    return out


@pytest.mark.parametrize("target", [0, 1])
def test_grad_cam_equals_the_hand_computation(target: int) -> None:
    a = hand_conv(X)
    # y_c = sum V_c · relu(A) + b, so d y_c / d A = V_c where A > 0, else 0
    grads = HEAD[target].reshape(2, 3, 3) * (a > 0)
    alpha = grads.mean(axis=(1, 2))
    cam = np.maximum((alpha[:, None, None] * a).sum(0), 0.0)
    expected = hand_upsample(cam, 4)
    score = (HEAD[target] * np.maximum(a, 0).ravel()).sum() + [0.25, -0.5][target]

    model = tiny()
    result = grad_cam(model, torch.tensor(X)[None], target, model[0])
    np.testing.assert_allclose(result.weights.numpy(), alpha, atol=1e-12)
    np.testing.assert_allclose(result.small.numpy(), cam, atol=1e-12)
    np.testing.assert_allclose(result.cam.numpy(), expected, atol=1e-12)
    assert result.score == pytest.approx(score)
    assert cam.max() > 0 and (cam == 0).any()  # the ReLU of the sum matters in this example
    by_name = grad_cam(model, torch.tensor(X)[None, None], target, "0")
    np.testing.assert_allclose(by_name.cam.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("target", [0, 1])
def test_input_saliency_equals_the_hand_computation(target: int) -> None:
    a = hand_conv(X)
    grads = HEAD[target].reshape(2, 3, 3) * (a > 0)
    dx = np.zeros((4, 4))
    for k in range(2):
        for i in range(3):
            for j in range(3):
                dx[i : i + 2, j : j + 2] += grads[k, i, j] * CONV[k, 0]
    got = input_saliency(tiny(), torch.tensor(X)[None], target)
    np.testing.assert_allclose(got.numpy(), np.abs(dx), atol=1e-12)


def test_a_class_out_of_range_or_a_layer_without_maps_is_named() -> None:
    model = tiny()
    x = torch.tensor(X)[None]
    with pytest.raises(SaliencyError, match=r"Received: target_class=5, classes=2. Use 0 to 1"):
        grad_cam(model, x, 5, model[0])
    with pytest.raises(SaliencyError, match=r"Received: layer=3. Choose a convolution"):
        grad_cam(model, x, 0, "3")
    with pytest.raises(SaliencyError, match=r"one image"):
        input_saliency(model, torch.zeros(2, 1, 4, 4, dtype=torch.double), 0)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    done = subprocess.run(
        [sys.executable, "-m", "designer", "train", "--preset", "lenet5_digits", "--data",
         "digits", "--limit", "64", "--epochs", "1", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def _wait_maps(qtbot, page, layer: str | None = None, target: int | None = None) -> None:
    view = page.saliency

    def ready() -> bool:
        r = view.result
        return (
            not view.waiting
            and not page.busy
            and r is not None
            and not isinstance(r, str)
            and (layer is None or r.layer == layer)
            and (target is None or r.target == target)
        )

    qtbot.waitUntil(ready, timeout=30_000)


def test_the_predict_page_overlays_grad_cam_and_the_gradient(qtbot, trained_run, tmp_path) -> None:
    from PySide6.QtGui import QImage

    from designer.training.predict import PredictPage

    page = PredictPage()
    qtbot.addWidget(page)
    page.show()
    page.set_run(str(trained_run))
    page.predict_sample(2)
    view = page.saliency
    _wait_maps(qtbot, page)
    prediction = page.last
    layers = [view.layer.itemText(i) for i in range(view.layer.count())]
    assert len(layers) == 2 and view.layer.currentText() == layers[-1]  # the last by default
    assert view.target.currentIndex() == prediction.predicted
    assert view.result.layer == layers[-1] and view.result.target == prediction.predicted
    assert view.cam.image.shape == (32, 32, 3) and view.gradient.image.shape == (32, 32, 3)
    assert f"Grad-CAM on {layers[-1]}" in view.cam.caption.text()
    assert view.result.cam.min() >= 0.0 and view.result.cam.max() == pytest.approx(1.0)
    # the overlay at 0 is the image alone; at 100 the heat map alone
    grey = prediction.image[0].astype(np.float32) / 255.0
    view.alpha.setValue(0)
    np.testing.assert_allclose(view.cam.image[..., 0], grey, atol=1e-6)
    view.alpha.setValue(100)
    assert not np.allclose(view.cam.image[..., 0], grey)

    other = (prediction.predicted + 1) % 10
    view.target.setCurrentIndex(other)
    _wait_maps(qtbot, page, target=other)
    view.layer.setCurrentIndex(0)
    _wait_maps(qtbot, page, layer=layers[0], target=other)
    assert f"Grad-CAM on {layers[0]}" in view.cam.caption.text()

    # an image file from disk: the maps follow it, keeping the chosen layer
    picture = QImage(40, 24, QImage.Format.Format_RGB888)
    picture.fill(0x202020)
    for x in range(10, 30):
        picture.setPixel(x, 12, 0xFFFFFF)
    path = tmp_path / "stroke.png"
    assert picture.save(str(path))
    page.predict_file(path)
    qtbot.waitUntil(lambda: page.last is not prediction and page.last.source == "stroke.png")
    _wait_maps(qtbot, page, layer=layers[0], target=page.last.predicted)
    page.close()
