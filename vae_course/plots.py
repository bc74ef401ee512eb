"""Figures of the course. Every function returns the matplotlib ``Figure`` it drew.

Images are in [0, 1]: one channel (``(N, H, W)`` or ``(N, H, W, 1)``) is drawn with the grey colormap
``IMAGE_COLORMAP``, three channels (``(N, H, W, 3)``, the face lessons) in their own colours.

Text in figures is English or math on purpose: the code of the Korean and English lessons is
identical, and matplotlib's default font has no Hangul. Nothing here changes rcParams.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from vae_course.latent import decode_grid, normal_quantile_grid, to_p_values

CLASS_COLORMAP = "tab10"
IMAGE_COLORMAP = "gray_r"


def _as_images(images) -> np.ndarray:
    """Images ready for ``imshow``: ``(N, H, W)`` for one channel (squeezed), ``(N, H, W, 3)`` for RGB."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            f"expected images of shape (N, H, W), (N, H, W, 1) or (N, H, W, 3), got {images.shape}"
        )
    return images


def _show(ax, image, **kwargs):
    """``imshow`` in [0, 1]: the grey colormap for one channel, the image's own colours for RGB."""
    colormap = IMAGE_COLORMAP if np.ndim(image) == 2 else None
    return ax.imshow(image, cmap=colormap, vmin=0, vmax=1, **kwargs)


def image_grid(images, ncols: int = 10, titles=None, title: str | None = None, size: float = 1.2):
    """Images ``(N, H, W)``, ``(N, H, W, 1)`` or ``(N, H, W, 3)`` in [0, 1], in rows of ``ncols``.

    One channel is drawn with the grey colormap ``IMAGE_COLORMAP``; three channels in their own colours (RGB).
    ``titles`` (one per image) and ``title`` (the figure's) are optional.
    """
    images = _as_images(images)
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * size, nrows * size * (1.25 if titles else 1)), squeeze=False
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < n:
            _show(ax, images[index])
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def reconstruction_rows(originals, reconstructions, embeddings=None, n: int = 10):
    """Originals (top row) and reconstructions (bottom row) of the first ``n`` images, grey or RGB.

    Images as for ``image_grid``. When ``embeddings`` ``(N, d)`` are given, the first two coordinates of
    each are printed above its reconstruction.
    """
    originals, reconstructions = _as_images(originals)[:n], _as_images(reconstructions)[:n]
    n = len(originals)
    fig, axes = plt.subplots(2, n, figsize=(n * 1.3, 3.2), squeeze=False)
    for index in range(n):
        for row, images in enumerate((originals, reconstructions)):
            _show(axes[row, index], images[index])
            axes[row, index].axis("off")
        if embeddings is not None:
            z = np.asarray(embeddings)[index]
            axes[1, index].set_title("z=(" + ", ".join(f"{v:.1f}" for v in z[:2]) + ")", fontsize=7)
    axes[0, 0].set_title("original", fontsize=8, loc="left")
    fig.text(0.01, 0.02, "bottom row: reconstruction", fontsize=8)
    fig.tight_layout()
    return fig


def latent_scatter(
    z,
    labels=None,
    class_names=None,
    ax=None,
    points=None,
    title: str | None = None,
    size: float = 3.0,
    alpha: float = 0.5,
    axis_names=("$z_1$", "$z_2$"),
):
    """Scatter of 2-D embeddings, coloured by class with a legend when ``labels`` are given.

    ``points`` (n, 2), if given, are drawn on top as numbered black crosses (e.g. sampled points).
    """
    z = np.asarray(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter draws 2-D embeddings: expected (N, 2), got {z.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 6))
    fig = ax.figure
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=size, c="0.3", alpha=alpha, linewidths=0)
    else:
        labels = np.asarray(labels)
        cmap = plt.get_cmap(CLASS_COLORMAP)
        for label in np.unique(labels):
            mask = labels == label
            name = class_names[label] if class_names is not None else str(label)
            ax.scatter(
                z[mask, 0],
                z[mask, 1],
                s=size,
                color=cmap(int(label) % 10),
                alpha=alpha,
                linewidths=0,
                label=name,
            )
        legend = ax.legend(markerscale=4, fontsize=8, loc="upper right", framealpha=0.9)
        for handle in legend.legend_handles:
            handle.set_alpha(1)
    if points is not None:
        points = np.asarray(points)
        ax.scatter(points[:, 0], points[:, 1], marker="x", s=40, c="black", linewidths=1.5)
        for index, (x, y) in enumerate(points[:, :2]):
            ax.annotate(str(index), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=8)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if title:
        ax.set_title(title)
    return fig


