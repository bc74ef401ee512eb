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

    Uses the decoder's compiled predict step, ``decoder.predict_on_batch``: it traces the decoder into a graph
    on its first call (about a second) and reuses it, with no data pipeline (unlike ``predict``, which sets one
    up on every call and is 10-50x slower for one point). For the 64x64 face decoder on a 2-core CPU one call
    takes a few milliseconds instead of the 25-100 ms of an eager ``decoder(z)`` call, which is what keeps a
    slider live. Single-channel images come back without the channel axis.
    """
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    latent_dim = decoder.inputs[0].shape[-1]
    if z.shape[0] != latent_dim:
        raise ValueError(f"the decoder expects a point with {latent_dim} coordinates, got {z.shape[0]}")
    image = np.asarray(decoder.predict_on_batch(z[np.newaxis]))[0]
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


def _image_panels(panels: int, width: float, height: float) -> tuple[LiveFigure, list]:
    """A ``LiveFigure`` with ``panels`` image axes in one row, ``width`` inches each, axes hidden."""
    live = LiveFigure(figsize=(width * panels, height))
    axes = [live.figure.add_subplot(1, panels, index + 1) for index in range(panels)]
    for ax in axes:
        ax.axis("off")
    return live, axes


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
        self.live, axes = _image_panels(panels, 2.4, 2.9)
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


# --------------------------------------------------------------------------------------------
# Lesson 05: attribute sliders and morphing (thin wiring over vae_course.attributes)
# --------------------------------------------------------------------------------------------


def _latent_dim(decoder) -> int:
    return int(decoder.inputs[0].shape[-1])


def _check_codes(decoder, codes) -> np.ndarray:
    """``codes`` as float32 ``(N, latent_dim)`` with the decoder's latent_dim, or a clear error."""
    latent_dim = _latent_dim(decoder)
    array = np.asarray(codes, dtype=np.float32)
    if array.ndim == 1 and array.shape[0] == latent_dim:
        array = array[np.newaxis]
    if array.ndim != 2 or array.shape[1] != latent_dim or len(array) == 0:
        raise ValueError(
            f"codes must be (N, {latent_dim}): one code per face with the decoder's {latent_dim} coordinates "
            f"(e.g. the z_mean of some test faces), got shape {array.shape}"
        )
    return array


def _face_options(n_faces: int, face_labels) -> list[tuple[str, int]]:
    """Dropdown options ``(label, index)``: ``face_labels[i]`` (e.g. file names) or ``"face i"``."""
    if face_labels is None:
        return [(f"face {index}", index) for index in range(n_faces)]
    face_labels = [str(label) for label in face_labels]
    if len(face_labels) != n_faces:
        raise ValueError(f"face_labels must hold one label per code ({n_faces}), got {len(face_labels)}")
    return [(label, index) for index, label in enumerate(face_labels)]


def _check_faces(faces, n_faces: int):
    """Optional original images ``(N, H, W, C)`` uint8 (0..255) or float in [0, 1], one per code."""
    if faces is None:
        return None
    if len(faces) != n_faces or len(np.shape(faces[0])) not in (2, 3):
        raise ValueError(
            f"faces must hold one image (H, W) or (H, W, C) per code ({n_faces}), "
            f"got {len(faces)} items of shape {np.shape(faces[0])}"
        )
    return faces


def _face_image(faces, index: int) -> np.ndarray:
    image = np.asarray(faces[index])
    image = image.astype(np.float32) / np.float32(255.0) if image.dtype == np.uint8 else image
    return image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image


def _check_index(index, n_faces: int, what: str = "index") -> int:
    if not 0 <= int(index) < n_faces:
        raise ValueError(f"{what} must be a face index from 0 to {n_faces - 1}, got {index}")
    return int(index)


def _show(ax, image, title: str):
    ax.set_title(title, fontsize=9)
    return ax.imshow(image, cmap=IMAGE_COLORMAP if np.ndim(image) == 2 else None, vmin=0, vmax=1)


