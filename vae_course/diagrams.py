"""The course's diagrams, drawn with matplotlib and committed as SVG under ``notebooks/figures/``.

Run ``python -m vae_course.diagrams`` to redraw them, ``python -m vae_course.diagrams --check`` to verify that
the committed files are what this script draws (exit status 1 and a list of the files that differ otherwise).

Every label is English or math, so one file serves the Korean and the English lessons.
The output is byte-for-byte deterministic for a given matplotlib version: a fixed ``svg.hashsalt``, no date,
the bundled DejaVu fonts, text drawn as paths (so GitHub renders it without the font installed).
All settings live in a ``matplotlib.rc_context``; importing this module changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

FIGURES_DIR = Path(__file__).resolve().parents[1] / "notebooks" / "figures"

MATPLOTLIB_SERIES = ".".join(matplotlib.__version__.split(".")[:2])
"""Major.minor matplotlib version; the SVG bytes are only reproducible within one series."""

RC_PARAMS = {
    "svg.hashsalt": "vae-course",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "mathtext.fontset": "dejavusans",
    "text.usetex": False,
    "path.simplify": True,
    "axes.unicode_minus": True,
}

# Colours: (fill, edge). One meaning each, in every diagram.
INK = "#222222"
MUTED = "#666666"
ENCODER = ("#dbe7f5", "#2f6aa8")
DECODER = ("#dcefdc", "#2e8540")
LATENT = ("#ece1f5", "#7a4aa0")
RANDOM = ("#fde5cc", "#d2691e")
DATA = ("#f2f2f2", "#555555")
LOSS = ("#fff6d6", "#a07c00")
GRADIENT = "#c0392b"


# --------------------------------------------------------------------------------------------- helpers


def _canvas(width: float, height: float) -> tuple[Figure, object]:
    """A figure of ``width x height`` inches whose data coordinates are inches, origin bottom left."""
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return figure, ax


def _box(ax, center, size, text="", colors=DATA, fontsize=10, rounding=0.06, linewidth=1.2, **text_kwargs):
    """A rounded box centred on ``center`` (inches) with ``text`` in the middle; returns its patch."""
    (x, y), (width, height) = center, size
    patch = FancyBboxPatch(
        (x - width / 2, y - height / 2),
        width,
        height,
        boxstyle=f"round,pad=0,rounding_size={rounding}",
        facecolor=colors[0],
        edgecolor=colors[1],
        linewidth=linewidth,
    )
    ax.add_patch(patch)
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=INK, **text_kwargs)
    return patch


def _arrow(ax, start, end, color=INK, linewidth=1.3, linestyle="-", connection="arc3", shrink=2.0, head=10):
    """An arrow from ``start`` to ``end`` (inches)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=head,
            color=color,
            linewidth=linewidth,
            linestyle=linestyle,
            connectionstyle=connection,
            shrinkA=shrink,
            shrinkB=shrink,
        )
    )


def _tensor(ax, x, y, side, depth, colors):
    """A feature map drawn as a slab: a ``side x side`` front face and an oblique depth, centred at (x, y)."""
    dx, dy = depth * 0.7, depth * 0.5
    left, bottom = x - (side + dx) / 2, y - (side + dy) / 2
    face = Rectangle((left, bottom), side, side, facecolor=colors[0], edgecolor=colors[1], linewidth=1.0)
    top = Polygon(
        [
            (left, bottom + side),
            (left + dx, bottom + side + dy),
            (left + side + dx, bottom + side + dy),
            (left + side, bottom + side),
        ],
        closed=True,
        facecolor=colors[0],
        edgecolor=colors[1],
        linewidth=1.0,
    )
    right = Polygon(
        [
            (left + side, bottom),
            (left + side + dx, bottom + dy),
            (left + side + dx, bottom + side + dy),
            (left + side, bottom + side),
        ],
        closed=True,
        facecolor=colors[1],
        edgecolor=colors[1],
        linewidth=1.0,
        alpha=0.35,
    )
    for patch in (right, top, face):
        ax.add_patch(patch)
    return left, left + side + dx, bottom, bottom + side + dy