def legend_outside(fig):
    """Move the legend of the figure's first axes just right of them, so it hides no points. Returns ``fig``."""
    ax = fig.axes[0]
    legend = ax.get_legend()
    if legend is None:
        raise ValueError(
            "the first axes of this figure have no legend to move; draw them with class labels first"
        )
    legend.set_loc("upper left")
    legend.set_bbox_to_anchor((1.01, 1.0), transform=ax.transAxes)
    return fig


def manifold(
    decoder,
    x_values,
    y_values,
    z=None,
    labels=None,
    ax=None,
    title: str | None = None,
    decode_at=None,
    axis_names=("$z_1$", "$z_2$"),
):
    """Decode a grid over the latent plane and tile the images where their points lie.

    ``x_values``/``y_values``: grid coordinates (evenly spaced). Decoded images with one channel are
    drawn grey, with three channels in colour (RGB). Behind the tiles, the embeddings
    ``z`` (coloured by ``labels``) are drawn faintly when given, so you can see what each area decodes to.
    ``decode_at``: optional ``(x_latent, y_latent)`` decoded instead of ``(x_values, y_values)`` when the
    tiles are drawn in other coordinates than the latent ones (see ``manifold_p_values``).
    """
    x_values, y_values = np.asarray(x_values), np.asarray(y_values)
    tiles = decode_grid(decoder, *((x_values, y_values) if decode_at is None else decode_at))
    n_rows, n_cols, height, width, channels = tiles.shape
    canvas = _as_images(tiles.transpose(0, 2, 1, 3, 4).reshape(1, n_rows * height, n_cols * width, channels))[
        0
    ]
    dx = (x_values[-1] - x_values[0]) / max(n_cols - 1, 1)
    dy = (y_values[-1] - y_values[0]) / max(n_rows - 1, 1)
    extent = (x_values[0] - dx / 2, x_values[-1] + dx / 2, y_values[0] - dy / 2, y_values[-1] + dy / 2)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 8))
    fig = ax.figure
    _show(ax, canvas, extent=extent, aspect="auto", alpha=0.9)
    if z is not None:
        z = np.asarray(z)
        colors = plt.get_cmap(CLASS_COLORMAP)(np.asarray(labels) % 10) if labels is not None else "0.3"
        ax.scatter(z[:, 0], z[:, 1], s=2, c=colors, alpha=0.25, linewidths=0)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if title:
        ax.set_title(title)
    return fig


def manifold_p_values(
    decoder, n: int = 15, low: float = 0.05, high: float = 0.95, z=None, labels=None, title: str | None = None
):
    """The decoded grid in p-value coordinates ``p = Phi(z)`` (the N(0, 1) CDF), as the source book draws it.

    Tiles sit at equal steps of probability, ``linspace(low, high, n)``, and show the decoding of
    ``norm.ppf`` of those probabilities (``latent.normal_quantile_grid``), so the edges stay finite.
    Embeddings ``z`` (N, 2), if given, are drawn behind after ``latent.to_p_values``.
    """
    p_values = np.linspace(low, high, n)
    quantiles = normal_quantile_grid(n, low, high)
    return manifold(
        decoder,
        p_values,
        p_values,
        None if z is None else to_p_values(z),
        labels,
        None,
        title,
        decode_at=(quantiles, quantiles),
        axis_names=(r"$p_1 = \Phi(z_1)$", r"$p_2 = \Phi(z_2)$"),
    )


def loss_curves(history, keys=None, ax=None, title: str | None = None):
    """Training curves from a Keras ``History`` (or its ``.history`` dict): each key and its ``val_`` twin."""
    logs = getattr(history, "history", history)
    keys = keys or [key for key in logs if not key.startswith("val_")]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    fig = ax.figure
    for key in keys:
        epochs = np.arange(1, len(logs[key]) + 1)
        (line,) = ax.plot(epochs, logs[key], marker="o", label=f"train {key}")
        if f"val_{key}" in logs:
            ax.plot(
                epochs,
                logs[f"val_{key}"],
                marker="s",
                linestyle="--",
                color=line.get_color(),
                label=f"validation {key}",
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