class AttributeExplorer:
    """A test face from a dropdown, one slider per attribute vector: ``z = z_face + sum_i alpha_i v_i``, decoded.

    - ``decoder``: maps ``(batch, latent_dim)`` to images ``(batch, H, W, C)`` in [0, 1];
    - ``codes``: ``(N, latent_dim)``, the faces to choose from (e.g. ``z_mean`` of a few dozen test faces;
      a dropdown with thousands of entries is slow to show);
    - ``vectors``: ``(k, latent_dim)`` attribute vectors (``attributes.attribute_vector``), or a dict
      ``{name: vector}``;
    - ``names``: ``k`` slider labels (default: the dict's keys, else "vector 1", ...);
    - ``faces``: optional original images ``(N, H, W, C)`` (uint8 or float in [0, 1]) drawn on the left;
    - ``alpha_range``: ``(low, high)`` of every slider, in units of the vectors (``attributes.shift``);
    - ``step``: slider increment; ``face_labels``: dropdown labels, one per code (e.g. file names);
      ``index``: the face shown first.

    The alphas add up: every slider adds its own ``alpha_i v_i`` (``attributes.shift``) to the selected face's code.
    Display ``explorer.widget``. State: ``explorer.dropdown``, ``explorer.sliders`` (one per vector, in order),
    ``explorer.code`` (the code shown now), ``explorer.start_image`` (``decode_point`` of the face's code),
    ``explorer.last_image`` (``decode_point(decoder, explorer.code)``). ``set_alphas(alphas)`` moves the sliders
    (one list, or a dict ``{name: alpha}``; decodes once), ``select(index)`` picks another face (the alphas
    stay), ``reset()`` puts every alpha back to 0. Only the edited image is redrawn on a slider event.
    """

    def __init__(
        self,
        decoder,
        codes,
        vectors,
        names=None,
        faces=None,
        alpha_range=(-3.0, 3.0),
        step: float = 0.1,
        face_labels=None,
        index: int = 0,
    ):
        from vae_course import attributes

        self._shift = attributes.shift
        self.decoder = decoder
        self.codes = _check_codes(decoder, codes)
        latent_dim = self.codes.shape[1]
        if isinstance(vectors, dict):
            names = list(vectors) if names is None else names
            vectors = list(vectors.values())
        self.vectors = np.asarray(vectors, dtype=np.float32)
        if self.vectors.ndim == 1:
            self.vectors = self.vectors[np.newaxis]
        if self.vectors.ndim != 2 or self.vectors.shape[1] != latent_dim or len(self.vectors) == 0:
            raise ValueError(
                f"vectors must be (k, {latent_dim}): at least one attribute vector with the decoder's "
                f"{latent_dim} coordinates, got shape {np.shape(vectors)}"
            )
        n_vectors = len(self.vectors)
        self.names = (
            [f"vector {i + 1}" for i in range(n_vectors)] if names is None else [str(n) for n in names]
        )
        if len(self.names) != n_vectors:
            raise ValueError(f"names must hold one name per vector ({n_vectors}), got {len(self.names)}")
        low, high = (float(v) for v in alpha_range)
        if not low < high:
            raise ValueError(f"alpha_range must be (low, high) with low < high, got {alpha_range}")
        if not float(step) > 0:
            raise ValueError(f"step must be positive, got {step}")
        self.faces = _check_faces(faces, len(self.codes))
        options = _face_options(len(self.codes), face_labels)
        self.index = _check_index(index, len(self.codes))
        self.start = self.codes[self.index].copy()
        self.code = self.start.copy()
        self._hold = False

        panels = 3 if self.faces is not None else 2
        self.live, axes = _image_panels(panels, 2.4, 2.9)
        self.original_picture = None
        if self.faces is not None:
            self.original_picture = _show(axes[0], _face_image(self.faces, self.index), "original")
        self.start_image = decode_point(decoder, self.start)
        self.start_picture = _show(axes[-2], self.start_image, "decoded face")
        self.last_image = self.start_image
        self.picture = self.live.animate(_show(axes[-1], self.start_image, ""))
        self.caption = self.live.animate(axes[-1].set_title("", fontsize=9))
        self.live.figure.tight_layout()

        self.dropdown = widgets.Dropdown(options=options, value=self.index, description="face")
        self.dropdown.observe(self._on_select, names="value")
        self.sliders = [
            widgets.FloatSlider(
                value=0.0,
                min=low,
                max=high,
                step=float(step),
                description=name,
                continuous_update=True,
                readout_format=".2f",
                style={"description_width": "initial"},
            )
            for name in self.names
        ]
        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.reset_button = widgets.Button(description="reset")
        self.reset_button.on_click(lambda _button: self.reset())
        controls = widgets.VBox([self.dropdown, *self.sliders, self.reset_button])
        self.widget = widgets.HBox([controls, self.live.image])
        self.update(self.alphas)

    @property
    def alphas(self) -> list[float]:
        """The sliders' values, one per vector."""
        return [float(slider.value) for slider in self.sliders]

    def _on_change(self, _change):
        if not self._hold:
            self.update(self.alphas)

    def _on_select(self, change):
        if not self._hold:
            self._select(change["new"])

    def _select(self, index: int) -> bytes:
        self.index = _check_index(index, len(self.codes))
        self.start = self.codes[self.index].copy()
        if self.original_picture is not None:
            self.original_picture.set_data(_face_image(self.faces, self.index))
        self.start_image = decode_point(self.decoder, self.start)
        self.start_picture.set_data(self.start_image)
        self.live.render_background()
        return self.update(self.alphas)

    def update(self, alphas) -> bytes:
        """Decode ``z_face + sum_i alphas[i] * vectors[i]`` and redraw the edited image. Returns the PNG shown."""
        alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
        if len(alphas) != len(self.vectors):
            raise ValueError(f"expected {len(self.vectors)} alphas (one per vector), got {len(alphas)}")
        code = self.start.astype(np.float64)
        for vector, alpha in zip(self.vectors, alphas):
            code = self._shift(code, vector, alpha)[0]
        self.code = code.astype(np.float32)
        self.last_image = decode_point(self.decoder, self.code)
        self.picture.set_data(self.last_image)
        self.caption.set_text(f"edited: moved by {float(np.linalg.norm(self.code - self.start)):.2f}")
        return self.live.refresh()

    def set_alphas(self, alphas):
        """Move the sliders to ``alphas`` (a list, one per vector, or a dict ``{name: alpha}`` for some of them).

        Sliders widen their range to fit a value outside it. Decodes and redraws once.
        """
        if isinstance(alphas, dict):
            unknown = [name for name in alphas if name not in self.names]
            if unknown:
                raise ValueError(f"unknown vector names {unknown}; the sliders are {self.names}")
            values = [float(alphas.get(name, slider.value)) for name, slider in zip(self.names, self.sliders)]
        else:
            values = [float(v) for v in np.asarray(alphas, dtype=np.float64).reshape(-1)]
            if len(values) != len(self.sliders):
                raise ValueError(f"expected {len(self.sliders)} alphas (one per slider), got {len(values)}")
        self._hold = True
        try:
            for slider, value in zip(self.sliders, values):
                slider.max = max(slider.max, value)
                slider.min = min(slider.min, value)
                slider.value = value
        finally:
            self._hold = False
        self.update(self.alphas)

    def select(self, index: int):
        """Show face ``index`` (of ``codes``) with the current alphas; the dropdown follows."""
        index = _check_index(index, len(self.codes))
        self._hold = True
        try:
            self.dropdown.value = index
        finally:
            self._hold = False
        self._select(index)

    def reset(self):
        """Every alpha back to 0: the decoded face itself."""
        self.set_alphas([0.0] * len(self.sliders))


