"""Interactive explorers for the lessons: thin ipywidgets wiring over plain, tested functions.

Each explorer draws one matplotlib figure off-screen (Agg), keeps the static part as a cached
background, and on every slider event redraws only what moved and sends the PNG to one
``ipywidgets.Image``. That is fast (a few milliseconds on a laptop CPU), needs no ipympl, and
never stacks up figures in the notebook.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from scipy import stats

from vae_course.losses import kl_to_standard_normal
from vae_course.plots import IMAGE_COLORMAP, latent_scatter


def decode_point(decoder, z) -> np.ndarray:
    """Decode one latent point ``z`` (shape ``(latent_dim,)``) into an image ``(H, W)`` or ``(H, W, C)``.

    Calls the decoder directly (no ``predict``: that sets up a data pipeline on every call and is
    10-50x slower for one point). Single-channel images come back without the channel axis.
    """
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    latent_dim = decoder.inputs[0].shape[-1]
    if z.shape[0] != latent_dim:
        raise ValueError(f"the decoder expects a point with {latent_dim} coordinates, got {z.shape[0]}")
    image = np.asarray(decoder(z[np.newaxis], training=False))[0]
    return image[..., 0] if image.shape[-1] == 1 else image


class LiveFigure:
    """A matplotlib figure shown as an ``ipywidgets.Image`` and refreshed by blitting.

    Mark the artists that change with ``animated=True``; ``refresh()`` restores the cached static
    background, draws only those artists and updates the image in place.
    """

    def __init__(self, figsize=(9, 4.2)):
        self.figure = Figure(figsize=figsize, dpi=80)
        self.canvas = FigureCanvasAgg(self.figure)
        self.image = widgets.Image(format="png")
        self._background = None
        self._animated = []

    def animate(self, artist):
        """Register ``artist`` as one that changes on every refresh. Returns the artist."""
        artist.set_animated(True)
        self._animated.append(artist)
        return artist

    def render_background(self):
        """Draw the static part once (call again after changing axes limits or titles)."""
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def refresh(self) -> bytes:
        """Redraw the animated artists over the background and update the image. Returns the PNG."""
        if self._background is None:
            self.render_background()
        self.canvas.restore_region(self._background)
        for artist in self._animated:
            artist.axes.draw_artist(artist)
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
        self.image.value = buffer.getvalue()
        return self.image.value


def _per_axis_limits(limits) -> tuple[tuple[float, float], tuple[float, float]]:
    """``(low, high)`` for both axes, or ``((low1, high1), (low2, high2))``, as two float ranges."""
    array = np.asarray(limits, dtype=np.float64)
    if array.shape == (2,):
        array = np.stack([array, array])
    if array.shape != (2, 2) or np.any(array[:, 0] >= array[:, 1]):
        raise ValueError(
            f"limits must be (low, high) or ((low1, high1), (low2, high2)) with low < high, got {limits}"
        )
    return (float(array[0, 0]), float(array[0, 1])), (float(array[1, 0]), float(array[1, 1]))


class LatentExplorer:
    """Sliders (z1, z2) -> the decoded item, with the point marked on the latent scatter.

    Display ``explorer.widget`` in a notebook cell. ``explorer.set_point(z)`` moves the sliders (and so
    the picture) from code; ``explorer.last_image`` is the image shown now (``decode_point`` of the
    sliders' values). ``decoder`` maps ``(batch, 2)`` to images; ``z`` ``(N, 2)`` with optional ``labels``
    and ``class_names`` is drawn as the latent scatter behind the marker. ``limits`` is one
    ``(low, high)`` range for both sliders or one range per slider: ``((z1_low, z1_high), (z2_low, z2_high))``;
    ``step`` is the slider increment and ``start`` the first point shown.
    """

    def __init__(
        self, decoder, z=None, labels=None, class_names=None, limits=(-3.0, 3.0), step=0.05, start=(0.0, 0.0)
    ):
        self.decoder = decoder
        limits = _per_axis_limits(limits)
        self.live = LiveFigure()
        scatter_ax = self.live.figure.add_subplot(1, 2, 1)
        image_ax = self.live.figure.add_subplot(1, 2, 2)
        if z is not None:
            latent_scatter(z, labels, class_names, ax=scatter_ax, size=2, alpha=0.3)
        scatter_ax.set_xlim(*limits[0])
        scatter_ax.set_ylim(*limits[1])
        scatter_ax.set_title("latent space")
        image_ax.axis("off")
        self.last_image = decode_point(decoder, start)
        self.picture = self.live.animate(
            image_ax.imshow(self.last_image, cmap=IMAGE_COLORMAP, vmin=0, vmax=1)
        )
        (self.marker,) = scatter_ax.plot(
            [start[0]],
            [start[1]],
            marker="o",
            markersize=12,
            markerfacecolor="none",
            markeredgecolor="black",
            markeredgewidth=2.5,
        )
        self.live.animate(self.marker)
        self.caption = self.live.animate(image_ax.set_title(""))
        self.live.figure.tight_layout()
        self.sliders = [
            widgets.FloatSlider(
                value=value,
                min=low,
                max=high,
                step=step,
                description=name,
                continuous_update=True,
                readout_format=".2f",
            )
            for name, value, (low, high) in zip(("z1", "z2"), start, limits)
        ]
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox(self.sliders), self.live.image])
        self.update(start)

    def _on_change(self, _change):
        self.update([slider.value for slider in self.sliders])

    def update(self, z) -> bytes:
        """Decode ``z``, move the marker, redraw. Returns the PNG shown."""
        self.last_image = decode_point(self.decoder, z)
        self.picture.set_data(self.last_image)
        self.marker.set_data([z[0]], [z[1]])
        self.caption.set_text(f"decoded z = ({z[0]:.2f}, {z[1]:.2f})")
        return self.live.refresh()

    def set_point(self, z):
        """Move both sliders to ``z`` (each slider event redraws)."""
        for slider, value in zip(self.sliders, z):
            slider.value = float(value)


class KLExplorer:
    """Sliders for mu and sigma: q = N(mu, sigma^2) drawn against p = N(0, 1), with KL(q || p) live."""

    def __init__(self, mean: float = 1.0, std: float = 0.5):
        self.live = LiveFigure(figsize=(7, 3.6))
        ax = self.live.figure.add_subplot(1, 1, 1)
        self.x = np.linspace(-5, 5, 400)
        ax.plot(self.x, stats.norm.pdf(self.x), color="0.3", label="p = N(0, 1)")
        (self.curve,) = ax.plot(
            self.x, stats.norm.pdf(self.x, mean, std), color="C3", label=r"q = N($\mu$, $\sigma^2$)"
        )
        self.live.animate(self.curve)
        ax.set_ylim(0, 1.7)
        ax.set_xlim(self.x[0], self.x[-1])
        ax.set_xlabel("z")
        ax.set_ylabel("density")
        ax.legend(loc="upper left")
        self.label = self.live.animate(
            ax.text(0.98, 0.92, "", transform=ax.transAxes, ha="right", fontsize=12)
        )
        self.live.figure.tight_layout()
        self.sliders = [
            widgets.FloatSlider(value=mean, min=-3, max=3, step=0.05, description="mu"),
            widgets.FloatSlider(value=std, min=0.25, max=3, step=0.05, description="sigma"),
        ]
        for slider in self.sliders:
            slider.observe(lambda _change: self.update(*(s.value for s in self.sliders)), names="value")
        self.widget = widgets.VBox([widgets.HBox(self.sliders), self.live.image])
        self.kl = None
        self.update(mean, std)

    def update(self, mean: float, std: float) -> bytes:
        """Redraw q and the KL value for ``mean`` and ``std``. Returns the PNG shown."""
        self.kl = kl_to_standard_normal(mean, std)
        self.curve.set_ydata(stats.norm.pdf(self.x, mean, std))
        self.label.set_text(f"KL(q || p) = {self.kl:.3f} nats")
        return self.live.refresh()


class FaceExplorer:
    """Sliders on chosen latent dimensions of one face: move them and see the decoded face change.

    - ``decoder``: maps ``(batch, latent_dim)`` to images ``(batch, H, W, 3)`` (or one channel) in [0, 1];
    - ``z``: the start code ``(latent_dim,)``, e.g. the ``z_mean`` of one test face;
    - ``dims``: the latent dimensions to put on sliders (distinct indices, e.g. the most active ones);
      every other coordinate stays at its value in ``z``;
    - ``original``: optional image ``(H, W, C)`` drawn on the left (the real face behind ``z``);
    - ``limits``: ``(low, high)`` of every slider in latent units (the prior N(0, 1) puts 99.7 % within
      +-3); a start value outside it widens that slider's range to include it;
    - ``step``: slider increment.

    Display ``explorer.widget``. ``explorer.sliders`` (one per entry of ``dims``, in order),
    ``explorer.code`` (the full code shown now), ``explorer.start_image`` (``decode_point`` of ``z``),
    ``explorer.last_image`` (``decode_point`` of ``explorer.code``); ``set_values(values)`` moves the
    sliders from code, ``reset()`` puts them back to ``z``.
    """

    def __init__(self, decoder, z, dims, original=None, limits=(-3.0, 3.0), step: float = 0.05):
        self.decoder = decoder
        self.start = np.asarray(z, dtype=np.float32).reshape(-1).copy()
        latent_dim = decoder.inputs[0].shape[-1]
        if self.start.shape[0] != latent_dim:
            raise ValueError(
                f"the decoder expects a code with {latent_dim} coordinates, got {self.start.shape[0]}"
            )
        self.dims = [int(d) for d in np.asarray(dims).reshape(-1)]
        if not self.dims:
            raise ValueError("dims must name at least one latent dimension to put on a slider")
        if len(set(self.dims)) != len(self.dims) or not all(0 <= d < latent_dim for d in self.dims):
            raise ValueError(
                f"dims must be distinct indices from 0 to {latent_dim - 1} (the latent dimensions), got {self.dims}"
            )
        low, high = (float(v) for v in limits)
        if not low < high:
            raise ValueError(f"limits must be (low, high) with low < high, got {limits}")
        self.code = self.start.copy()

        panels = 3 if original is not None else 2
        self.live = LiveFigure(figsize=(2.4 * panels, 2.9))
        axes = [self.live.figure.add_subplot(1, panels, index + 1) for index in range(panels)]
        for ax in axes:
            ax.axis("off")
        if original is not None:
            original = np.asarray(original)
            axes[0].imshow(original, cmap=IMAGE_COLORMAP if original.ndim == 2 else None, vmin=0, vmax=1)
            axes[0].set_title("original", fontsize=9)
        self.start_image = decode_point(decoder, self.start)
        colormap = IMAGE_COLORMAP if self.start_image.ndim == 2 else None
        axes[-2].imshow(self.start_image, cmap=colormap, vmin=0, vmax=1)
        axes[-2].set_title("decoded start code", fontsize=9)
        self.last_image = self.start_image
        self.picture = self.live.animate(axes[-1].imshow(self.start_image, cmap=colormap, vmin=0, vmax=1))
        self.caption = self.live.animate(axes[-1].set_title("", fontsize=9))
        self.live.figure.tight_layout()

        self.sliders = [
            widgets.FloatSlider(
                value=float(self.start[d]),
                min=min(low, float(self.start[d])),
                max=max(high, float(self.start[d])),
                step=step,
                description=f"z[{d}]",
                continuous_update=True,
                readout_format=".2f",
            )
            for d in self.dims
        ]
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.reset_button = widgets.Button(description="reset")
        self.reset_button.on_click(lambda _button: self.reset())
        self.widget = widgets.HBox([widgets.VBox([*self.sliders, self.reset_button]), self.live.image])
        self.update([slider.value for slider in self.sliders])

    def _on_change(self, _change):
        self.update([slider.value for slider in self.sliders])

    def update(self, values) -> bytes:
        """Set the slider dimensions of the code to ``values`` (one per entry of ``dims``), decode, redraw.

        Returns the PNG shown.
        """
        values = np.asarray(values, dtype=np.float32).reshape(-1)
        if len(values) != len(self.dims):
            raise ValueError(f"expected {len(self.dims)} values (one per slider), got {len(values)}")
        self.code = self.start.copy()
        self.code[self.dims] = values
        self.last_image = decode_point(self.decoder, self.code)
        self.picture.set_data(self.last_image)
        moved = float(np.linalg.norm(self.code - self.start))
        self.caption.set_text(f"moved by {moved:.2f}")
        return self.live.refresh()

    def set_values(self, values):
        """Move the sliders to ``values`` (one per entry of ``dims``); each slider event redraws."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(values) != len(self.sliders):
            raise ValueError(f"expected {len(self.sliders)} values (one per slider), got {len(values)}")
        for slider, value in zip(self.sliders, values):
            slider.max = max(slider.max, float(value))
            slider.min = min(slider.min, float(value))
            slider.value = float(value)

    def reset(self):
        """Put every slider back to its start value (the face decoded from ``z``)."""
        self.set_values(self.start[self.dims])
