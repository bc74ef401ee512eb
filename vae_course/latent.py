"""Working with a latent space: grids, sampling, and the measurements lessons 01 and 02 compare.

The three problems of a plain autoencoder's latent space (lesson 01), measured so that lesson 02
can measure the VAE the same way:

1. uneven areas: ``class_area_shares`` (share of the bounding box that each class "owns");
2. no defined distribution, not centred: ``latent_space_report`` gives the centre and spread;
3. holes: ``nearest_distance`` from sampled points to the nearest embedding.
"""

from __future__ import annotations

import numpy as np
from scipy import spatial, stats


def bounding_box(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension minimum and maximum of embeddings ``z`` of shape ``(N, d)``."""
    z = np.asarray(z)
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"expected embeddings of shape (N, d) with N > 0, got {z.shape}")
    return z.min(axis=0), z.max(axis=0)


def sample_uniform_box(z: np.ndarray, n: int, seed: int | None = None) -> np.ndarray:
    """``n`` points drawn uniformly in the bounding box of ``z``. Shape ``(n, d)``."""
    low, high = bounding_box(z)
    return np.random.default_rng(seed).uniform(low, high, size=(n, len(low))).astype(np.float32)


def sample_standard_normal(n: int, latent_dim: int, seed: int | None = None) -> np.ndarray:
    """``n`` points from the VAE prior N(0, I). Shape ``(n, latent_dim)``, float32."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def nearest_distance(points: np.ndarray, embeddings: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Euclidean distance from each of ``points`` ``(n, d)`` to its nearest row of ``embeddings``.

    With ``exclude_self=True`` (``points`` are the embeddings themselves) the zero distance of each
    point to itself is skipped, giving nearest-neighbour spacing. Shape ``(n,)``.
    """
    tree = spatial.cKDTree(np.asarray(embeddings, dtype=np.float64))
    k = 2 if exclude_self else 1
    distances, _ = tree.query(np.asarray(points, dtype=np.float64), k=k)
    return distances[:, -1] if exclude_self else distances


def grid_points(x_values: np.ndarray, y_values: np.ndarray) -> np.ndarray:
    """All (x, y) pairs of a grid, row by row with y running from top (largest) to bottom.

    Shape ``(len(y_values) * len(x_values), 2)``, so row ``i`` of the image grid holds ``y_values[::-1][i]``.
    """
    xx, yy = np.meshgrid(np.asarray(x_values), np.asarray(y_values)[::-1])
    return np.stack([xx.ravel(), yy.ravel()], axis=-1).astype(np.float32)


def decode_grid(decoder, x_values, y_values) -> np.ndarray:
    """Decode every point of the (x, y) grid. Shape ``(len(y), len(x), H, W, C)``, top row = largest y."""
    points = grid_points(x_values, y_values)
    images = decoder.predict(points, batch_size=256, verbose=0)
    return images.reshape(len(y_values), len(x_values), *images.shape[1:])


def normal_quantile_grid(n: int, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """``norm.ppf(linspace(low, high, n))``: n points of N(0, 1) spaced by equal probability.

    The ends stay finite: ppf(0) and ppf(1) would be -inf and +inf.
    """
    if not 0.0 < low < high < 1.0:
        raise ValueError(f"need 0 < low < high < 1 for finite quantiles, got low={low}, high={high}")
    return stats.norm.ppf(np.linspace(low, high, n))


def to_p_values(z: np.ndarray) -> np.ndarray:
    """Map each coordinate through the N(0, 1) CDF: N(0, 1)-distributed values become uniform on (0, 1)."""
    return stats.norm.cdf(np.asarray(z))


def neighbour_label_agreement(z: np.ndarray, labels: np.ndarray) -> float:
    """Share of embeddings whose nearest other embedding (Euclidean) has the same label.

    ``z``: ``(N, d)`` with N >= 2; ``labels``: ``(N,)``. About ``sum(class_share**2)`` (0.1 for ten
    equal classes) when position says nothing about the class; near 1 when classes form tight clusters.
    """
    z, labels = np.asarray(z, dtype=np.float64), np.asarray(labels)
    if z.ndim != 2 or len(z) < 2 or labels.shape != (len(z),):
        raise ValueError(
            f"expected embeddings (N, d) with N >= 2 and labels (N,), got {z.shape} and {labels.shape}"
        )
    _, index = spatial.cKDTree(z).query(z, k=2)
    own = np.arange(len(z))
    # With duplicate points the tree may list the twin first: take whichever one is not the point itself.
    neighbour = np.where(index[:, 0] == own, index[:, 1], index[:, 0])
    return float(np.mean(labels[neighbour] == labels))


def class_area_shares(
    z: np.ndarray, labels: np.ndarray, n_classes: int = 10, resolution: int = 200
) -> np.ndarray:
    """Share of the 2-D bounding box of ``z`` in which each class's embeddings are nearest.

    The box is cut into ``resolution x resolution`` cells; each cell belongs to the class of its
    nearest embedding. Returns ``(n_classes,)`` shares that add up to 1. With equal-sized classes
    an even latent space would give every class about ``1 / n_classes``.
    """
    z = np.asarray(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"class_area_shares works on a 2-D latent space: expected (N, 2), got {z.shape}")
    low, high = bounding_box(z)
    cells = grid_points(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    _, nearest = spatial.cKDTree(z).query(cells, k=1)
    counts = np.bincount(np.asarray(labels)[nearest], minlength=n_classes)
    return counts / counts.sum()


def latent_space_report(z: np.ndarray, labels: np.ndarray, samples: np.ndarray) -> dict[str, float]:
    """The numbers behind lesson 01's three problems, for any 2-D latent space.

    ``z``: embeddings (N, 2); ``labels``: (N,); ``samples``: points a generator would decode (n, 2).
    Scale-free where a comparison across models needs it:

    * ``area_share_min``/``area_share_max``: smallest and largest class area share (even = 0.1 each);
    * ``centre_distance``: distance of the mean embedding from the origin, in units of the spread
      (mean per-dimension standard deviation) - 0 when centred;
    * ``spread_x``/``spread_y``: standard deviation per dimension;
    * ``hole_ratio_median``/``hole_ratio_p90``: distance from a sample to its nearest embedding,
      divided by the median spacing between neighbouring embeddings (about 1 when there are no holes).
    """
    z = np.asarray(z, dtype=np.float64)
    shares = class_area_shares(z, labels)
    spread = z.std(axis=0)
    spacing = np.median(nearest_distance(z, z, exclude_self=True))
    holes = nearest_distance(samples, z) / spacing
    return {
        "area_share_min": float(shares.min()),
        "area_share_max": float(shares.max()),
        "centre_distance": float(np.linalg.norm(z.mean(axis=0)) / spread.mean()),
        "spread_x": float(spread[0]),
        "spread_y": float(spread[1]),
        "hole_ratio_median": float(np.median(holes)),
        "hole_ratio_p90": float(np.percentile(holes, 90)),
    }