MORPH_MODES = ("lerp", "slerp")
"""The two interpolations of ``MorphExplorer`` (``attributes.lerp`` and ``attributes.slerp``)."""


class MorphExplorer:
    """Two faces from dropdowns, a slider ``t`` in [0, 1] and a lerp/slerp toggle: the decoded path point.

    - ``decoder``: maps ``(batch, latent_dim)`` to images in [0, 1];
    - ``codes``: ``(N, latent_dim)``, the faces to choose from (e.g. ``z_mean`` of test faces);
    - ``faces``: optional original images, one per code (uint8 or float in [0, 1]), drawn at both ends;
    - ``face_labels``: dropdown labels, one per code; ``pair``: the indices of faces A and B shown first;
    - ``t``: the start position; ``mode``: "lerp" or "slerp"; ``step``: slider increment.

    Shown: decoded A, the decoded point ``attributes.lerp(z_a, z_b, t)`` or ``attributes.slerp(z_a, z_b, t)``
    with its norm, decoded B. State: ``explorer.dropdown_a``, ``explorer.dropdown_b``, ``explorer.slider``,
    ``explorer.toggle``, ``explorer.code`` (the path point now), ``explorer.last_image``
    (``decode_point(decoder, explorer.code)``). ``set_t(t)``, ``set_mode(mode)`` and ``select(a, b)`` drive it
    from code.
    """

    def __init__(
        self,
        decoder,
        codes,
        faces=None,
        face_labels=None,
        pair=(0, 1),
        t: float = 0.5,
        mode: str = "slerp",
        step: float = 0.05,
    ):
        from vae_course import attributes

        self._paths = {"lerp": attributes.lerp, "slerp": attributes.slerp}
        self.decoder = decoder
        self.codes = _check_codes(decoder, codes)
        n_faces = len(self.codes)
        self.faces = _check_faces(faces, n_faces)
        options = _face_options(n_faces, face_labels)
        if len(tuple(pair)) != 2:
            raise ValueError(f"pair must be two face indices (a, b), got {pair}")
        self.a = _check_index(pair[0], n_faces, "face A")
        self.b = _check_index(pair[1], n_faces, "face B")
        self._check_mode(mode)
        self._check_t(t)
        if not float(step) > 0:
            raise ValueError(f"step must be positive, got {step}")
        self._hold = False

        panels = 5 if self.faces is not None else 3
        self.live, axes = _image_panels(panels, 2.2, 2.8)
        self.original_pictures = None
        inner = axes[1:-1] if self.faces is not None else axes
        if self.faces is not None:
            self.original_pictures = (
                _show(axes[0], _face_image(self.faces, self.a), "original A"),
                _show(axes[-1], _face_image(self.faces, self.b), "original B"),
            )
        self.end_pictures = (
            _show(inner[0], decode_point(decoder, self.codes[self.a]), "decoded A (t = 0)"),
            _show(inner[2], decode_point(decoder, self.codes[self.b]), "decoded B (t = 1)"),
        )
        self.last_image = decode_point(decoder, self.codes[self.a])
        self.picture = self.live.animate(_show(inner[1], self.last_image, ""))
        self.caption = self.live.animate(inner[1].set_title("", fontsize=9))
        self.live.figure.tight_layout()

        self.dropdown_a = widgets.Dropdown(options=options, value=self.a, description="face A")
        self.dropdown_b = widgets.Dropdown(options=options, value=self.b, description="face B")
        self.slider = widgets.FloatSlider(
            value=float(t), min=0.0, max=1.0, step=float(step), description="t", readout_format=".2f"
        )
        self.toggle = widgets.ToggleButtons(options=list(MORPH_MODES), value=mode, description="path")
        for control in (self.dropdown_a, self.dropdown_b):
            control.observe(self._on_select, names="value")
        for control in (self.slider, self.toggle):
            control.observe(self._on_change, names="value")
        controls = widgets.HBox(
            [widgets.VBox([self.dropdown_a, self.dropdown_b]), widgets.VBox([self.slider, self.toggle])]
        )
        self.widget = widgets.VBox([controls, self.live.image])
        self.update()

    @staticmethod
    def _check_mode(mode: str) -> str:
        if mode not in MORPH_MODES:
            raise ValueError(f"mode must be one of {MORPH_MODES}, got {mode!r}")
        return mode

    @staticmethod
    def _check_t(t) -> float:
        if not 0.0 <= float(t) <= 1.0:
            raise ValueError(f"t must lie in [0, 1] (0 is face A, 1 is face B), got {t}")
        return float(t)

    @property
    def t(self) -> float:
        return float(self.slider.value)

    @property
    def mode(self) -> str:
        return str(self.toggle.value)

    def _on_change(self, _change):
        if not self._hold:
            self.update()

    def _on_select(self, _change):
        if not self._hold:
            self.select(self.dropdown_a.value, self.dropdown_b.value)

    def update(self) -> bytes:
        """Decode the path point at the slider's ``t`` with the toggle's mode and redraw it. Returns the PNG."""
        path = self._paths[self.mode]
        self.code = np.asarray(path(self.codes[self.a], self.codes[self.b], self.t), dtype=np.float32)
        self.last_image = decode_point(self.decoder, self.code)
        self.picture.set_data(self.last_image)
        norm = float(np.linalg.norm(self.code))
        self.caption.set_text(f"{self.mode}, t = {self.t:.2f}, |z| = {norm:.2f}")
        return self.live.refresh()

    def set_t(self, t: float):
        """Move the ``t`` slider (0 is face A, 1 is face B); decodes and redraws."""
        t = self._check_t(t)
        if t == self.slider.value:
            self.update()
        self.slider.value = t

    def set_mode(self, mode: str):
        """Switch the toggle to "lerp" or "slerp"; decodes and redraws."""
        mode = self._check_mode(mode)
        if mode == self.toggle.value:
            self.update()
        self.toggle.value = mode

    def select(self, a: int, b: int):
        """Morph between faces ``a`` and ``b`` (indices of ``codes``); the dropdowns follow."""
        self.a = _check_index(a, len(self.codes), "face A")
        self.b = _check_index(b, len(self.codes), "face B")
        self._hold = True
        try:
            self.dropdown_a.value, self.dropdown_b.value = self.a, self.b
        finally:
            self._hold = False
        if self.original_pictures is not None:
            self.original_pictures[0].set_data(_face_image(self.faces, self.a))
            self.original_pictures[1].set_data(_face_image(self.faces, self.b))
        self.end_pictures[0].set_data(decode_point(self.decoder, self.codes[self.a]))
        self.end_pictures[1].set_data(decode_point(self.decoder, self.codes[self.b]))
        self.live.render_background()
        return self.update()
