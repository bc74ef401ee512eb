"""vae_course.widgets: the pure functions behind the sliders, and that a slider event redraws."""

from __future__ import annotations

import io

import keras
import numpy as np
import pytest
from PIL import Image

from vae_course import widgets


@pytest.fixture(scope="module")
def linear_decoder():
    """A decoder whose output is known in closed form: image = reshape(z @ W + b) as a 4x4 picture."""
    inputs = keras.Input(shape=(2,))
    dense = keras.layers.Dense(16, name="dense")
    outputs = keras.layers.Reshape((4, 4, 1))(dense(inputs))
    decoder = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(2, 16)).astype(np.float32), rng.normal(size=16).astype(np.float32)
    dense.set_weights([weights, bias])
    return decoder, weights, bias


def test_decode_point_returns_the_image_of_z(linear_decoder):
    decoder, weights, bias = linear_decoder
    z = np.array([0.5, -1.25])
    image = widgets.decode_point(decoder, z)
    assert image.shape == (4, 4)
    np.testing.assert_allclose(image, (z @ weights + bias).reshape(4, 4), rtol=1e-5, atol=1e-6)


def test_decode_point_rejects_a_point_of_the_wrong_size(linear_decoder):
    with pytest.raises(ValueError, match="2 coordinates, got 3"):
        widgets.decode_point(linear_decoder[0], [0.0, 1.0, 2.0])


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_slider_event_decodes_moves_marker_and_redraws(linear_decoder):
    decoder, weights, bias = linear_decoder
    z = np.random.default_rng(1).standard_normal((200, 2))
    explorer = widgets.LatentExplorer(decoder, z, labels=np.arange(200) % 10)
    before = explorer.live.image.value
    explorer.sliders[0].value = 1.5
    np.testing.assert_allclose(
        explorer.last_image, (np.array([1.5, 0.0]) @ weights + bias).reshape(4, 4), rtol=1e-5, atol=1e-6
    )
    assert list(explorer.marker.get_xdata()) == [1.5] and list(explorer.marker.get_ydata()) == [0.0]
    after = explorer.live.image.value
    assert after != before and _png_size(after) == _png_size(before)
    explorer.set_point([-2.0, 2.0])
    assert [s.value for s in explorer.sliders] == [-2.0, 2.0]
    assert explorer.caption.get_text() == "decoded z = (-2.00, 2.00)"


def test_kl_explorer_updates_value_and_curve():
    explorer = widgets.KLExplorer(mean=0.0, std=1.0)
    assert explorer.kl == pytest.approx(0.0, abs=1e-12)
    before = explorer.live.image.value
    explorer.sliders[0].value = 2.0
    assert explorer.kl == pytest.approx(2.0)  # 0.5 * mu^2 with sigma = 1
    assert explorer.label.get_text() == "KL(q || p) = 2.000 nats"
    assert explorer.live.image.value != before
    assert np.argmax(explorer.curve.get_ydata()) == np.argmin(np.abs(explorer.x - 2.0))


def test_explorer_takes_one_range_per_slider(linear_decoder):
    explorer = widgets.LatentExplorer(linear_decoder[0], limits=[(-16.0, 4.0), (-5.0, 9.0)])
    assert [(s.min, s.max) for s in explorer.sliders] == [(-16.0, 4.0), (-5.0, 9.0)]
    scatter_ax = explorer.marker.axes
    assert scatter_ax.get_xlim() == (-16.0, 4.0) and scatter_ax.get_ylim() == (-5.0, 9.0)
    with pytest.raises(ValueError, match="low < high"):
        widgets.LatentExplorer(linear_decoder[0], limits=(3.0, -3.0))


def test_slider_state_maps_to_the_decoded_image(linear_decoder):
    """Whatever the sliders say is what is shown: last_image and the drawn picture are decode(z1, z2)."""
    decoder, weights, bias = linear_decoder
    explorer = widgets.LatentExplorer(decoder)
    for z1, z2 in [(0.25, 0.0), (0.25, -1.75), (-3.0, 3.0)]:
        explorer.sliders[0].value = z1
        explorer.sliders[1].value = z2
        state = np.array([slider.value for slider in explorer.sliders])
        expected = (state @ weights + bias).reshape(4, 4)
        np.testing.assert_allclose(explorer.last_image, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(explorer.picture.get_array()), expected, rtol=1e-5, atol=1e-6)
        assert explorer.caption.get_text() == f"decoded z = ({z1:.2f}, {z2:.2f})"