def _grid(ax, left, bottom, values, cell, colors=None, fontsize=8, text_color=INK, fmt="{:g}", edge=MUTED):
    """Draw a 2-D array as a grid of cells with their numbers; ``colors`` is a same-shape array of fills."""
    values = np.asarray(values)
    rows, cols = values.shape
    for row in range(rows):
        for col in range(cols):
            fill = "white" if colors is None or colors[row][col] is None else colors[row][col]
            x0, y0 = left + col * cell, bottom + (rows - 1 - row) * cell
            ax.add_patch(Rectangle((x0, y0), cell, cell, facecolor=fill, edgecolor=edge, linewidth=0.6))
            value = values[row, col]
            if value is not None and not (isinstance(value, float) and np.isnan(value)):
                ax.text(
                    x0 + cell / 2,
                    y0 + cell / 2,
                    fmt.format(value),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color=text_color,
                )
    return left, left + cols * cell, bottom, bottom + rows * cell


# --------------------------------------------------------------------------------------------- figures


def draw_autoencoder() -> Figure:
    """Lesson 01's convolutional autoencoder with the shape of every tensor (input 32x32x1, embedding of 2)."""
    width, height = 11.0, 5.0
    figure, ax = _canvas(width, height)
    top, bottom = 3.45, 1.3

    def side(size):  # spatial size in pixels -> side of the drawn front face, inches
        return 0.25 + 0.75 * size / 32

    def depth(channels):  # channels -> drawn depth, inches (logarithmic)
        return 0.05 + 0.05 * np.log2(channels + 1)

    def extent(item):  # drawn width of a tensor item, inches
        kind, size, channels = item[:3]
        if kind == "vector":
            return 0.14
        if kind == "z":
            return 0.3
        return side(size) + 0.7 * depth(channels)

    def draw(item, x, y, colors):
        kind, size, channels, label = item
        if kind == "vector":
            ax.add_patch(Rectangle((x - 0.07, y - 0.75), 0.14, 1.5, facecolor=colors[0], edgecolor=colors[1]))
            ax.text(x, y - 0.85, str(size), ha="center", va="top", fontsize=9.5)
            return
        if kind == "z":
            for low in (y - 0.3, y):
                ax.add_patch(Rectangle((x - 0.15, low), 0.3, 0.3, facecolor=LATENT[0], edgecolor=LATENT[1]))
            ax.text(x + 0.23, y, "(2)", ha="left", va="center", fontsize=9.5)
            ax.text(
                x,
                y + 0.4,
                "embedding z",
                ha="center",
                va="bottom",
                fontsize=10.5,
                color=LATENT[1],
                fontweight="bold",
            )
            return
        _, _, low, high = _tensor(ax, x, y, side(size), depth(channels), colors)
        ax.text(x, low - 0.1, f"{size}×{size}×{channels}", ha="center", va="top", fontsize=9.5)
        if label:
            ax.text(x, high + 0.08, label, ha="center", va="bottom", fontsize=10.5)

    def layout(items, left, right):
        """Centres of ``items`` spread from ``left`` to ``right`` (inches) with equal gaps between edges."""
        widths = [extent(item) for item in items]
        gap = (right - left - sum(widths)) / (len(items) - 1)
        centres, edge = [], left
        for item_width in widths:
            centres.append(edge + item_width / 2)
            edge += item_width + gap
        return centres

    def op(x_from, x_to, y, text, item_from, item_to):
        direction = 1 if x_to > x_from else -1
        start = x_from + direction * extent(item_from) / 2
        end = x_to - direction * extent(item_to) / 2
        _arrow(ax, (start, y), (end, y))
        ax.text(
            (start + end) / 2,
            y + 0.1,
            text,
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=MUTED,
            linespacing=1.15,
        )

    encoder = [
        ("map", 32, 1, "x (input)"),
        ("map", 16, 32, ""),
        ("map", 8, 64, ""),
        ("map", 4, 128, ""),
        ("vector", 2048, None, ""),
        ("z", 2, None, ""),
    ]
    encoder_ops = [
        "Conv2D 32\n3×3, stride 2",
        "Conv2D 64\n3×3, stride 2",
        "Conv2D 128\n3×3, stride 2",
        "Flatten",
        "Dense 2",
    ]
    encoder_x = layout(encoder, 0.3, width - 0.75)
    for index, item in enumerate(encoder):
        draw(item, encoder_x[index], top, DATA if index == 0 else ENCODER)
    for index, text in enumerate(encoder_ops):
        op(encoder_x[index], encoder_x[index + 1], top, text, encoder[index], encoder[index + 1])

    # The decoder runs right to left, starting under z.
    decoder = [
        ("vector", 2048, None, ""),
        ("map", 4, 128, ""),
        ("map", 8, 128, ""),
        ("map", 16, 64, ""),
        ("map", 32, 32, ""),
        ("map", 32, 1, "$\\hat{x}$ (reconstruction)"),
    ]
    decoder_ops = [
        "Reshape",
        "Conv2DTranspose\n128, 3×3\nstride 2",
        "Conv2DTranspose\n64, 3×3\nstride 2",
        "Conv2DTranspose\n32, 3×3\nstride 2",
        "Conv2D 1, 3×3\nsigmoid",
    ]
    decoder_x = layout(decoder[::-1], 0.3, encoder_x[-1] + 0.07)[::-1]
    for index, item in enumerate(decoder):
        draw(item, decoder_x[index], bottom, DATA if index == len(decoder) - 1 else DECODER)
    for index, text in enumerate(decoder_ops):
        op(decoder_x[index], decoder_x[index + 1], bottom, text, decoder[index], decoder[index + 1])

    z_x = encoder_x[-1]
    _arrow(ax, (z_x, top - 0.32), (decoder_x[0], bottom + 0.77))
    ax.text(
        z_x - 0.1, (top + bottom) / 2 + 0.1, "Dense 2048", ha="right", va="center", fontsize=8.5, color=MUTED
    )

    ax.text(0.12, 4.75, "encoder", ha="left", va="center", fontsize=12, fontweight="bold", color=ENCODER[1])
    ax.text(0.12, 0.22, "decoder", ha="left", va="center", fontsize=12, fontweight="bold", color=DECODER[1])
    ax.text(
        width - 0.12,
        0.22,
        "shapes: height × width × channels (batch axis left out)",
        ha="right",
        va="center",
        fontsize=8.5,
        color=MUTED,
    )
    ax.plot([0.1, z_x - 1.2], [2.45, 2.45], color="#cccccc", linewidth=0.8, linestyle=(0, (4, 3)))
    return figure


