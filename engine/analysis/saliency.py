"""What the network looks at (issue 20 point 7): Grad-CAM on a convolution, and the gradient of a
class score with respect to the input pixels. Imports torch (the Predict page calls it).

Grad-CAM (Selvaraju et al., 2017, https://arxiv.org/abs/1610.02391): for the score y_c of
class c (before the softmax) and the K feature maps A_k of a layer,

    alpha_k = mean over positions of d y_c / d A_k
    cam     = ReLU(sum_k alpha_k A_k), upsampled (bilinear) to the input's height and width.

The input saliency (Simonyan et al., 2014, https://arxiv.org/abs/1312.6034) is
max over channels |d y_c / d x|. A forward hook on the layer keeps its output; the gradients
come from ``torch.autograd.grad``, so the model's own ``.grad`` fields are left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.errors import DesignerError


class SaliencyError(DesignerError, ValueError):
    """A class, layer or input the saliency cannot be computed for."""


@dataclass(frozen=True)
class GradCam:
    """Grad-CAM of one image: ``cam`` H×W at the input's size (not scaled), ``small`` at the
    layer's size, ``weights`` the K alphas, ``score`` y_c."""

    cam: torch.Tensor
    small: torch.Tensor
    weights: torch.Tensor
    score: float


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the model's convolutions, in the order they were registered (the forward
    order for compiled designs)."""
    return [name for name, m in model.named_modules() if name and isinstance(m, nn.Conv2d)]


def _one_image(x: torch.Tensor) -> torch.Tensor:
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[0] != 1:
        raise SaliencyError(
            f"saliency: one image C×H×W (or 1×C×H×W) is needed. Received: shape="
            f"{tuple(x.shape)}. Give one image at a time"
        )
    return x.detach() if x.is_floating_point() else x.detach().float()


def _class_score(out: torch.Tensor, target_class: int) -> torch.Tensor:
    scores = out.reshape(out.shape[0], -1)
    if not 0 <= target_class < scores.shape[1]:
        raise SaliencyError(
            f"saliency: class index out of range. Received: target_class={target_class}, "
            f"classes={scores.shape[1]}. Use 0 to {scores.shape[1] - 1}"
        )
    return scores[0, target_class]


def grad_cam(
    model: nn.Module, x: torch.Tensor, target_class: int, layer: nn.Module | str
) -> GradCam:
    """Grad-CAM of ``target_class`` on ``layer`` (a module of ``model`` or its name) for one
    image ``x`` (C×H×W or 1×C×H×W, as the model takes it). The model is run as it is (call
    ``model.eval()`` first for evaluation behaviour)."""
    module = model.get_submodule(layer) if isinstance(layer, str) else layer
    x = _one_image(x)
    kept: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        kept.append(output)

    handle = module.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            score = _class_score(model(x), target_class)
    finally:
        handle.remove()
    if not kept or not isinstance(kept[-1], torch.Tensor) or kept[-1].dim() != 4:
        raise SaliencyError(
            f"Grad-CAM: the layer must produce feature maps (N×K×h×w) on the way to the output. "
            f"Received: layer={layer if isinstance(layer, str) else type(layer).__name__}. "
            "Choose a convolution"
        )
    maps = kept[-1]
    (grads,) = torch.autograd.grad(score, maps, allow_unused=True)
    if grads is None:
        grads = torch.zeros_like(maps)
    weights = grads[0].mean((1, 2))
    small = F.relu((weights[:, None, None] * maps[0]).sum(0)).detach()
    cam = F.interpolate(
        small[None, None], size=tuple(x.shape[2:]), mode="bilinear", align_corners=False
    )[0, 0]
    return GradCam(cam, small, weights.detach(), float(score.detach()))


def input_saliency(model: nn.Module, x: torch.Tensor, target_class: int) -> torch.Tensor:
    """max over channels |d y_c / d x| for one image: H×W (not scaled)."""
    x = _one_image(x).requires_grad_(True)
    with torch.enable_grad():
        score = _class_score(model(x), target_class)
        (grad,) = torch.autograd.grad(score, x)
    return grad[0].abs().amax(0)


def scaled(m: torch.Tensor) -> torch.Tensor:
    """``m`` divided by its maximum (all zeros stays zeros): [0, 1] for display."""
    top = float(m.max()) if m.numel() else 0.0
    return m / top if top > 0 and torch.isfinite(m).all() else torch.zeros_like(m)
