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

from vae_course.losses import kl_divergence
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

    def __init__(self, figsize=(9, 4.2), dpi: int = 80):
        self.figure = Figure(figsize=figsize, dpi=dpi)
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
        raise ValueError(f"limits must be (low, high) or ((low1, high1), (low2, high2)) with low < high, got {limits}")
    return (float(array[0, 0]), float(array[0, 1])), (float(array[1, 0]), float(array[1, 1]))


class LatentExplorer:
    """Sliders (z1, z2) -> the decoded item, with the point marked on the latent scatter.

    ``explorer.widget`` is what to display; ``explorer.set_point(z)`` moves the sliders (and so the
    picture) from code; ``explorer.last_image`` is the image shown now. ``limits`` is one
    ``(low, high)`` range for both sliders or one range per slider: ``((z1_low, z1_high), (z2_low, z2_high))``.
    """

    def __init__(self, decoder, z=None, labels=None, class_names=None, limits=(-3.0, 3.0), step=0.05,
                 start=(0.0, 0.0)):
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
        (self.marker,) = scatter_ax.plot([start[0]], [start[1]], marker="o", markersize=12,
                                         markerfacecolor="none", markeredgecolor="black", markeredgewidth=2.5)
        self.live.animate(self.marker)
        self.caption = self.live.animate(image_ax.set_title(""))
        self.live.figure.tight_layout()
        self.sliders = [
            widgets.FloatSlider(value=value, min=low, max=high, step=step, description=name,
                                continuous_update=True, readout_format=".2f")
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


def latent_explorer(decoder, z=None, labels=None, class_names=None, limits=(-3.0, 3.0)) -> LatentExplorer:
    """Build a ``LatentExplorer``; display ``.widget`` in a notebook cell."""
    return LatentExplorer(decoder, z, labels, class_names, limits=limits)


def kl_for(mean: float, std: float) -> float:
    """KL(N(mean, std^2) || N(0, 1)) in nats for one latent dimension, via ``losses.kl_divergence``."""
    if std <= 0:
        raise ValueError(f"std must be positive, got {std}")
    z_mean = np.array([[mean]], dtype=np.float64)
    z_log_var = np.array([[2.0 * np.log(std)]], dtype=np.float64)
    return float(np.asarray(kl_divergence(z_mean, z_log_var))[0])


class KLExplorer:
    """Sliders for mu and sigma: q = N(mu, sigma^2) drawn against p = N(0, 1), with KL(q || p) live."""

    def __init__(self, mean: float = 1.0, std: float = 0.5):
        self.live = LiveFigure(figsize=(7, 3.6))
        ax = self.live.figure.add_subplot(1, 1, 1)
        self.x = np.linspace(-5, 5, 400)
        ax.plot(self.x, stats.norm.pdf(self.x), color="0.3", label="p = N(0, 1)")
        (self.curve,) = ax.plot(self.x, stats.norm.pdf(self.x, mean, std), color="C3", label=r"q = N($\mu$, $\sigma^2$)")
        self.live.animate(self.curve)
        ax.set_ylim(0, 1.7)
        ax.set_xlim(self.x[0], self.x[-1])
        ax.set_xlabel("z")
        ax.set_ylabel("density")
        ax.legend(loc="upper left")
        self.label = self.live.animate(ax.text(0.98, 0.92, "", transform=ax.transAxes, ha="right", fontsize=12))
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
        self.kl = kl_for(mean, std)
        self.curve.set_ydata(stats.norm.pdf(self.x, mean, std))
        self.label.set_text(f"KL(q || p) = {self.kl:.3f} nats")
        return self.live.refresh()