def draw_vae() -> Figure:
    """The VAE: encoder -> z_mean, z_log_var -> sampling with eps ~ N(0, I) -> decoder; loss = reconstruction + KL."""
    figure, ax = _canvas(11.0, 5.0)
    y = 3.35

    def trapezoid(x, width, wide, narrow, colors, label, shrinking):
        left_h, right_h = (wide, narrow) if shrinking else (narrow, wide)
        points = [
            (x - width / 2, y - left_h / 2),
            (x + width / 2, y - right_h / 2),
            (x + width / 2, y + right_h / 2),
            (x - width / 2, y + left_h / 2),
        ]
        ax.add_patch(Polygon(points, closed=True, facecolor=colors[0], edgecolor=colors[1], linewidth=1.3))
        ax.text(x, y, label, ha="center", va="center", fontsize=9.5, linespacing=1.3)

    ax.text(
        5.5, 4.75, "variational autoencoder (VAE)", ha="center", va="center", fontsize=13, fontweight="bold"
    )
    _box(ax, (0.55, y), (0.75, 0.75), "$x$\n32×32×1", DATA, fontsize=10)
    trapezoid(1.95, 1.45, 1.9, 1.0, ENCODER, "encoder\n3 × Conv2D\nFlatten", shrinking=True)
    mono = {"family": "DejaVu Sans Mono"}
    _box(ax, (3.65, y + 0.6), (1.25, 0.62), "z_mean\n$\\mu$ (2)", ENCODER, fontsize=9.5, **mono)
    _box(ax, (3.65, y - 0.6), (1.25, 0.62), "z_log_var\n$\\log\\sigma^2$ (2)", ENCODER, fontsize=9.5, **mono)
    _box(ax, (5.75, y), (2.45, 1.15), "", LATENT)
    ax.text(
        5.75, y + 0.34, "sampling", ha="center", va="center", fontsize=10, fontweight="bold", color=LATENT[1]
    )
    ax.text(5.75, y + 0.02, "$z = \\mu + \\sigma \\odot \\varepsilon$", ha="center", va="center", fontsize=11)
    ax.text(5.75, y - 0.32, "z_mean + exp(z_log_var / 2) * ε", ha="center", va="center", fontsize=8.5, **mono)
    ax.add_patch(Circle((5.75, 1.85), 0.33, facecolor=RANDOM[0], edgecolor=RANDOM[1], linewidth=1.3))
    ax.text(5.75, 1.85, "$\\varepsilon$", ha="center", va="center", fontsize=13)
    ax.text(
        6.18,
        1.85,
        "$\\varepsilon \\sim \\mathcal{N}(0, I)$\nfresh noise each step",
        ha="left",
        va="center",
        fontsize=9,
        color=RANDOM[1],
    )
    _box(ax, (7.5, y), (0.48, 0.62), "$z$\n(2)", LATENT, fontsize=10)
    trapezoid(
        8.85, 1.7, 1.9, 1.0, DECODER, "decoder\nDense, Reshape\n3 × Conv2D-\nTranspose", shrinking=False
    )
    _box(ax, (10.45, y), (0.75, 0.75), "$\\hat{x}$\n32×32×1", DATA, fontsize=10)

    _arrow(ax, (0.95, y), (1.22, y))
    _arrow(ax, (2.7, y + 0.2), (3.0, y + 0.55))
    _arrow(ax, (2.7, y - 0.2), (3.0, y - 0.55))
    _arrow(ax, (4.3, y + 0.55), (4.52, y + 0.3))
    _arrow(ax, (4.3, y - 0.55), (4.52, y - 0.3))
    _arrow(ax, (5.75, 2.2), (5.75, y - 0.58))
    _arrow(ax, (6.99, y), (7.25, y))
    _arrow(ax, (7.75, y), (7.99, y))
    _arrow(ax, (9.71, y), (10.06, y))

    # The loss: two terms, each wired to what it compares.
    loss_y = 0.95
    _box(
        ax,
        (3.65, loss_y),
        (2.75, 0.7),
        "KL loss\n$\\mathrm{KL}(\\mathcal{N}(\\mu, \\sigma^2)\\,\\|\\,\\mathcal{N}(0, I))$",
        LOSS,
        fontsize=9.5,
    )
    _box(
        ax,
        (9.3, loss_y),
        (2.75, 0.7),
        "reconstruction loss\ncompares $\\hat{x}$ with $x$ (BCE)",
        LOSS,
        fontsize=9.5,
    )
    ax.text(
        6.47, loss_y, "loss = reconstruction + KL", ha="center", va="center", fontsize=11, fontweight="bold"
    )
    dashed = {"color": LOSS[1], "linestyle": (0, (3, 2)), "linewidth": 1.1}
    _arrow(ax, (3.65, y - 0.93), (3.65, loss_y + 0.37), head=8, **dashed)
    _arrow(ax, (10.45, y - 0.4), (10.45, loss_y + 0.37), head=8, **dashed)
    ax.plot([0.55, 0.55, 8.3, 8.3], [y - 0.4, 0.22, 0.22, 0.4], **dashed)
    _arrow(ax, (8.3, 0.4), (8.3, loss_y - 0.37), shrink=0, head=8, **dashed)
    ax.text(0.65, 0.3, "the input $x$ is the target", ha="left", va="bottom", fontsize=8.5, color=LOSS[1])
    return figure