def test_latent_explorer_keeps_step_and_start(linear_decoder):
    decoder, weights, bias = linear_decoder
    explorer = widgets.LatentExplorer(decoder, step=0.25, start=(1.0, -0.5))
    assert [slider.step for slider in explorer.sliders] == [0.25, 0.25]
    assert [slider.value for slider in explorer.sliders] == [1.0, -0.5]
    np.testing.assert_allclose(
        explorer.last_image, (np.array([1.0, -0.5]) @ weights + bias).reshape(4, 4), rtol=1e-5, atol=1e-6
    )
    assert list(explorer.marker.get_xdata()) == [1.0] and list(explorer.marker.get_ydata()) == [-0.5]
    assert not hasattr(widgets, "latent_explorer"), "the function was folded into the class"


def test_latent_explorer_shows_rgb_decodings_in_colour():
    """A decoder of 4x4 RGB images: the picture keeps its three channels (no grey colormap)."""
    inputs = keras.Input(shape=(2,))
    dense = keras.layers.Dense(48)
    decoder = keras.Model(inputs, keras.layers.Reshape((4, 4, 3))(dense(inputs)))
    red = np.zeros((4, 4, 3), dtype=np.float32)
    red[..., 0] = 1.0
    dense.set_weights([np.zeros((2, 48), dtype=np.float32), red.reshape(-1)])
    explorer = widgets.LatentExplorer(decoder)
    assert explorer.last_image.shape == (4, 4, 3)
    np.testing.assert_array_equal(np.asarray(explorer.picture.get_array()), red)


@pytest.fixture(scope="module")
def rgb_linear_decoder():
    """A decoder of 4x4 RGB images known in closed form: image = sigmoid(reshape(z @ W + b))."""
    inputs = keras.Input(shape=(5,))
    dense = keras.layers.Dense(48, activation="sigmoid")
    decoder = keras.Model(inputs, keras.layers.Reshape((4, 4, 3))(dense(inputs)))
    rng = np.random.default_rng(4)
    weights = rng.normal(0, 0.5, size=(5, 48)).astype(np.float32)
    bias = rng.normal(0, 0.5, size=48).astype(np.float32)
    dense.set_weights([weights, bias])
    return decoder, weights, bias


def _decoded(code, weights, bias):
    logits = np.asarray(code, dtype=np.float64) @ weights + bias
    return (1.0 / (1.0 + np.exp(-logits))).reshape(4, 4, 3)


