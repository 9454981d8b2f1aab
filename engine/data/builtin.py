"""The built-in data sets, available offline: scikit-learn's Digits and procedurally drawn Shapes.

Both return :class:`ImageData` (uint8 images N×C×H×W, int64 labels, class names) and need only
numpy (and scikit-learn for Digits), never a download.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring", "half-disc")


@dataclass(frozen=True)
class ImageData:
    """Images as uint8 N×C×H×W, labels as int64 N, the name of every class, and notes.

    ``notes`` are short sentences a run shows the person (as ``RunStarted.notes`` does): facts
    about the data that are not errors but would otherwise go unnoticed.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    notes: tuple[str, ...] = ()  # for the person: e.g. an empty class folder, a sampled subset

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.dtype != np.uint8:
            raise ValueError(
                f"{self.name}: images must be uint8 N×C×H×W. "
                f"Received: shape={self.images.shape}, dtype={self.images.dtype}"
            )
        if len(self.labels) != len(self.images):
            raise ValueError(
                f"{self.name}: {len(self.images)} images but {len(self.labels)} labels"
            )

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """One image's shape C×H×W."""
        return tuple(int(s) for s in self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, count: int | None, seed: int = 0) -> ImageData:
        """A seeded sample of ``count`` images stratified by class (all when None).

        Every class keeps its share (rounded) of the pool, so a pool stored class by class (an
        image folder) still gives every class, not just the first ones; the chosen images keep
        their order. The same ``seed`` gives the same sample. Adds a note saying so.
        """
        if count is None or count >= len(self):
            return self
        if count < 1:
            raise ValueError(f"{self.name}: a subset needs at least 1 sample. Received: {count}")
        rng = np.random.default_rng(seed)
        rank = np.empty(len(self), dtype=np.float64)  # position within its class, 0..1
        for label in np.unique(self.labels):
            members = np.flatnonzero(self.labels == label)
            rank[rng.permutation(members)] = (np.arange(len(members)) + 0.5) / len(members)
        # take images in order of their rank: each class contributes in proportion to its size
        chosen = np.sort(np.lexsort((self.labels, rank))[:count])
        labels = self.labels[chosen]
        dropped = sorted(set(self.labels.tolist()) - set(labels.tolist()))
        note = (
            f"data.limit={count}: a seeded sample of {count} of the {len(self)} {self.name} "
            "images, stratified by class"
        )
        if dropped:
            names = ", ".join(repr(self.classes[k]) for k in dropped[:5])
            more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
            note += f"; it holds no images of class {names}{more}: raise data.limit to train them"
        return ImageData(self.name, self.images[chosen], labels, self.classes, (*self.notes, note))


def load_digits() -> ImageData:
    """scikit-learn's 1,797 real handwritten digits, 8×8 with 17 grey levels, as 1×8×8 uint8."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    return ImageData("digits", images, labels, tuple(str(d) for d in range(10)))


def make_shapes(count: int = 3000, size: int = 32, seed: int = 0) -> ImageData:
    """``count`` RGB images of coloured shapes (6 classes), random position, size, angle, noise.

    Deterministic for a given ``seed``. About 2 ms per 100 images of 32×32.
    """
    if count < 1 or size < 8:
        raise ValueError(
            f"shapes: count must be at least 1 and size at least 8. Received: count={count}, size={size}"
        )
    rng = np.random.default_rng(seed)
    labels = np.arange(count, dtype=np.int64) % len(SHAPE_CLASSES)
    rng.shuffle(labels)
    radius = rng.uniform(0.18, 0.4, count) * size
    cx = rng.uniform(radius, size - radius)
    cy = rng.uniform(radius, size - radius)
    angle = rng.uniform(0, 2 * np.pi, count)
    grid = np.arange(size, dtype=np.float32) + 0.5
    dx = grid[None, None, :] - cx[:, None, None]
    dy = grid[None, :, None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u = (dx * cos + dy * sin) / radius[:, None, None]  # rotated coordinates, radius 1
    v = (-dx * sin + dy * cos) / radius[:, None, None]
    mask = np.zeros((count, size, size), dtype=bool)
    for index, name in enumerate(SHAPE_CLASSES):
        chosen = labels == index
        mask[chosen] = _shape_mask(name, u[chosen], v[chosen])
    foreground = rng.uniform(0.0, 1.0, (count, 3)).astype(np.float32)
    background = np.clip(1.0 - foreground + rng.normal(0, 0.15, (count, 3)), 0, 1)
    image = np.where(
        mask[:, None, :, :], foreground[:, :, None, None], background[:, :, None, None]
    ).astype(np.float32)
    image += rng.normal(0.0, 0.06, image.shape).astype(np.float32)
    images = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    return ImageData("shapes", images, labels, SHAPE_CLASSES)


def _shape_mask(name: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Pixels inside shape ``name`` in rotated coordinates scaled to radius 1."""
    au, av = np.abs(u), np.abs(v)
    if name == "circle":
        return u * u + v * v <= 1.0
    if name == "ring":
        d2 = u * u + v * v
        return (d2 <= 1.0) & (d2 >= 0.36)
    if name == "square":
        return np.maximum(au, av) <= 0.75
    if name == "half-disc":
        return (u * u + v * v <= 1.0) & (v >= -0.15)
    if name == "cross":
        return ((au <= 0.28) & (av <= 1.0)) | ((av <= 0.28) & (au <= 1.0))
    # triangle of circumradius 1: inside the three edges' half-planes (inradius 0.5)
    inside = np.ones(u.shape, dtype=bool)
    for t in np.deg2rad((270.0, 30.0, 150.0)):
        inside &= u * np.cos(t) + v * np.sin(t) <= 0.5
    return inside