def transposed_convolution_example() -> dict[str, np.ndarray]:
    """The numbers of the transposed-convolution figure, computed both ways.

    Returns ``input`` (2, 2), ``kernel`` (3, 3), ``stamps`` (4, 5, 5): one stamp ``input[i, j] * kernel`` per
    input pixel placed at ``(2 i, 2 j)``, ``output`` (5, 5) their sum, ``zero_inserted`` (3, 3): the input with
    a zero between pixels, ``padded`` (7, 7): that with two zeros around, and ``output_by_convolution`` (5, 5):
    the padded grid convolved with the kernel (a 180-degree-rotated kernel, sliding window, no padding).
    Stride 2, no padding ("valid"); Keras' ``padding="same"`` keeps the first 4 x 4 of ``output``.
    """
    inputs = np.array([[1, 2], [3, 4]])
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    stride, size = 2, kernel.shape[0]
    out_size = (inputs.shape[0] - 1) * stride + size
    stamps = np.zeros((inputs.size, out_size, out_size), dtype=int)
    for index, (row, col) in enumerate(np.ndindex(*inputs.shape)):
        stamps[index, row * stride : row * stride + size, col * stride : col * stride + size] = (
            inputs[row, col] * kernel
        )
    zero_inserted = np.zeros(((inputs.shape[0] - 1) * stride + 1,) * 2, dtype=int)
    zero_inserted[::stride, ::stride] = inputs
    padded = np.pad(zero_inserted, size - 1)
    flipped = kernel[::-1, ::-1]
    by_convolution = np.array(
        [
            [int(np.sum(padded[r : r + size, c : c + size] * flipped)) for c in range(out_size)]
            for r in range(out_size)
        ]
    )
    return {
        "input": inputs,
        "kernel": kernel,
        "stamps": stamps,
        "output": stamps.sum(axis=0),
        "zero_inserted": zero_inserted,
        "padded": padded,
        "output_by_convolution": by_convolution,
    }