def test_face_explorer_moves_only_the_slider_dimensions(rgb_linear_decoder):
    decoder, weights, bias = rgb_linear_decoder
    z = np.array([0.5, -1.0, 0.25, 2.0, -0.5], dtype=np.float32)
    explorer = widgets.FaceExplorer(decoder, z, dims=[3, 1])
    assert [s.description for s in explorer.sliders] == ["z[3]", "z[1]"]
    assert [s.value for s in explorer.sliders] == [2.0, -1.0]
    np.testing.assert_allclose(explorer.start_image, _decoded(z, weights, bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explorer.last_image, explorer.start_image)
    before = explorer.live.image.value

    explorer.sliders[0].value = -1.5  # dimension 3
    expected_code = z.copy()
    expected_code[3] = -1.5
    np.testing.assert_array_equal(explorer.code, expected_code)
    np.testing.assert_allclose(
        explorer.last_image, _decoded(expected_code, weights, bias), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(np.asarray(explorer.picture.get_array()), explorer.last_image, rtol=1e-6)
    assert explorer.caption.get_text() == "moved by 3.50"
    after = explorer.live.image.value
    assert after != before
    assert Image.open(io.BytesIO(after)).size == Image.open(io.BytesIO(before)).size

    explorer.set_values([0.0, 1.0])
    expected_code[3], expected_code[1] = 0.0, 1.0
    np.testing.assert_array_equal(explorer.code, expected_code)
    np.testing.assert_allclose(
        explorer.last_image, _decoded(expected_code, weights, bias), rtol=1e-5, atol=1e-6
    )

    explorer.reset()
    np.testing.assert_array_equal(explorer.code, z)
    np.testing.assert_allclose(explorer.last_image, explorer.start_image, rtol=1e-6)


def test_face_explorer_shows_the_original_and_widens_a_range(rgb_linear_decoder):
    decoder, weights, bias = rgb_linear_decoder
    z = np.array([4.5, 0.0, 0.0, 0.0, 0.0], dtype=np.float32)
    original = np.full((4, 4, 3), 0.2, dtype=np.float32)
    explorer = widgets.FaceExplorer(decoder, z, dims=[0, 2], original=original, limits=(-3, 3), step=0.1)
    assert len(explorer.live.figure.axes) == 3
    np.testing.assert_array_equal(np.asarray(explorer.live.figure.axes[0].images[0].get_array()), original)
    assert (explorer.sliders[0].min, explorer.sliders[0].max) == (-3.0, 4.5)
    assert (explorer.sliders[1].min, explorer.sliders[1].max) == (-3.0, 3.0)
    assert explorer.sliders[1].step == 0.1
    explorer.set_values([6.0, -4.0])  # beyond the range: the sliders widen instead of clipping
    assert [s.value for s in explorer.sliders] == [6.0, -4.0]
    np.testing.assert_allclose(
        explorer.last_image, _decoded([6.0, 0, -4.0, 0, 0], weights, bias), rtol=1e-5, atol=1e-6
    )


def test_face_explorer_rejects_bad_arguments(rgb_linear_decoder):
    decoder = rgb_linear_decoder[0]
    z = np.zeros(5)
    with pytest.raises(ValueError, match="5 coordinates, got 4"):
        widgets.FaceExplorer(decoder, np.zeros(4), dims=[0])
    with pytest.raises(ValueError, match="distinct indices from 0 to 4"):
        widgets.FaceExplorer(decoder, z, dims=[0, 0])
    with pytest.raises(ValueError, match="distinct indices from 0 to 4"):
        widgets.FaceExplorer(decoder, z, dims=[5])
    with pytest.raises(ValueError, match="at least one"):
        widgets.FaceExplorer(decoder, z, dims=[])
    with pytest.raises(ValueError, match="low < high"):
        widgets.FaceExplorer(decoder, z, dims=[1], limits=(3, -3))
    explorer = widgets.FaceExplorer(decoder, z, dims=[1, 2])
    with pytest.raises(ValueError, match="expected 2 values"):
        explorer.set_values([1.0])


# --------------------------------------------------------------------------------------------
# Lesson 05: AttributeExplorer, MorphExplorer; decode_point against an eager call
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face_codes():
    """Three codes for the 5-D RGB decoder above, two attribute vectors, and 4x4 'original' uint8 faces."""
    rng = np.random.default_rng(7)
    codes = rng.normal(size=(3, 5)).astype(np.float32)
    vectors = rng.normal(size=(2, 5)).astype(np.float32)
    faces = rng.integers(0, 256, size=(3, 4, 4, 3), dtype=np.uint8)
    return codes, vectors, faces


def test_decode_point_equals_an_eager_decoder_call(rgb_linear_decoder):
    decoder, weights, bias = rgb_linear_decoder
    z = np.array([0.3, -1.0, 2.0, 0.0, 0.5])
    np.testing.assert_allclose(
        widgets.decode_point(decoder, z), _decoded(z, weights, bias), rtol=1e-5, atol=1e-6
    )
    eager = np.asarray(decoder(z[np.newaxis].astype(np.float32), training=False))[0]
    np.testing.assert_allclose(widgets.decode_point(decoder, z), eager, atol=1e-6)
    with pytest.raises(ValueError, match="5 coordinates, got 2"):
        widgets.decode_point(decoder, [0.0, 1.0])


def test_attribute_explorer_sliders_add_up_and_map_to_the_decoded_image(rgb_linear_decoder, face_codes):
    decoder, weights, bias = rgb_linear_decoder
    codes, vectors, faces = face_codes
    explorer = widgets.AttributeExplorer(decoder, codes, vectors, names=["Smiling", "Male"], faces=faces)
    assert [s.description for s in explorer.sliders] == ["Smiling", "Male"]
    assert [s.value for s in explorer.sliders] == [0.0, 0.0]
    np.testing.assert_allclose(explorer.start_image, _decoded(codes[0], weights, bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(explorer.last_image, explorer.start_image, atol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(explorer.live.figure.axes[0].images[0].get_array()), faces[0] / np.float32(255)
    )
    before = explorer.live.image.value

    explorer.sliders[0].value = 1.5
    explorer.sliders[1].value = -0.5  # the second slider adds to the first, it does not replace it
    expected_code = codes[0] + 1.5 * vectors[0] - 0.5 * vectors[1]
    np.testing.assert_allclose(explorer.code, expected_code, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(explorer.last_image, widgets.decode_point(decoder, expected_code), atol=1e-6)
    np.testing.assert_allclose(
        explorer.last_image, _decoded(expected_code, weights, bias), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(np.asarray(explorer.picture.get_array()), explorer.last_image, rtol=1e-6)
    moved = np.linalg.norm(expected_code - codes[0])
    assert explorer.caption.get_text() == f"edited: moved by {moved:.2f}"
    assert explorer.live.image.value != before

    explorer.set_alphas({"Male": 2.0})  # by name: the other slider stays
    assert explorer.alphas == [1.5, 2.0]
    np.testing.assert_allclose(
        explorer.code, codes[0] + 1.5 * vectors[0] + 2.0 * vectors[1], rtol=1e-6, atol=1e-6
    )
    explorer.set_alphas([-4.0, 0.0])  # outside (-3, 3): the slider widens instead of clipping
    assert explorer.sliders[0].min == -4.0 and explorer.alphas == [-4.0, 0.0]
    np.testing.assert_allclose(
        explorer.last_image, _decoded(codes[0] - 4.0 * vectors[0], weights, bias), rtol=1e-5, atol=1e-6
    )
    explorer.reset()
    assert explorer.alphas == [0.0, 0.0]
    np.testing.assert_allclose(explorer.code, codes[0], atol=1e-7)


def test_attribute_explorer_selects_faces_and_keeps_the_alphas(rgb_linear_decoder, face_codes):
    decoder, weights, bias = rgb_linear_decoder
    codes, vectors, faces = face_codes
    explorer = widgets.AttributeExplorer(
        decoder,
        codes,
        {"a": vectors[0], "b": vectors[1]},
        faces=faces,
        face_labels=["x.jpg", "y.jpg", "z.jpg"],
    )
    assert explorer.names == ["a", "b"]
    assert [label for label, _ in explorer.dropdown.options] == ["x.jpg", "y.jpg", "z.jpg"]
    explorer.set_alphas([1.0, 0.0])
    explorer.select(2)
    assert explorer.dropdown.value == 2 and explorer.index == 2
    np.testing.assert_allclose(explorer.code, codes[2] + vectors[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(explorer.start_image, _decoded(codes[2], weights, bias), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(
        np.asarray(explorer.original_picture.get_array()), faces[2] / np.float32(255)
    )
    explorer.dropdown.value = 1  # the learner picks a face
    np.testing.assert_allclose(
        explorer.last_image, _decoded(codes[1] + vectors[0], weights, bias), rtol=1e-5, atol=1e-6
    )


def test_attribute_explorer_rejects_bad_arguments(rgb_linear_decoder, face_codes):
    decoder = rgb_linear_decoder[0]
    codes, vectors, faces = face_codes
    with pytest.raises(ValueError, match=r"codes must be \(N, 5\)"):
        widgets.AttributeExplorer(decoder, codes[:, :4], vectors)
    with pytest.raises(ValueError, match=r"vectors must be \(k, 5\)"):
        widgets.AttributeExplorer(decoder, codes, vectors[:, :3])
    with pytest.raises(ValueError, match="one name per vector"):
        widgets.AttributeExplorer(decoder, codes, vectors, names=["only one"])
    with pytest.raises(ValueError, match="low < high"):
        widgets.AttributeExplorer(decoder, codes, vectors, alpha_range=(3, -3))
    with pytest.raises(ValueError, match="one image"):
        widgets.AttributeExplorer(decoder, codes, vectors, faces=faces[:2])
    with pytest.raises(ValueError, match="one label per code"):
        widgets.AttributeExplorer(decoder, codes, vectors, face_labels=["a"])
    with pytest.raises(ValueError, match="from 0 to 2"):
        widgets.AttributeExplorer(decoder, codes, vectors, index=3)
    explorer = widgets.AttributeExplorer(decoder, codes, vectors)
    with pytest.raises(ValueError, match="expected 2 alphas"):
        explorer.set_alphas([1.0])
    with pytest.raises(ValueError, match="unknown vector names"):
        explorer.set_alphas({"Smiling": 1.0})
    with pytest.raises(ValueError, match="from 0 to 2"):
        explorer.select(-1)


def test_morph_explorer_slider_and_toggle_map_to_the_decoded_path_point(rgb_linear_decoder, face_codes):
    from vae_course import attributes

    decoder, weights, bias = rgb_linear_decoder
    codes = face_codes[0]
    explorer = widgets.MorphExplorer(decoder, codes, pair=(0, 2), t=0.25, mode="lerp")
    expected = 0.75 * codes[0].astype(np.float64) + 0.25 * codes[2]
    np.testing.assert_allclose(explorer.code, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(explorer.last_image, _decoded(expected, weights, bias), rtol=1e-5, atol=1e-6)
    assert explorer.caption.get_text() == f"lerp, t = 0.25, |z| = {np.linalg.norm(expected):.2f}"

    explorer.toggle.value = "slerp"  # the learner clicks the toggle
    slerped = attributes.slerp(codes[0], codes[2], 0.25)
    assert np.linalg.norm(slerped - expected) > 1e-3  # the two paths differ here
    np.testing.assert_allclose(explorer.code, slerped, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(explorer.last_image, widgets.decode_point(decoder, slerped), atol=1e-6)
    np.testing.assert_allclose(np.asarray(explorer.picture.get_array()), explorer.last_image, rtol=1e-6)

    explorer.set_t(0.0)
    np.testing.assert_array_equal(explorer.code, codes[0])
    explorer.set_mode("lerp")
    explorer.slider.value = 1.0
    np.testing.assert_array_equal(explorer.code, codes[2])
    np.testing.assert_allclose(explorer.last_image, _decoded(codes[2], weights, bias), rtol=1e-5, atol=1e-6)
    assert explorer.mode == "lerp" and explorer.t == 1.0


def test_morph_explorer_selects_a_new_pair(rgb_linear_decoder, face_codes):
    decoder, weights, bias = rgb_linear_decoder
    codes, _, faces = face_codes
    explorer = widgets.MorphExplorer(decoder, codes, faces=faces, t=0.5, mode="lerp")
    assert len(explorer.live.figure.axes) == 5
    explorer.select(1, 2)
    assert (explorer.dropdown_a.value, explorer.dropdown_b.value) == (1, 2)
    np.testing.assert_allclose(explorer.code, 0.5 * (codes[1] + codes[2]), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(explorer.end_pictures[0].get_array()),
        _decoded(codes[1], weights, bias),
        rtol=1e-5,
        atol=1e-6,
    )
    np.testing.assert_array_equal(
        np.asarray(explorer.original_pictures[1].get_array()), faces[2] / np.float32(255)
    )
    explorer.dropdown_a.value = 0  # the learner picks face A
    np.testing.assert_allclose(explorer.code, 0.5 * (codes[0] + codes[2]), rtol=1e-6, atol=1e-6)


def test_morph_explorer_rejects_bad_arguments(rgb_linear_decoder, face_codes):
    decoder = rgb_linear_decoder[0]
    codes = face_codes[0]
    with pytest.raises(ValueError, match="mode must be one of"):
        widgets.MorphExplorer(decoder, codes, mode="cubic")
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        widgets.MorphExplorer(decoder, codes, t=1.5)
    with pytest.raises(ValueError, match="face B must be a face index from 0 to 2"):
        widgets.MorphExplorer(decoder, codes, pair=(0, 3))
    with pytest.raises(ValueError, match=r"codes must be \(N, 5\)"):
        widgets.MorphExplorer(decoder, np.zeros((2, 3)))
    explorer = widgets.MorphExplorer(decoder, codes)
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        explorer.set_t(-0.1)
    with pytest.raises(ValueError, match="mode must be one of"):
        explorer.set_mode("LERP")