def draw_transposed_convolution() -> Figure:
    """A 2x2 input, 3x3 kernel, stride 2: stamping view (top) and the zero-insertion view (bottom), same 5x5 output."""
    example = transposed_convolution_example()
    if not np.array_equal(example["output"], example["output_by_convolution"]):
        raise RuntimeError(
            "the two views of the transposed convolution disagree: fix transposed_convolution_example"
        )
    figure, ax = _canvas(11.0, 6.6)
    pixel_fill = ["#f8d3cf", "#d3e3f6", "#d9efd6", "#f6e6c2"]  # one colour per input pixel
    pixel_edge = ["#c0392b", "#2f6aa8", "#2e8540", "#a07c00"]
    cell = 0.3

    # --- Top: stamping.
    ax.text(
        0.15,
        6.35,
        "1. Stamping: each input pixel scales the kernel, stamped 2 cells apart (stride 2); overlaps add up",
        ha="left",
        va="center",
        fontsize=11,
        fontweight="bold",
    )
    row_y = 4.05
    input_colors = [[pixel_fill[0], pixel_fill[1]], [pixel_fill[2], pixel_fill[3]]]
    _grid(ax, 0.35, row_y + 0.35, example["input"], 0.42, input_colors, fontsize=11)
    ax.text(0.77, row_y + 1.3, "input (2×2)", ha="center", fontsize=9.5)
    _grid(ax, 1.55, row_y + 0.25, example["kernel"], cell, fontsize=9, colors=[["#eeeeee"] * 3] * 3)
    ax.text(2.0, row_y + 1.3, "kernel (3×3)", ha="center", fontsize=9.5)

    x0, spacing, small = 2.85, 1.6, 0.27  # stamps: left of the first, distance between, cell size
    for index in range(4):
        stamp = example["stamps"][index]
        mask = np.zeros((5, 5), dtype=bool)
        row, col = divmod(index, 2)
        mask[2 * row : 2 * row + 3, 2 * col : 2 * col + 3] = True
        values = np.where(mask, stamp, 0).astype(object)
        values[~mask] = None
        colors = np.where(mask, pixel_fill[index], None).tolist()
        left = x0 + index * spacing
        _grid(ax, left, row_y, values, small, colors, fontsize=8)
        value = example["input"][row, col]
        ax.text(
            left + 2.5 * small,
            row_y + 5 * small + 0.1,
            f"{value} × kernel",
            ha="center",
            va="bottom",
            fontsize=9.5,
            color=pixel_edge[index],
        )
        ax.text(
            left + 5 * small + 0.12,
            row_y + 2.5 * small,
            "+" if index < 3 else "=",
            ha="center",
            va="center",
            fontsize=14,
        )
    out_left = x0 + 4 * spacing
    output_colors = [[None] * 5 for _ in range(5)]
    for r in range(5):
        for c in range(5):
            covering = [i for i in range(4) if example["stamps"][i, r, c] != 0]
            output_colors[r][c] = pixel_fill[covering[0]] if len(covering) == 1 else "#dddddd"
    _grid(ax, out_left, row_y, example["output"], small, output_colors, fontsize=8.5)
    ax.text(
        out_left + 2.5 * small,
        row_y + 5 * small + 0.1,
        "output (5×5)",
        ha="center",
        va="bottom",
        fontsize=9.5,
    )
    ax.text(
        10.9,
        row_y - 0.12,
        "grey: sum of several stamps",
        ha="right",
        va="top",
        fontsize=8.5,
        color=MUTED,
    )
    ax.text(
        10.9,
        row_y - 0.38,
        "centre: 1·1 + 2·1 + 3·1 + 4·1 = 10",
        ha="right",
        va="top",
        fontsize=8.5,
        color=MUTED,
    )

    ax.plot([0.1, 10.9], [3.2, 3.2], color="#cccccc", linewidth=0.8, linestyle=(0, (4, 3)))

    # --- Bottom: zero insertion, then an ordinary convolution.
    ax.text(
        0.15,
        2.95,
        "2. Same result: insert a zero between input pixels, pad with 2 zeros, "
        "then slide the kernel (ordinary convolution, stride 1)",
        ha="left",
        va="center",
        fontsize=11,
        fontweight="bold",
    )
    base = 0.45
    _grid(ax, 0.35, base + 0.75, example["input"], 0.42, input_colors, fontsize=11)
    _arrow(ax, (1.3, base + 1.17), (1.85, base + 1.17))
    ax.text(1.575, base + 1.3, "insert\nzeros", ha="center", va="bottom", fontsize=8.5, color=MUTED)
    zero_colors = [[pixel_fill[0], None, pixel_fill[1]], [None] * 3, [pixel_fill[2], None, pixel_fill[3]]]
    _grid(ax, 1.95, base + 0.72, example["zero_inserted"], cell, zero_colors, fontsize=9)
    ax.text(2.4, base + 0.55, "3×3", ha="center", va="top", fontsize=9)
    _arrow(ax, (2.95, base + 1.17), (3.5, base + 1.17))
    ax.text(3.225, base + 1.3, "pad 2", ha="center", va="bottom", fontsize=8.5, color=MUTED)

    padded = example["padded"]
    padded_colors = [[None] * 7 for _ in range(7)]
    for (r, c), fill in zip(((2, 2), (2, 4), (4, 2), (4, 4)), pixel_fill):
        padded_colors[r][c] = fill
    pad_left, pad_bottom = 3.65, 0.1
    _grid(ax, pad_left, pad_bottom, padded, cell, padded_colors, fontsize=8, text_color="#999999")
    for (r, c), value in zip(((2, 2), (2, 4), (4, 2), (4, 4)), example["input"].ravel()):
        ax.text(
            pad_left + c * cell + cell / 2,
            pad_bottom + (6 - r) * cell + cell / 2,
            str(value),
            ha="center",
            va="center",
            fontsize=8,
            color=INK,
            fontweight="bold",
        )
    ax.text(pad_left + 1.05, pad_bottom + 2.15, "padded (7×7)", ha="center", va="bottom", fontsize=9.5)
    # The window that produces the centre output cell (rows 2-4, cols 2-4 of the padded grid).
    window = (2, 2)
    ax.add_patch(
        Rectangle(
            (pad_left + window[1] * cell, pad_bottom + (7 - window[0] - 3) * cell),
            3 * cell,
            3 * cell,
            fill=False,
            edgecolor=GRADIENT,
            linewidth=2.2,
        )
    )

    _arrow(ax, (5.9, base + 1.17), (6.75, base + 1.17))
    ax.text(
        6.325,
        base + 1.05,
        "slide kernel\nrotated 180°\n(same here)",
        ha="center",
        va="top",
        fontsize=8.5,
        color=MUTED,
    )
    out2_left = 6.85
    _grid(
        ax, out2_left, pad_bottom + 0.3, example["output_by_convolution"], cell, output_colors, fontsize=8.5
    )
    ax.add_patch(
        Rectangle(
            (out2_left + 2 * cell, pad_bottom + 0.3 + 2 * cell),
            cell,
            cell,
            fill=False,
            edgecolor=GRADIENT,
            linewidth=2.2,
        )
    )
    ax.text(out2_left + 0.75, pad_bottom + 1.95, "output (5×5), same", ha="center", va="bottom", fontsize=9.5)
    ax.text(
        8.5,
        base + 1.45,
        "red window:\n1·1 + 2·1 + 3·1 + 4·1 = 10\n(zeros add nothing)",
        ha="left",
        va="center",
        fontsize=9,
        color=GRADIENT,
    )
    ax.text(
        8.5,
        base + 0.35,
        "Keras padding='same'\nkeeps the top-left 4×4:\n2×2 in, stride 2 → 4×4 out",
        ha="left",
        va="center",
        fontsize=8.5,
        color=MUTED,
    )
    return figure


def draw_reparameterization_trick() -> Figure:
    """Left: z drawn from N(mu, sigma^2), gradients stop there. Right: z = mu + sigma * eps, gradients reach mu, sigma."""
    figure, ax = _canvas(10.6, 5.2)
    dashes = (0, (4, 2))

    def node(center, text, colors, size=(1.0, 0.55), fontsize=11):
        _box(ax, center, size, text, colors, fontsize=fontsize, rounding=0.1, linewidth=1.4)

    def cross(cx, cy):
        for sign in (1, -1):
            ax.plot(
                [cx - 0.12, cx + 0.12],
                [cy - 0.12 * sign, cy + 0.12 * sign],
                color=GRADIENT,
                linewidth=2.4,
                solid_capstyle="round",
            )

    for offset, title in ((0.0, "sampling z directly"), (5.4, "reparameterisation trick")):
        ax.text(offset + 2.6, 4.95, title, ha="center", va="center", fontsize=13, fontweight="bold")
        node((offset + 0.75, 3.85), "$\\mu$", ENCODER, size=(0.8, 0.55))
        node((offset + 0.75, 1.75), "$\\sigma$", ENCODER, size=(0.8, 0.55))
        ax.text(offset + 0.75, 4.22, "from the encoder", ha="center", va="bottom", fontsize=8.5, color=MUTED)
        node((offset + 4.5, 2.8), "loss $L$", LOSS, size=(0.95, 0.55))
        # Forward pass.
        _arrow(ax, (offset + 1.15, 3.7), (offset + 1.85, 3.13))
        _arrow(ax, (offset + 1.15, 1.9), (offset + 1.85, 2.47))
        _arrow(ax, (offset + 3.48, 2.72), (offset + 4.02, 2.72))
        # Backward pass from the loss to z.
        _arrow(ax, (offset + 4.02, 2.9), (offset + 3.48, 2.9), color=GRADIENT, linestyle=dashes)
        ax.text(
            offset + 3.75,
            3.25,
            "$\\partial L / \\partial z$",
            ha="center",
            va="bottom",
            fontsize=10,
            color=GRADIENT,
        )
    ax.plot([5.2, 5.2], [0.2, 5.1], color="#cccccc", linewidth=0.8, linestyle=(0, (4, 3)))

    # Left: z is a random node; the backward pass stops there.
    node((2.6, 2.8), "$z \\sim \\mathcal{N}(\\mu, \\sigma^2)$", RANDOM, size=(1.75, 0.65))
    ax.text(2.6, 3.18, "random node", ha="center", va="bottom", fontsize=8.5, color=RANDOM[1])
    for start, end, mark in (
        ((2.0, 3.22), (1.3, 3.82), (1.65, 3.52)),
        ((2.0, 2.38), (1.3, 1.78), (1.65, 2.08)),
    ):
        ax.plot([start[0], end[0]], [start[1], end[1]], color=GRADIENT, linestyle=dashes, linewidth=1.3)
        cross(*mark)
    ax.text(
        2.6,
        1.05,
        "no $\\partial z/\\partial\\mu$, no $\\partial z/\\partial\\sigma$:\n"
        "a random draw has no derivative,\nso no gradient reaches the encoder",
        ha="center",
        va="center",
        fontsize=9.5,
        color=GRADIENT,
        linespacing=1.35,
    )

    # Right: z is a deterministic function of mu, sigma and outside noise eps.
    x = 5.4
    node((x + 2.6, 2.8), "$z = \\mu + \\sigma \\odot \\varepsilon$", LATENT, size=(1.75, 0.65))
    ax.text(x + 2.6, 3.18, "deterministic node", ha="center", va="bottom", fontsize=8.5, color=LATENT[1])
    ax.add_patch(Circle((x + 2.6, 1.05), 0.3, facecolor=RANDOM[0], edgecolor=RANDOM[1], linewidth=1.4))
    ax.text(x + 2.6, 1.05, "$\\varepsilon$", ha="center", va="center", fontsize=13)
    ax.text(
        x + 3.0,
        1.05,
        "$\\varepsilon \\sim \\mathcal{N}(0, I)$\nfrom outside,\nno parameters",
        ha="left",
        va="center",
        fontsize=9,
        color=RANDOM[1],
    )
    _arrow(ax, (x + 2.6, 1.35), (x + 2.6, 2.47))
    _arrow(ax, (x + 2.0, 3.22), (x + 1.3, 3.82), color=GRADIENT, linestyle=dashes)
    _arrow(ax, (x + 2.0, 2.38), (x + 1.3, 1.78), color=GRADIENT, linestyle=dashes)
    ax.text(
        x + 1.75,
        3.72,
        "$\\partial L/\\partial\\mu = \\partial L/\\partial z$",
        ha="left",
        va="bottom",
        fontsize=10.5,
        color=GRADIENT,
    )
    ax.text(
        x + 0.2,
        1.3,
        "$\\partial L/\\partial\\sigma = \\partial L/\\partial z \\odot \\varepsilon$",
        ha="left",
        va="top",
        fontsize=10.5,
        color=GRADIENT,
    )

    # Legend.
    ax.plot([0.3, 0.75], [0.3, 0.3], color=INK, linewidth=1.3)
    ax.text(0.85, 0.3, "forward pass", ha="left", va="center", fontsize=9)
    ax.plot([2.3, 2.75], [0.3, 0.3], color=GRADIENT, linewidth=1.3, linestyle=dashes)
    ax.text(2.85, 0.3, "gradient (backward pass)", ha="left", va="center", fontsize=9)
    return figure


FIGURES: dict[str, Callable[[], Figure]] = {
    "autoencoder.svg": draw_autoencoder,
    "vae.svg": draw_vae,
    "transposed_convolution.svg": draw_transposed_convolution,
    "reparameterization_trick.svg": draw_reparameterization_trick,
}
"""File name -> function that draws it. ``write_figures`` saves every one."""


def write_figures(folder: Path | str = FIGURES_DIR, png_folder: Path | str | None = None) -> list[Path]:
    """Draw every diagram into ``folder`` as SVG (and, if given, a PNG copy into ``png_folder`` for a look).

    Returns the SVG paths, in the order of ``FIGURES``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context(RC_PARAMS):
        for name, draw in FIGURES.items():
            figure = draw()
            metadata = {
                "Date": None,
                "Creator": None,
                "Title": name.removesuffix(".svg").replace("_", " "),
                "Description": f"Drawn by python -m vae_course.diagrams (matplotlib {MATPLOTLIB_SERIES}). "
                "Do not edit by hand.",
            }
            path = folder / name
            figure.savefig(path, format="svg", metadata=metadata)
            if png_folder is not None:
                Path(png_folder).mkdir(parents=True, exist_ok=True)
                figure.savefig(Path(png_folder) / name.replace(".svg", ".png"), format="png", dpi=110)
            written.append(path)
    return written


def differing_figures(folder: Path | str = FIGURES_DIR) -> list[str]:
    """Names of the diagrams whose file in ``folder`` is missing or differs from what this script draws now."""
    folder = Path(folder)
    with tempfile.TemporaryDirectory() as scratch:
        fresh = write_figures(scratch)
        return [
            path.name
            for path in fresh
            if not (folder / path.name).is_file() or (folder / path.name).read_bytes() != path.read_bytes()
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vae_course.diagrams", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if a committed file differs"
    )
    parser.add_argument(
        "--folder", type=Path, default=FIGURES_DIR, help=f"where the SVGs live (default {FIGURES_DIR})"
    )
    parser.add_argument("--png", type=Path, default=None, help="also save PNG copies here, to look at them")
    args = parser.parse_args(argv)
    if args.check:
        stale = differing_figures(args.folder)
        if stale:
            print(
                f"These diagrams in {args.folder} differ from what the script draws (matplotlib "
                f"{matplotlib.__version__}): {', '.join(stale)}.\nRun `python -m vae_course.diagrams` and commit "
                "the result.",
                file=sys.stderr,
            )
            return 1
        print(f"OK: {len(FIGURES)} diagrams in {args.folder} are up to date.")
        return 0
    for path in write_figures(args.folder, args.png):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
