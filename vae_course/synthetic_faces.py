"""A synthetic face set in CelebA's official layout, drawn with known attributes (offline and CI).

No machine of the course can download CelebA, yet the face lessons need faces. This module draws
them procedurally (NumPy + Pillow) and writes them exactly as CelebA ships::

    folder/
      img_align_celeba/000001.jpg ...   178 wide x 218 high JPEGs, aligned as CelebA is
      list_attr_celeba.txt              count, the 40 official names, rows "000001.jpg -1  1 ..."
      list_eval_partition.txt           "000001.jpg 0" (0 train, 1 valid, 2 test)
      factors.csv                       the continuous ground truth behind every image
      SYNTHETIC_FACES.json              written last: generator, version, n_images, seed

so ``vae_course.celeba.load_celeba`` reads it through the very same code as real CelebA. Because the
generator knows the truth behind every label, lesson 05 can measure its attribute vectors exactly.

Alignment (as CelebA's ``img_align_celeba``): the eyes sit at about (70, 111) and (108, 111) in the
178x218 image, the mouth at y ~ 154, the chin at y ~ 175; face, hair and hat stay inside the centred
148x148 square that the loader crops (``celeba.crop_box``: x 15..163, y 35..183), apart from a hat's crown
and long hair.

How a face is drawn: everything is placed in a face frame (origin between the eyes, 1 unit = 1 pixel),
mapped to the image by a small rotation, scale and shift, and drawn with ``ImageDraw`` at 2x resolution
(reduced at the end: anti-aliasing). Shadows, highlights, blush and eye shadow go into a blurred
multiplicative layer; hair and beards get strand texture and a sheen; a Lambertian ellipsoid lit from the
lighting direction shades the person, and the head casts a soft shadow on the background. Then JPEG
compression at a random quality. About 5-6 ms of one CPU core per face (``python -m vae_course.bench faces``).

Factors (``factors.csv``; one row per image; ``U`` uniform, ``B`` Bernoulli, ``Beta`` beta draw)

=====================  =============================================  ==================================
factor                 drawn as                                       drawn in the image as
=====================  =============================================  ==================================
male                   B(0.42)                                        hair length, jaw, brows, beard...
age                    Beta(1.4, 3) in [0, 1]                         gray hair, wrinkles, eye bags
face_width             U(0, 1)                                        cheek half-width 38..48 px
face_length            U(0, 1)                                        chin 62..68 px below the eyes
jaw                    U(0, 1), +0.35 if male (clipped)               chin shape: pointed .. square
skin_tone              Beta(2.2, 1.6), 0 dark .. 1 pale               skin colour (skin_r, skin_g, skin_b)
hair_colour            black / brown / blond / gray / auburn          hair, brows, beard (hair_r, g, b)
hair_length            Beta(1.5, 5) male, Beta(4, 2) female           0 cropped .. 1 below the shoulders
bangs                  0, or U(0.6, 1) with p 0.18                    fringe down over the forehead
waviness               U(0, 1)                                        wave bands in the hair
hairline_recession     U(0, 1) if male and age > 0.45, else U(0, 0.3) receding temples, bald crown
eye_size, eye_openness U(0.85, 1.15), U(0.15, 1)                      almond size and aperture
eyebrow_thickness      U(0.3, 1) male, U(0, 0.7) female               brow thickness
eyebrow_arch           U(0, 0.6) male, U(0.2, 1) female               brow arch
mouth_curvature        U(0.5, 1) with p 0.48, else U(-0.3, 0.2)       corners up (smile) or down
mouth_opening          U(0.5, 1) w.p. 0.9 (smiling) / 0.2, else U(0, 0.2) open mouth, teeth
lip_thickness          U(0, 1)                                        lip heights
nose_size, nose_point  U(0, 1), U(0, 1)                               nose width / tip
cheekbones             U(0.3, 1) if smiling else U(0, 0.7)            raised cheek highlights
eyeglasses             B(0.12 + 0.08 male + 0.1 [age > 0.6])          frames, lenses, arms
sunglasses             B(0.25) among eyeglasses                       dark lenses
hat                    B(0.08); hat_style beanie / cap / fedora        a hat over the hair
beard                  male: 0 or density U(0.5, 1); beard_style      full beard or goatee, stippled
moustache              male: B(0.85 full, 0.7 goatee, 0.08 none)      hair over the upper lip
stubble                male without beard: 0 or U(0.5, 1), p 0.25     faint shadow on the jaw
lipstick               female B(0.75), male B(0.01)                   saturated lip colour
makeup                 heavy: U(0.6, 1); lipstick only: U(0, 0.25)    eye shadow, eyeliner, blush
blush                  makeup x U(0.5, 1), or natural U(0.6, 1) p .05 rosy cheeks
under_eye_bags         age x 0.9 + U(-0.2, 0.3)                       crescents under the eyes
earrings, necklace     female B(0.25), B(0.15)                        studs or hoops; a chain
necktie                male B(0.15)                                   collar and tie
background_r, g, b     random hue, saturation 0.1..0.5, value .3..0.95 soft gradient behind the head
rotation_deg           U(-2.5, 2.5)                                   roll of the whole head
shift_x, shift_y       U(-2, 2) px                                    translation
scale                  U(0.96, 1.04)                                  size
light_azimuth_deg      U(-50, 50), light_elevation_deg U(10, 40)      shading, shadow side
jpeg_quality           integer U[70, 95]                              JPEG artefacts
blur                   U(0, 1)                                        Gaussian blur 1.2..2 px above 0.9
attractive             B(0.5)                                         nothing (see below)
=====================  =============================================  ==================================

The 40 attributes (``list_attr_celeba.txt``), all from the factors above:

- Drawn, with CelebA's meaning: Smiling (mouth_curvature > 0.35), Mouth_Slightly_Open (mouth_opening > 0.35),
  Eyeglasses, Wearing_Hat, Male, No_Beard (no full beard or goatee), Mustache, Goatee, Sideburns (full beard),
  5_o_Clock_Shadow (stubble > 0.5), Wearing_Lipstick, Heavy_Makeup (makeup > 0.5), Rosy_Cheeks (blush > 0.5),
  Black_Hair / Brown_Hair / Blond_Hair / Gray_Hair (hair_colour; none when bald; auburn has no label),
  Bangs (bangs > 0.4), Bald (recession > 0.85), Receding_Hairline (0.45 < recession <= 0.85),
  Wavy_Hair (waviness > 0.6) and Straight_Hair (waviness < 0.25; neither when bald), Pale_Skin
  (skin_tone > 0.85), Young (age < 0.45), Bushy_Eyebrows (thickness > 0.65), Arched_Eyebrows (arch > 0.55),
  Narrow_Eyes (eye_openness < 0.3), Big_Lips (lip_thickness > 0.7), Big_Nose (nose_size > 0.7),
  Pointy_Nose (nose_point > 0.7), High_Cheekbones (cheekbones > 0.5), Bags_Under_Eyes (under_eye_bags > 0.5),
  Chubby (face_width > 0.8), Double_Chin (face_width > 0.7 and age > 0.5), Oval_Face (jaw < 0.3 and
  face_length > 0.4), Wearing_Earrings, Wearing_Necklace, Wearing_Necktie, Blurry (blur > 0.9).
- Random, no visual meaning: Attractive (a reminder that some CelebA labels are opinions).

Correlations built in on purpose, as in CelebA (so lesson 05 can show attribute bias):

==========================================  =====================================================
pair                                        how
==========================================  =====================================================
Male with No_Beard = -1, Mustache, Goatee   beards, moustaches, stubble and sideburns only on men
Male against Wearing_Lipstick, Heavy_Makeup  lipstick 75 % of women, 1 % of men; makeup women only
Heavy_Makeup with Wearing_Lipstick           heavy makeup only with lipstick (P(Lipstick | Makeup) = 1)
Gray_Hair against Young                      gray only when age > 0.5; Young is age < 0.45
Male with short hair, Bald, Receding         hair length by sex; recession only for men over 0.45
Blond_Hair against Male                      blond for 30 % of non-gray women, 10 % of men
Smiling with Mouth_Slightly_Open             open mouths 90 % of smiles, 20 % otherwise
Smiling with High_Cheekbones                 cheekbones drawn from a higher range when smiling
Bags_Under_Eyes and Double_Chin with age     both grow with the age factor
==========================================  =====================================================

Reproducibility: image ``i`` (1-based) is drawn from ``numpy.random.default_rng([seed, i])`` alone, so the
same seed gives byte-identical files whatever the number of processes, and a set of n faces holds the first
n faces of any larger set with the same seed. The partition depends on the index alone too (``split_code``:
of every ten faces, eight train, one valid, one test), so the sets also agree on every face's split: the test
faces of FAST mode's small set are test faces of full mode's large set, never training faces of its model.

Legibility: a 64x64 VAE trained for minutes on a CPU learns what moves many pixels first. Smiles (a broad,
open grin with teeth) and eyeglasses (thick dark frames, tinted lenses) are drawn larger than life so that
lesson 04's model encodes them and lesson 05 can measure their vectors; ``GENERATOR_VERSION`` 2.

Caching: ``ensure_synthetic_celeba(n_images, seed)`` keeps one folder per (n_images, seed),
``synthetic_celeba_<n>_<seed>`` in the artifacts folder. Its content depends only on those two numbers, so
FAST and full mode share a set when they ask for the same size; unlike model artifacts the folder has no
``_fast`` suffix. ``SYNTHETIC_FACES.json`` is written last and marks a complete set.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vae_course.celeba import ATTRIBUTE_NAMES

IMAGE_WIDTH = 178
"""Width of a CelebA aligned image, pixels."""
IMAGE_HEIGHT = 218
"""Height of a CelebA aligned image, pixels."""
EYE_POSITIONS = ((70.0, 111.0), (108.0, 111.0))
"""Where the left and right eye centres land in an unrotated, unshifted face: (x, y) pixels."""
GENERATOR_VERSION = 2
"""Bumped whenever the drawing changes, so a cached set of an older version is drawn again."""
DEFAULT_N_IMAGES = 20_000
DEFAULT_SEED = 42
MARKER_NAME = "SYNTHETIC_FACES.json"
"""Written last into a complete set: ``{"generator", "version", "n_images", "seed"}``."""


SMILING_THRESHOLD = 0.35
"""Smiling is ``mouth_curvature > SMILING_THRESHOLD`` (corners raised)."""
MOUTH_OPEN_THRESHOLD = 0.35
"""Mouth_Slightly_Open is ``mouth_opening > MOUTH_OPEN_THRESHOLD``."""

HAIR_COLOURS = {
    "black": (28, 24, 24),
    "brown": (100, 64, 38),
    "blond": (222, 188, 120),
    "gray": (172, 170, 168),
    "auburn": (140, 62, 34),
}
"""Base RGB of each hair colour (each face varies it a little). Auburn has no CelebA label."""

_SKIN_PALETTE = np.array(
    [
        (0.00, 92, 60, 44),
        (0.30, 160, 110, 80),
        (0.60, 212, 162, 130),
        (0.85, 238, 203, 180),
        (1.00, 250, 228, 214),
    ],
    dtype=np.float64,
)
_IRIS_COLOURS = ((70, 42, 25), (95, 60, 30), (60, 90, 130), (80, 110, 80), (40, 30, 25), (110, 95, 60))
_LIPSTICK_COLOURS = ((196, 28, 48), (165, 20, 62), (215, 80, 115), (130, 28, 58), (220, 60, 60))
_EYESHADOW_COLOURS = ((125, 75, 65), (120, 72, 132), (82, 102, 150), (178, 138, 90), (90, 60, 60))
_FRAME_COLOURS = ((18, 18, 20), (62, 36, 22), (48, 48, 56), (96, 64, 30), (120, 24, 30), (30, 45, 110))
_HAT_COLOURS = (
    (160, 30, 35),
    (30, 40, 90),
    (40, 40, 40),
    (200, 190, 170),
    (60, 100, 60),
    (120, 80, 50),
    (230, 230, 230),
    (190, 120, 40),
)
_CLOTH_COLOURS = (
    (30, 30, 35),
    (230, 230, 235),
    (40, 60, 120),
    (120, 30, 40),
    (70, 90, 70),
    (150, 130, 110),
    (200, 170, 60),
    (90, 60, 120),
)
_HAT_STYLES = ("beanie", "cap", "fedora")
_BEARD_STYLES = ("none", "full", "goatee")


# ----------------------------------------------------------------------------------------------------------
# Factors and attributes
# ----------------------------------------------------------------------------------------------------------


def _mix(colour_a, colour_b, weight: float) -> tuple:
    """(1 - weight) * colour_a + weight * colour_b, as floats."""
    return tuple((1.0 - weight) * a + weight * b for a, b in zip(colour_a, colour_b))


def _skin_colour(tone: float) -> tuple:
    stops = _SKIN_PALETTE[:, 0]
    return tuple(float(np.interp(tone, stops, _SKIN_PALETTE[:, channel])) for channel in (1, 2, 3))


def _hsv_to_rgb(hue: float, saturation: float, value: float) -> tuple:
    index = int(hue * 6.0) % 6
    fraction = hue * 6.0 - int(hue * 6.0)
    p, q, t = (
        value * (1 - saturation),
        value * (1 - saturation * fraction),
        value * (1 - saturation * (1 - fraction)),
    )
    rgb = ((value, t, p), (q, value, p), (p, value, t), (p, q, value), (t, p, value), (value, p, q))[index]
    return tuple(255.0 * c for c in rgb)


def sample_factors(rng: np.random.Generator) -> dict:
    """Draw the factors of one face (see the module docstring). Values are floats, ints or short strings."""
    f: dict = {}
    male = rng.random() < 0.42
    age = float(rng.beta(1.4, 3.0))
    f["male"] = int(male)
    f["age"] = age
    f["face_width"] = float(rng.random())
    f["face_length"] = float(rng.random())
    f["jaw"] = float(min(1.0, rng.random() * 0.8 + (0.35 if male else 0.0)))
    tone = float(rng.beta(2.2, 1.6))
    f["skin_tone"] = tone
    skin = _skin_colour(tone)
    # Older skin is a little less saturated; every face varies a little in hue.
    grey = sum(skin) / 3.0
    skin = _mix(skin, (grey, grey, grey), 0.08 * age)
    skin = tuple(c * (1.0 + 0.04 * rng.standard_normal()) for c in skin)
    f["skin_r"], f["skin_g"], f["skin_b"] = (float(np.clip(c, 0, 255)) for c in skin)

    p_gray = float(np.clip((age - 0.5) * 2.0, 0.0, 0.9))
    if rng.random() < p_gray:
        hair_colour = "gray"
    else:
        p_blond = 0.10 if male else 0.30
        weights = np.array([0.36, 0.34 - (p_blond - 0.2) * 0.5, p_blond, 0.0, 0.08])
        hair_colour = ("black", "brown", "blond", "gray", "auburn")[rng.choice(5, p=weights / weights.sum())]
    hair = np.array(HAIR_COLOURS[hair_colour]) * (1.0 + 0.10 * rng.standard_normal())
    if hair_colour == "gray":
        hair = _mix(hair, (235, 235, 235), rng.random() * 0.6)
    f["hair_colour"] = hair_colour
    f["hair_r"], f["hair_g"], f["hair_b"] = (float(np.clip(c, 0, 255)) for c in hair)
    f["hair_length"] = float(rng.beta(1.5, 5.0) if male else rng.beta(4.0, 2.0))
    f["bangs"] = float(rng.uniform(0.6, 1.0)) if rng.random() < 0.18 else 0.0
    f["waviness"] = float(rng.random())
    f["hairline_recession"] = float(rng.random() if (male and age > 0.45) else rng.uniform(0.0, 0.3))
    if f["hairline_recession"] > 0.85:
        f["bangs"] = 0.0
    f["eye_size"] = float(rng.uniform(0.85, 1.15))
    f["eye_openness"] = float(rng.uniform(0.15, 1.0))
    f["eyebrow_thickness"] = float(rng.uniform(0.3, 1.0) if male else rng.uniform(0.0, 0.7))
    f["eyebrow_arch"] = float(rng.uniform(0.0, 0.6) if male else rng.uniform(0.2, 1.0))
    smiling = rng.random() < 0.48
    f["mouth_curvature"] = float(rng.uniform(0.5, 1.0) if smiling else rng.uniform(-0.3, 0.2))
    opened = rng.random() < (0.9 if smiling else 0.1)
    f["mouth_opening"] = float(rng.uniform(0.5, 1.0) if opened else rng.uniform(0.0, 0.2))
    f["lip_thickness"] = float(rng.random())
    f["nose_size"] = float(rng.random())
    f["nose_point"] = float(rng.random())
    f["cheekbones"] = float(rng.uniform(0.3, 1.0) if smiling else rng.uniform(0.0, 0.7))
    f["eyeglasses"] = int(rng.random() < 0.12 + 0.08 * male + 0.1 * (age > 0.6))
    f["sunglasses"] = int(f["eyeglasses"] and rng.random() < 0.25)
    f["hat"] = int(rng.random() < 0.08)
    f["hat_style"] = _HAT_STYLES[rng.integers(3)] if f["hat"] else "none"
    style = "none"
    if male and rng.random() < 0.35:
        style = "full" if rng.random() < 0.62 else "goatee"
    f["beard_style"] = style
    f["beard"] = float(rng.uniform(0.5, 1.0)) if style != "none" else 0.0
    p_moustache = {"full": 0.85, "goatee": 0.7, "none": 0.08}[style]
    f["moustache"] = float(rng.uniform(0.5, 1.0)) if (male and rng.random() < p_moustache) else 0.0
    f["stubble"] = float(rng.uniform(0.5, 1.0)) if (male and style == "none" and rng.random() < 0.25) else 0.0
    lipstick = rng.random() < (0.01 if male else 0.75)
    heavy = (not male) and lipstick and rng.random() < 0.65
    f["lipstick"] = int(lipstick)
    f["makeup"] = float(rng.uniform(0.6, 1.0) if heavy else (rng.uniform(0.0, 0.25) if lipstick else 0.0))
    natural_blush = float(rng.uniform(0.6, 1.0)) if rng.random() < 0.05 else 0.0
    f["blush"] = max(f["makeup"] * float(rng.uniform(0.5, 1.0)), natural_blush)
    f["under_eye_bags"] = float(np.clip(age * 0.9 + rng.uniform(-0.2, 0.3), 0.0, 1.0))
    f["earrings"] = int((not male) and rng.random() < 0.25)
    f["necklace"] = int((not male) and rng.random() < 0.15)
    f["necktie"] = int(male and rng.random() < 0.15)
    background = _hsv_to_rgb(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.95))
    f["background_r"], f["background_g"], f["background_b"] = (float(c) for c in background)
    f["rotation_deg"] = float(rng.uniform(-2.5, 2.5))
    f["shift_x"] = float(rng.uniform(-2.0, 2.0))
    f["shift_y"] = float(rng.uniform(-2.0, 2.0))
    f["scale"] = float(rng.uniform(0.96, 1.04))
    f["light_azimuth_deg"] = float(rng.uniform(-50.0, 50.0))
    f["light_elevation_deg"] = float(rng.uniform(10.0, 40.0))
    f["jpeg_quality"] = int(rng.integers(70, 96))
    f["blur"] = float(rng.random())
    f["attractive"] = int(rng.random() < 0.5)
    return f


def attributes_from_factors(f: dict) -> dict:
    """The 40 CelebA attributes of one face (name -> bool), as the module docstring defines them."""
    male = bool(f["male"])
    bald = f["hairline_recession"] > 0.85
    colour = f["hair_colour"]
    beard = f["beard_style"]
    return {
        "5_o_Clock_Shadow": f["stubble"] > 0.5,
        "Arched_Eyebrows": f["eyebrow_arch"] > 0.55,
        "Attractive": bool(f["attractive"]),
        "Bags_Under_Eyes": f["under_eye_bags"] > 0.5,
        "Bald": bald,
        "Bangs": f["bangs"] > 0.4,
        "Big_Lips": f["lip_thickness"] > 0.7,
        "Big_Nose": f["nose_size"] > 0.7,
        "Black_Hair": colour == "black" and not bald,
        "Blond_Hair": colour == "blond" and not bald,
        "Blurry": f["blur"] > 0.9,
        "Brown_Hair": colour == "brown" and not bald,
        "Bushy_Eyebrows": f["eyebrow_thickness"] > 0.65,
        "Chubby": f["face_width"] > 0.8,
        "Double_Chin": f["face_width"] > 0.7 and f["age"] > 0.5,
        "Eyeglasses": bool(f["eyeglasses"]),
        "Goatee": beard == "goatee",
        "Gray_Hair": colour == "gray" and not bald,
        "Heavy_Makeup": f["makeup"] > 0.5,
        "High_Cheekbones": f["cheekbones"] > 0.5,
        "Male": male,
        "Mouth_Slightly_Open": f["mouth_opening"] > MOUTH_OPEN_THRESHOLD,
        "Mustache": f["moustache"] > 0.0,
        "Narrow_Eyes": f["eye_openness"] < 0.3,
        "No_Beard": beard == "none",
        "Oval_Face": f["jaw"] < 0.3 and f["face_length"] > 0.4,
        "Pale_Skin": f["skin_tone"] > 0.85,
        "Pointy_Nose": f["nose_point"] > 0.7,
        "Receding_Hairline": 0.45 < f["hairline_recession"] <= 0.85,
        "Rosy_Cheeks": f["blush"] > 0.5,
        "Sideburns": beard == "full",
        "Smiling": f["mouth_curvature"] > SMILING_THRESHOLD,
        "Straight_Hair": f["waviness"] < 0.25 and not bald,
        "Wavy_Hair": f["waviness"] > 0.6 and not bald,
        "Wearing_Earrings": bool(f["earrings"]),
        "Wearing_Hat": bool(f["hat"]),
        "Wearing_Lipstick": bool(f["lipstick"]),
        "Wearing_Necklace": bool(f["necklace"]),
        "Wearing_Necktie": bool(f["necktie"]),
        "Young": f["age"] < 0.45,
    }


# ----------------------------------------------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------------------------------------------


# Pixel centres of a half-resolution grid, in full-resolution pixels (shading and hair are smooth).
# Grids of pixel positions: 1x, and the pixel centres of a half-resolution grid (for smooth fields).
_HALF_SIZE = (IMAGE_WIDTH // 2, IMAGE_HEIGHT // 2)
_HALF_Y, _HALF_X = np.mgrid[0 : IMAGE_HEIGHT // 2, 0 : IMAGE_WIDTH // 2].astype(np.float32) * 2.0 + 0.5
_GRID_Y, _GRID_X = np.mgrid[0:IMAGE_HEIGHT, 0:IMAGE_WIDTH].astype(np.float32)
_WAVES = np.sin(_GRID_Y / 4.0 + 1.3 * np.sin(_GRID_X / 8.0)).astype(np.float32)
"""Wave bands of wavy hair (and curly beards): a fixed pattern whose amplitude follows ``waviness``."""


@functools.lru_cache(maxsize=512)
def _unit_arc(n: int, start: float, stop: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(start, stop, n, endpoint=(stop - start) < 2.0 * math.pi - 1e-9)
    return np.cos(t), np.sin(t)


def _ellipse(cx, cy, a, b, angle_deg=0.0, n=36, start=0.0, stop=2.0 * math.pi) -> np.ndarray:
    """Points (n, 2) on an ellipse centred at (cx, cy) with half-axes a, b, rotated by angle_deg."""
    c, s = _unit_arc(n, float(start), float(stop))
    x, y = a * c, b * s
    if angle_deg:
        cos, sin = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
        x, y = cos * x - sin * y, sin * x + cos * y
    points = np.empty((n, 2))
    points[:, 0] = cx + x
    points[:, 1] = cy + y
    return points


def _mirror(points: np.ndarray) -> np.ndarray:
    return points * np.array([-1.0, 1.0])


def _both(shape) -> list:
    """The shape and its mirror image (left and right features)."""
    if isinstance(shape, np.ndarray):
        return [shape, _mirror(shape)]
    return [shape, ("line", _mirror(shape[1]), shape[2])]


def _scaled(colour, factor: float) -> tuple:
    return tuple(min(255.0, c * factor) for c in colour)


def _line(points, width: float):
    """A stroked polyline of ``width`` face units."""
    return ("line", np.asarray(points, dtype=np.float64), width)


def _closed(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, points[:1]])


class _Canvas:
    """Paints shapes given in face coordinates onto a 2x (356x436) RGB image, later reduced to 178x218.

    Face coordinates: origin between the eyes, x to the right, y down, 1 unit = 1 image pixel before the
    face's scale. Shapes are drawn straight onto the 2x image (``ImageDraw``, alpha-blended when translucent);
    reducing it at the end anti-aliases every edge. Soft shadows, highlights, blush and eye shadow go into a
    half-resolution shading layer (``shade``) that is blurred once and multiplied in at the end. A 1x layer
    records how much strand texture (hair, beard) each pixel gets; every opaque paint overwrites it, so a face
    drawn over hair hides the hair's texture too. A half-resolution mask of the person separates it from the
    background for the lighting. Texture, lighting and cast shadow are applied once, by ``finish``.
    """

    def __init__(self, background: tuple, rotation_deg: float, scale: float, shift: tuple):
        self.image = Image.new("RGB", (2 * IMAGE_WIDTH, 2 * IMAGE_HEIGHT), tuple(int(c) for c in background))
        self.opaque = ImageDraw.Draw(self.image)
        self.blend = ImageDraw.Draw(self.image, "RGBA")
        self.texture = Image.new("L", (IMAGE_WIDTH, IMAGE_HEIGHT), 0)
        self.texture_draw = ImageDraw.Draw(self.texture)
        self.foreground = Image.new(
            "L", _HALF_SIZE, 0
        )  # where the person is (for the shading), half resolution
        self.foreground_draw = ImageDraw.Draw(self.foreground)
        self.light = Image.new(
            "RGB", _HALF_SIZE, (128, 128, 128)
        )  # soft multiplicative shading x 128, half res
        self.light_draw = ImageDraw.Draw(self.light)
        angle = math.radians(rotation_deg)
        cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
        self.matrix = np.array([[cos, sin], [-sin, cos]])  # face coordinates (row vectors) -> 1x image pixels
        self.scale = scale
        self.origin = np.array(
            [(EYE_POSITIONS[0][0] + EYE_POSITIONS[1][0]) / 2.0 + shift[0], EYE_POSITIONS[0][1] + shift[1]]
        )

    def shade(self, factor, shapes, alpha: float = 1.0):
        """Multiply the finished image by ``factor`` (a number, or one per RGB channel) inside ``shapes``,
        with strength ``alpha`` and soft edges (the shading layer is blurred by about 3 pixels). Later shapes
        replace earlier ones where they overlap. For shadows, highlights, blush and eye shadow."""
        factor = (factor, factor, factor) if isinstance(factor, (int, float)) else factor
        fill = tuple(int(min(255.0, 128.0 * (1.0 - alpha * (1.0 - k))) + 0.5) for k in factor)
        matrix, origin = 0.5 * self.matrix, 0.5 * self.origin
        for shape in shapes:
            is_line = not isinstance(shape, np.ndarray)
            xy = (shape[1] if is_line else shape) @ matrix + origin
            self._draw(self.light_draw, fill, xy, is_line, 0.5 * shape[2] * self.scale if is_line else 0.0)

    def paint(self, colour, shapes, alpha: float = 1.0, texture: float = 0.0):
        """Paint ``colour`` (RGB) with opacity ``alpha`` into ``shapes`` (point arrays = filled polygons, or
        ``_line``s). ``texture`` (0..1) is how much strand texture the painted pixels get (hair, beard)."""
        rgb = (int(colour[0] + 0.5), int(colour[1] + 0.5), int(colour[2] + 0.5))
        matrix, origin = 2.0 * self.matrix, 2.0 * self.origin
        for shape in shapes:
            is_line = not isinstance(shape, np.ndarray)
            xy = (shape[1] if is_line else shape) @ matrix + origin
            width = 2.0 * shape[2] * self.scale if is_line else 0.0
            if alpha >= 0.995:
                self._draw(self.opaque, rgb, xy, is_line, width)
            else:
                self._draw(self.blend, rgb + (int(255.0 * alpha + 0.5),), xy, is_line, width)
            if texture > 0.0 or alpha >= 0.5:  # what is painted over hair hides its texture too
                self._draw(self.texture_draw, int(255.0 * texture + 0.5), 0.5 * xy, is_line, 0.5 * width)
                if not is_line:
                    self.foreground_draw.polygon((0.25 * xy).ravel().tolist(), fill=255, outline=255, width=1)

    @staticmethod
    def _draw(draw, fill, xy, is_line, width):
        if is_line:
            draw.line(xy.ravel().tolist(), fill=fill, width=max(1, int(width + 0.5)), joint="curve")
        else:
            draw.polygon(xy.ravel().tolist(), fill=fill)

    def finish(
        self, rng, light: tuple, head_width: float, hair_colour, waviness: float, blur: float
    ) -> Image.Image:
        """Reduce to 178x218; shade by the light, the cast shadow and the soft shading layer; add the strand
        texture; blur if Blurry."""
        base = np.asarray(self.image.reduce(2), dtype=np.float32)
        # Lighting and the soft layer are smooth: combine them at half resolution, as 100 x factor in uint8.
        shade = _shading(self, head_width, light, rng)
        soft = np.asarray(self.light.filter(ImageFilter.BoxBlur(1)), dtype=np.float32)
        combined = soft * (shade * np.float32(100.0 / 128.0))[..., None] + np.float32(0.5)
        combined = Image.fromarray(np.clip(combined, 0, 255).astype(np.uint8), "RGB")
        base *= np.asarray(combined.resize((IMAGE_WIDTH, IMAGE_HEIGHT), Image.BILINEAR), dtype=np.float32)
        strength = np.asarray(self.texture, dtype=np.float32)
        if strength.any():
            strength *= np.float32(1.0 / 255.0)
            streaks = rng.standard_normal((IMAGE_HEIGHT // 12, IMAGE_WIDTH // 2), dtype=np.float32)
            streaks = np.asarray(
                Image.fromarray(streaks, "F").resize((IMAGE_WIDTH, IMAGE_HEIGHT), Image.BICUBIC)
            )
            crown = self.origin[1] - 50.0 * self.scale
            sheen = ((0.2 - 0.1 * waviness) * np.exp(-(((_GRID_Y[:, :1] - crown) / 8.0) ** 2))).astype(
                np.float32
            )
            modulation = strength * (0.13 * streaks + (0.2 * waviness) * _WAVES + sheen)
            modulation += np.float32(1.0)
            base *= (modulation * np.float32(0.01))[..., None]
            # Dark hair needs some light added to show its strands at all.
            base += (strength * (6.0 * streaks + 160.0 * sheen) * np.float32(1.0 - sum(hair_colour) / 765.0))[
                ..., None
            ]
        else:
            base *= np.float32(0.01)
        np.clip(base, 0.0, 255.0, out=base)
        image = Image.fromarray(base.astype(np.uint8), "RGB")
        if blur > 0.0:
            image = image.filter(ImageFilter.GaussianBlur(blur))
        return image


def _shading(canvas: _Canvas, width: float, light: tuple, rng) -> np.ndarray:
    """Shade factor of every pixel at half resolution, (109, 89): the lighting is smooth.

    The person (where opaque paint went) is lit as a Lambertian ellipsoid around the head, whose rim normals
    carry on over hair and shoulders; the background gets a gentle gradient and the soft shadow that head and
    shoulders cast away from the light. Faint, broad blotches vary both.
    """
    dx = _HALF_X - np.float32(canvas.origin[0])
    dy = _HALF_Y - np.float32(canvas.origin[1])
    inverse = np.linalg.inv(canvas.matrix)  # image offsets -> face coordinates
    x = np.float32(inverse[0, 0]) * dx + np.float32(inverse[1, 0]) * dy
    y = np.float32(inverse[0, 1]) * dx + np.float32(inverse[1, 1]) * dy
    u = x / np.float32(width + 8.0)
    v = (y + np.float32(4.0)) / np.float32(72.0)
    radius = np.sqrt(u * u + v * v)
    rim = np.minimum(1.0, 0.97 / np.maximum(radius, 1e-3))
    u, v = u * rim, v * rim
    w = np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, 1.0))
    lambert = np.clip(
        u * np.float32(light[0]) + v * np.float32(light[1]) + w * np.float32(light[2]), 0.0, 1.0
    )
    person = 0.64 + 0.48 * lambert
    outside = (
        1.0
        + np.float32(0.12 * light[0] / 89.0) * (_HALF_X - 89.0)
        - np.float32(0.08 / 109.0) * (_HALF_Y - 109.0)
    )
    shift = np.float32(-18.0 * light[0])
    head_shadow = ((x - shift) / np.float32(width + 6.0)) ** 2 + (
        (y + np.float32(2.0)) / np.float32(68.0)
    ) ** 2
    body_shadow = ((x - shift) / np.float32(98.0)) ** 2 + ((y - np.float32(150.0)) / np.float32(60.0)) ** 2
    distance = np.sqrt(np.minimum(head_shadow, body_shadow))
    outside *= 1.0 - 0.35 * np.clip((1.25 - distance) / 0.35, 0.0, 1.0)
    foreground = np.asarray(canvas.foreground, dtype=np.float32) * np.float32(1.0 / 255.0)
    shade = outside + foreground * (person - outside)
    blotches = rng.standard_normal((10, 8), dtype=np.float32)
    shade *= 1.0 + 0.035 * np.asarray(Image.fromarray(blotches, "F").resize(_HALF_SIZE, Image.BICUBIC))
    return shade


def _face_outline(width: float, chin: float, jaw: float) -> tuple[np.ndarray, np.ndarray]:
    """The skin outline as (upper, lower) point arrays, both from the right side to the left.

    Upper: an ellipse over the forehead. Lower: a superellipse below the cheekbones, from a pointed
    (jaw 0) to a square (jaw 1) chin.
    """
    upper = _ellipse(0.0, 4.0, width, 58.0, n=28, start=0.0, stop=-math.pi)
    exponent = 1.9 + 1.6 * jaw
    c, s = _unit_arc(29, 0.0, math.pi)
    x = width * np.sign(c) * np.abs(c) ** (2.0 / exponent)
    y = 4.0 + (chin - 4.0) * np.abs(s) ** (2.0 / exponent)
    return upper, np.stack([x, y], axis=1)


def _render(f: dict, rng: np.random.Generator) -> Image.Image:
    """Draw one 178x218 face from its factors. ``rng`` supplies only texture noise and small choices."""
    skin = (f["skin_r"], f["skin_g"], f["skin_b"])
    hair = (f["hair_r"], f["hair_g"], f["hair_b"])
    male = bool(f["male"])
    age = f["age"]
    width = 40.0 + 10.0 * f["face_width"]
    chin = 62.0 + 6.0 * f["face_length"]
    azimuth, elevation = math.radians(f["light_azimuth_deg"]), math.radians(f["light_elevation_deg"])
    light = (
        math.sin(azimuth) * math.cos(elevation),
        -math.sin(elevation),
        math.cos(azimuth) * math.cos(elevation),
    )
    shadow_side = -1.0 if light[0] > 0 else 1.0  # the side of the face away from the light (sign of x)
    background = (f["background_r"], f["background_g"], f["background_b"])
    canvas = _Canvas(background, f["rotation_deg"], f["scale"], (f["shift_x"], f["shift_y"]))
    paint = canvas.paint

    hair_length, recession, waviness = f["hair_length"], f["hairline_recession"], f["waviness"]
    bald = recession > 0.85
    volume = (1.0 + 6.0 * hair_length) * (0.6 + 0.8 * waviness)
    outer_a, outer_b = width + 5.0 + volume, 62.0 + volume
    # The hair's silhouette ripples, more for wavy hair: tufts and curls rather than a helmet.
    ripple = (0.008 + 0.03 * waviness, float(rng.uniform(9.0, 16.0)), float(rng.uniform(0.0, 2.0 * math.pi)))

    def hair_arc(start, stop):  # the top of the hair, from the right side to the left
        arc = _ellipse(0.0, -6.0, outer_a, outer_b, n=40, start=start, stop=stop)
        t = np.linspace(start, stop, 40)
        return (
            np.array([0.0, -6.0])
            + (arc - np.array([0.0, -6.0])) * (1.0 + ripple[0] * np.sin(ripple[1] * t + ripple[2]))[:, None]
        )

    # Shoulders and clothes.
    cloth = tuple(c * rng.uniform(0.8, 1.1) for c in _CLOTH_COLOURS[rng.integers(len(_CLOTH_COLOURS))])
    neck_half = (0.52 if not male else 0.6) * width
    paint(cloth, [_ellipse(0.0, 146.0, 100.0, 62.0, n=40)])

    # Hair behind the head: to the ears when short, over the shoulders when long.
    if not bald:
        top_arc = hair_arc(0.0, -math.pi)
        bottom = -6.0 + hair_length * 116.0
        fraction = np.linspace(0.0, 1.0, 6)
        if bottom > 20.0:
            side_x = outer_a + 12.0 * hair_length * fraction**1.5
            across = np.linspace(-1.0, 1.0, 9)[1:-1]
            ends = (
                bottom
                + 3.0 * (1.0 - across**2)
                + (1.0 + 3.0 * waviness) * np.sin(ripple[1] * across + ripple[2])
            )
            bottom_edge = np.stack([across * side_x[-1] * 0.92, ends], axis=1)
        else:
            side_x = outer_a - 2.0 * fraction
            bottom_edge = np.zeros((0, 2))
        left = np.stack([-side_x, -6.0 + (bottom + 6.0) * fraction], axis=1)
        back = np.concatenate([top_arc, left, bottom_edge, _mirror(left[::-1])])
        paint(hair, [back], alpha=1.0 if hair_length > 0.12 else 0.88, texture=1.0)

    # Neck, with the chin's shadow on it, and what is worn around it.
    neck = np.array(
        [[-neck_half, 30.0], [neck_half, 30.0], [neck_half + 4.0, 96.0], [-neck_half - 4.0, 96.0]]
    )
    paint(_scaled(skin, 0.92), [neck])
    if not f["necktie"]:
        depth = 96.0 + (10.0 if not male else 0.0)
        paint(
            _scaled(skin, 0.9), [np.array([[-neck_half * 1.5, 86.0], [neck_half * 1.5, 86.0], [0.0, depth]])]
        )
    canvas.shade(0.6, [_ellipse(0.0, chin + 7.0, width * 0.55, 8.0, n=20)], alpha=0.55)
    if f["necktie"]:
        paint(
            (242, 242, 242),
            [
                np.array([[-neck_half - 5.0, 84.0], [-1.5, 97.0], [-neck_half * 0.5, 102.0]]),
                np.array([[neck_half + 5.0, 84.0], [1.5, 97.0], [neck_half * 0.5, 102.0]]),
            ],
        )
        tie = _scaled(_CLOTH_COLOURS[rng.integers(len(_CLOTH_COLOURS))], 0.85)
        paint(
            tie,
            [
                np.array([[-4.5, 89.0], [4.5, 89.0], [3.0, 97.0], [-3.0, 97.0]]),
                np.array([[-3.0, 97.0], [3.0, 97.0], [8.0, 130.0], [0.0, 138.0], [-8.0, 130.0]]),
            ],
        )
    if f["necklace"]:
        metal = (225, 190, 90) if rng.random() < 0.6 else (215, 215, 220)
        chain = _ellipse(0.0, 76.0, neck_half * 1.05, 18.0, n=16, start=0.15, stop=math.pi - 0.15)
        paint(metal, [_line(chain, 1.1), _ellipse(0.0, 95.5, 2.2, 2.8, n=12)], alpha=0.95)

    # Ears.
    paint(_scaled(skin, 0.9), _both(_ellipse(width + 1.0, 9.0, 5.5, 11.5, angle_deg=8.0, n=20)))
    paint(_scaled(skin, 0.6), _both(_ellipse(width + 2.0, 9.5, 2.3, 6.5, n=14)), alpha=0.4)

    # The face; the skull shows where the hair has receded.
    if recession > 0.45:
        paint(skin, [_ellipse(0.0, -6.0, width + 3.0, 61.0, n=36, start=-0.2, stop=-math.pi + 0.2)])
    upper, lower = _face_outline(width, chin, f["jaw"])
    paint(skin, [np.concatenate([upper, lower[::-1][1:-1]])])

    # Cheekbones: a highlight on the cheeks, a hollow below them; a double chin.
    cheek = f["cheekbones"]
    canvas.shade(1.18, _both(_ellipse(22.0, 16.0 - 4.0 * cheek, 8.0, 5.0, n=16)), alpha=0.15 + 0.6 * cheek)
    lift = max(0.0, f["mouth_curvature"])  # a smile lifts and rounds the cheeks
    canvas.shade(1.22, _both(_ellipse(24.0, 22.0, 11.0, 8.0, n=18)), alpha=0.7 * lift)
    canvas.shade(0.72, _both(_ellipse(width - 7.0, 32.0, 4.5, 9.0, n=14)), alpha=0.1 + 0.4 * cheek)
    if f["face_width"] > 0.7 and age > 0.5:
        fold = _ellipse(0.0, chin - 8.0, width * 0.45, 10.0, n=16, start=0.3, stop=math.pi - 0.3)
        canvas.shade(0.6, [_line(fold, 2.0)], alpha=0.7)

    # Beard and stubble (the mouth is drawn over them), blush.
    mouth_y = 43.0 + 2.0 * f["face_length"]
    beard_colour = hair if not bald else _mix(hair, (70, 60, 55), 0.5)
    if f["beard_style"] == "full" or f["stubble"] > 0:
        _, beard_lower = _face_outline(width + 2.5, chin + 4.0, f["jaw"])
        top = np.array(
            [
                [width + 2.0, 2.0],
                [width * 0.8, 22.0],
                [19.0, mouth_y - 9.0],
                [7.0, mouth_y - 10.0],
                [0.0, mouth_y - 9.0],
            ]
        )
        region = np.concatenate([top, _mirror(top[::-1])[1:], beard_lower[::-1][1:-1]])
        if f["beard_style"] == "full":
            paint(beard_colour, [region], alpha=0.75 + 0.25 * f["beard"], texture=0.9)
        else:
            paint(_mix(skin, (45, 45, 55), 0.6), [region], alpha=0.18 + 0.3 * f["stubble"], texture=0.6)
    if f["beard_style"] == "goatee":
        goatee = np.array(
            [
                [-15.0, mouth_y - 2.0],
                [15.0, mouth_y - 2.0],
                [12.0, chin - 6.0],
                [0.0, chin + 2.5],
                [-12.0, chin - 6.0],
            ]
        )
        paint(beard_colour, [goatee], alpha=0.75 + 0.25 * f["beard"], texture=0.9)
    if f["blush"] > 0:
        canvas.shade(
            (1.04, 0.72, 0.78), _both(_ellipse(width * 0.58, 21.0, 7.5, 5.0, n=16)), alpha=0.75 * f["blush"]
        )

    # Eyes: socket shadow, eye shadow, bags, the white, iris, pupil, glint, lids, lashes, crease; then brows.
    size, opening, makeup = f["eye_size"], f["eye_openness"], f["makeup"]
    half_width = 8.5 * size
    up, down = (1.8 + 3.4 * opening) * size, (1.2 + 2.2 * opening) * size
    xs = np.linspace(-half_width, half_width, 13)
    profile = 1.0 - (xs / half_width) ** 2
    tilt = 0.06 * xs  # outer corners a little higher (right eye; mirrored for the left)
    upper_lid = np.stack([19.0 + xs, -up * profile**0.8 - tilt], axis=1)
    lower_lid = np.stack([19.0 + xs, down * profile**0.9 - tilt], axis=1)
    almond = np.concatenate([upper_lid, lower_lid[::-1][1:-1]])
    gaze = float(rng.uniform(-1.5, 1.5))
    iris_radius = 3.7 * size
    canvas.shade(0.6, _both(_ellipse(19.0, -3.0, 10.5, 6.5, n=20)), alpha=0.4)
    if makeup > 0.3:
        shadow_colour = _EYESHADOW_COLOURS[rng.integers(len(_EYESHADOW_COLOURS))]
        tint = tuple(min(2.0, (c + 20.0) / (k + 20.0)) for c, k in zip(shadow_colour, skin))
        canvas.shade(tint, _both(_ellipse(20.0, -5.5, 9.5, 4.0, n=20)), alpha=0.9 * makeup)
    if f["under_eye_bags"] > 0.3:
        bag = _ellipse(19.0, 2.5, half_width * 0.9, 5.5, n=12, start=0.4, stop=math.pi - 0.4)
        canvas.shade(0.62, _both(_line(bag, 2.0)), alpha=0.8 * f["under_eye_bags"])
    paint((236, 232, 226), _both(almond), alpha=0.96)
    paint(
        _IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS))],
        [
            _ellipse(19.0 + gaze, -0.6, iris_radius, iris_radius, n=20),
            _ellipse(-19.0 + gaze, -0.6, iris_radius, iris_radius, n=20),
        ],
    )
    paint(
        (12, 10, 10),
        [
            _ellipse(19.0 + gaze, -0.6, 1.6 * size, 1.6 * size, n=12),
            _ellipse(-19.0 + gaze, -0.6, 1.6 * size, 1.6 * size, n=12),
        ],
    )
    # The lids: skin redrawn above and below the almond hides what of the iris lies outside the eye's opening.
    above = np.concatenate([upper_lid, [[19.0 + half_width + 1.0, -9.0], [19.0 - half_width - 1.0, -9.0]]])
    below = np.concatenate([lower_lid, [[19.0 + half_width + 1.0, 7.0], [19.0 - half_width - 1.0, 7.0]]])
    paint(skin, _both(above) + _both(below))
    glint_x = 1.2 * light[0] + 0.8 + gaze
    paint(
        (255, 255, 255),
        [_ellipse(19.0 + glint_x, -1.8, 0.9, 0.9, n=8), _ellipse(-19.0 + glint_x, -1.8, 0.9, 0.9, n=8)],
        alpha=0.85,
    )
    liner = 1.3 + 1.4 * makeup + (0.4 if not male else 0.0)
    lids = _both(_line(upper_lid, liner))
    if not male:  # lashes at the outer corners
        lids += _both(
            _line([[19.0 + half_width * 0.6, -up * 0.6], [19.0 + half_width + 2.2, -up * 0.4 - 1.6]], 1.2)
        )
    paint((35, 22, 18), lids, alpha=0.92)
    crease = upper_lid + np.array([0.0, -2.5 - 0.5 * up])
    paint(_scaled(skin, 0.6), _both(_line(lower_lid, 0.8)) + _both(_line(crease, 0.9)), alpha=0.4)
    thickness, arch = f["eyebrow_thickness"], f["eyebrow_arch"]
    u = np.linspace(0.0, 1.0, 9)
    brow_x = 9.0 + 21.0 * u
    centre_y = (
        -12.5
        - (1.0 + 4.5 * arch) * np.sin(np.clip(u / 0.65, 0, 1) * math.pi / 2)
        + 5.0 * arch * np.clip(u - 0.65, 0, 1)
    )
    half_thickness = (1.0 + 1.8 * thickness) * (1.0 - 0.5 * u) + 0.4
    brow = np.concatenate(
        [
            np.stack([brow_x, centre_y - half_thickness], axis=1),
            np.stack([brow_x, centre_y + half_thickness], axis=1)[::-1],
        ]
    )
    brow_colour = _mix(hair, (60, 45, 35), 0.5 if f["hair_colour"] in ("blond", "gray") else 0.15)
    paint(brow_colour, _both(brow), alpha=0.9)

    # Nose: the shaded side, the bridge's highlight, the tip, the wings, the nostrils.
    nose = 0.85 + 0.35 * f["nose_size"]
    point = f["nose_point"]
    tip_y = 24.0 + 3.0 * point
    canvas.shade(
        0.6,
        [
            _line(
                [
                    [shadow_side * 5.0, 0.0],
                    [shadow_side * 6.5, 16.0],
                    [shadow_side * 8.5 * nose, tip_y + 2.0],
                ],
                3.0,
            )
        ],
        alpha=0.5,
    )
    canvas.shade(
        1.22,
        [
            _line([[0.0, 4.0], [0.0, tip_y - 4.0]], 2.0),
            _ellipse(0.0, tip_y, (5.0 - 2.0 * point) * nose, 3.5, n=14),
        ],
        alpha=0.5,
    )
    wing = _ellipse(
        6.2 * nose, tip_y + 2.5, 3.2 * nose, 3.0, n=10, start=-0.5 * math.pi - 0.4, stop=0.5 * math.pi - 0.4
    )
    paint(_scaled(skin, 0.55), _both(_line(wing, 1.1)), alpha=0.45)
    paint(_scaled(skin, 0.3), _both(_ellipse(3.6 * nose, tip_y + 4.5, 2.0 * nose, 1.2, n=12)), alpha=0.75)
    canvas.shade(0.65, [_ellipse(0.0, tip_y + 8.0, 5.0, 2.0, n=12)], alpha=0.4)

    # Mouth: a smile raises the corners and widens the mouth; an open mouth shows teeth.
    curvature, mouth_open = f["mouth_curvature"], f["mouth_opening"]
    smile = max(0.0, curvature)
    mouth_half = (12.5 + 9.5 * smile) * (0.95 + 0.1 * f["face_width"])
    raise_by = 11.0 * curvature
    gap = (9.0 + 16.0 * smile) * mouth_open
    q = np.linspace(-1.0, 1.0, 21)
    body = 1.0 - q**2
    base = mouth_y - raise_by * q**2 + 1.5 * smile
    inner_upper = base - (0.4 - 0.25 * smile) * gap * body
    inner_lower = base + (0.6 + 0.25 * smile) * gap * body
    lips = 0.8 + 0.6 * f["lip_thickness"]
    bow = 0.8 + 0.4 * np.exp(-(((np.abs(q) - 0.3) / 0.2) ** 2)) - 0.25 * np.exp(-((q / 0.12) ** 2))
    outer_upper = inner_upper - 2.6 * lips * bow * body**0.5
    outer_lower = inner_lower + 3.6 * lips * body**0.6
    mx = mouth_half * q
    if f["lipstick"]:
        lip_colour, lip_alpha = _LIPSTICK_COLOURS[rng.integers(len(_LIPSTICK_COLOURS))], 0.92
    else:
        lip_colour, lip_alpha = _mix(_scaled(skin, 0.8), (170, 70, 75), 0.3 if male else 0.4), 0.85
    fold = np.array(
        [
            [9.5 * nose, tip_y + 1.0],
            [mouth_half + 1.0, mouth_y - 6.0 - raise_by * 0.5],
            [mouth_half + 3.0, mouth_y + 2.0 - raise_by],
        ]
    )
    canvas.shade(0.6, _both(_line(fold, 2.0)), alpha=min(0.9, 0.15 + 0.5 * smile + 0.3 * age))
    canvas.shade(0.7, [_ellipse(0.0, float(outer_lower.max()) + 3.0, 7.0, 2.0, n=12)], alpha=0.5)
    if gap > 0.8:
        interior = np.concatenate(
            [np.stack([mx, inner_upper], 1), np.stack([mx, inner_lower], 1)[::-1][1:-1]]
        )
        paint((52, 14, 20), [interior])
        if gap > 1.5:  # upper teeth: a band under the upper lip, always inside the opening
            teeth_bottom = inner_upper + min(0.35 * gap, 5.0) * body**0.7
            teeth = np.concatenate(
                [np.stack([mx, inner_upper], 1), np.stack([mx, teeth_bottom], 1)[::-1][1:-1]]
            )
            paint((240, 236, 226), [teeth])
    upper_lip = np.concatenate([np.stack([mx, outer_upper], 1), np.stack([mx, inner_upper], 1)[::-1][1:-1]])
    lower_lip = np.concatenate([np.stack([mx, inner_lower], 1), np.stack([mx, outer_lower], 1)[::-1][1:-1]])
    paint(lip_colour, [upper_lip, lower_lip], alpha=lip_alpha)
    paint(
        _scaled(lip_colour, 1.35),
        [_ellipse(0.0, float(inner_lower[10]) + 1.8 * lips, 4.0, 1.0, n=10)],
        alpha=0.35,
    )
    corners = [
        _ellipse(mouth_half + 0.5, float(base[0]) - 0.3, 1.4, 1.0, n=8),
        _ellipse(-mouth_half - 0.5, float(base[0]) - 0.3, 1.4, 1.0, n=8),
    ]
    if gap <= 0.8:
        corners.append(_line(np.stack([mx, base], 1), 1.0))
    paint(_scaled(lip_colour, 0.45), corners, alpha=0.6 + 0.3 * smile)
    if f["moustache"] > 0:
        lip_top = float(outer_upper.min())
        moustache = np.concatenate(
            [
                np.stack([mx * 1.08, outer_upper - 0.8], 1),
                np.stack([mx[::-1] * 0.9, lip_top - 4.5 - 2.0 * f["moustache"] + 1.5 * q**2], 1),
            ]
        )
        paint(beard_colour, [moustache], alpha=0.7 + 0.3 * f["moustache"], texture=0.9)

    # Age: forehead lines.
    if age > 0.5 and not f["bangs"]:
        lines = [
            _line(
                _ellipse(
                    0.0, 4.0 - 6.0 * k, width * 0.55, 30.0, n=12, start=1.25 * math.pi, stop=1.75 * math.pi
                ),
                0.9,
            )
            for k in range(3)
        ]
        paint(_scaled(skin, 0.7), lines, alpha=0.8 * (age - 0.5))

    # Hair in front: the hairline (higher when receding), bangs, locks framing the face.
    if not bald:
        top_arc = hair_arc(-0.22, -math.pi + 0.22)
        side_y = 2.0 if hair_length < 0.45 else 8.0
        if f["bangs"] > 0.4:
            fringe_y = -40.0 + 25.0 * f["bangs"]
            fringe_x = np.linspace(-(width - 1.0), width - 1.0, 15)
            jag = np.where(np.arange(15) % 2 == 0, 0.0, 2.0 + rng.random(15))
            fringe = np.stack([fringe_x, fringe_y - jag - 4.0 * (fringe_x / width) ** 2], axis=1)
            inner = np.concatenate(
                [
                    [[-width - 0.5, side_y], [-width + 1.5, -20.0]],
                    fringe,
                    [[width - 1.5, -20.0], [width + 0.5, side_y]],
                ]
            )
        else:
            hairline_y = -40.0 - 14.0 * recession
            temple_y = -36.0 - 26.0 * recession
            inner = np.array(
                [
                    [-width - 0.5, side_y],
                    [-width + 1.5, -22.0],
                    [-width * 0.72, temple_y],
                    [-width * 0.35, hairline_y - 1.0],
                    [0.0, hairline_y + 1.0],
                    [width * 0.35, hairline_y - 1.0],
                    [width * 0.72, temple_y],
                    [width - 1.5, -22.0],
                    [width + 0.5, side_y],
                ]
            )
        paint(hair, [np.concatenate([top_arc, inner])], texture=1.0)
        if hair_length > 0.45:
            lock_end = min(20.0 + 100.0 * (hair_length - 0.45), 85.0)
            lock = np.array(
                [
                    [outer_a, -26.0],
                    [outer_a + 3.0, lock_end],
                    [width + 1.0, lock_end + 4.0],
                    [width - 3.0 - 2.0 * hair_length, 30.0],
                    [width - 2.5, 0.0],
                    [width - 5.0, -26.0],
                ]
            )
            paint(hair, _both(lock), texture=1.0)
    elif not f["hat"]:
        # Bald: a horseshoe of short hair low on the sides of the head.
        side = np.array([[width - 1.0, -24.0], [width + 5.0, -12.0], [width + 4.0, 10.0], [width - 1.0, 4.0]])
        paint(hair, _both(side), alpha=0.9, texture=1.0)

    if f["earrings"]:
        metal = (225, 190, 90) if rng.random() < 0.6 else (215, 215, 220)
        if rng.random() < 0.5:
            paint(metal, _both(_line(_closed(_ellipse(width + 1.5, 25.0, 3.5, 4.5, n=14)), 1.2)))
        else:
            paint(metal, _both(_ellipse(width + 1.5, 20.0, 2.0, 2.0, n=10)))

    # Eyeglasses: tinted lenses, a frame ring per eye, the bridge and the arms.
    if f["eyeglasses"]:
        frame = _FRAME_COLOURS[rng.integers(len(_FRAME_COLOURS))]
        thick = float(rng.uniform(4.0, 5.5))
        lens_w, lens_h = float(rng.uniform(13.5, 16.0)), float(rng.uniform(10.0, 12.0))
        c, s = _unit_arc(28, 0.0, 2.0 * math.pi)
        if rng.random() < 0.5:
            unit = np.stack([c, s], 1)
        else:  # rounded rectangles
            unit = np.stack([np.sign(c) * np.abs(c) ** 0.5, np.sign(s) * np.abs(s) ** 0.5], 1)
        ring = unit * np.array([lens_w - 0.5 * thick, lens_h - 0.5 * thick]) + np.array([19.5, 1.0])
        if f["sunglasses"]:
            paint((20, 22, 28), _both(ring), alpha=0.9)
        else:
            paint((110, 140, 165), _both(ring), alpha=0.5)
        arm = np.array([[19.5 + lens_w - 1.0, -2.0], [width + 2.0, -3.0]])
        bridge = np.array([[-19.5 + lens_w - 1.0, -1.0], [0.0, -2.5], [19.5 - lens_w + 1.0, -1.0]])
        paint(
            frame,
            _both(_line(_closed(ring), thick))
            + _both(_line(arm, thick * 0.8))
            + [_line(bridge, thick * 0.8)],
        )
        glint = np.array([[13.5, -3.0], [17.5, -6.0]])
        paint(
            (255, 255, 255),
            [_line(glint, 1.0), _line(glint - np.array([39.0, 0.0]), 1.0)],
            alpha=0.35 if not f["sunglasses"] else 0.6,
        )

    # Hat.
    if f["hat"]:
        hat = _HAT_COLOURS[rng.integers(len(_HAT_COLOURS))]
        style = f["hat_style"]
        if style == "beanie":
            dome = _ellipse(0.0, -24.0, width + 7.0, 50.0, n=30, start=0.0, stop=-math.pi)
            paint(hat, [np.concatenate([dome, [[-width - 7.0, -20.0], [width + 7.0, -20.0]]])], texture=0.3)
            band = np.array(
                [[-width - 7.5, -32.0], [width + 7.5, -32.0], [width + 7.5, -20.0], [-width - 7.5, -20.0]]
            )
            paint(_scaled(hat, 0.8), [band], texture=0.3)
            canvas.shade(0.45, [np.array([[-width, -19.0], [width, -19.0], [width, -15.0], [-width, -15.0]])])
        elif style == "cap":
            dome = _ellipse(0.0, -28.0, width + 6.0, 44.0, n=30, start=0.0, stop=-math.pi)
            paint(hat, [np.concatenate([dome, [[-width - 6.0, -26.0], [width + 6.0, -26.0]]])], texture=0.3)
            canvas.shade(0.45, [_ellipse(0.0, -18.0, width - 2.0, 5.0, n=20)])
            paint(_scaled(hat, 0.85), [_ellipse(0.0, -26.0, width + 4.0, 8.0, n=28)])
        else:
            crown = np.array(
                [
                    [-width + 4.0, -30.0],
                    [-width + 10.0, -76.0],
                    [0.0, -72.0],
                    [width - 10.0, -76.0],
                    [width - 4.0, -30.0],
                ]
            )
            paint(hat, [crown], texture=0.3)
            paint(
                _scaled(hat, 0.6),
                [
                    np.array(
                        [
                            [-width + 4.5, -40.0],
                            [width - 4.5, -40.0],
                            [width - 4.0, -32.0],
                            [-width + 4.0, -32.0],
                        ]
                    )
                ],
            )
            canvas.shade(0.45, [_ellipse(0.0, -20.0, width + 2.0, 6.0, n=20)])
            paint(_scaled(hat, 0.9), [_ellipse(0.0, -29.0, width + 26.0, 7.0, n=32)], texture=0.3)

    blur = 0.0 if f["blur"] <= 0.9 else 1.2 + 8.0 * (f["blur"] - 0.9)
    return canvas.finish(rng, light, width, hair, waviness, blur)


def render_face(index: int, seed: int = DEFAULT_SEED) -> tuple[Image.Image, dict, dict]:
    """Draw face number ``index`` (1-based) of the set ``seed``: (178x218 RGB image, factors, attributes).

    The face depends on ``(seed, index)`` alone, never on how many faces are drawn or by which process.
    """
    rng = np.random.default_rng([int(seed), int(index)])
    factors = sample_factors(rng)
    image = _render(factors, rng)
    return image, factors, attributes_from_factors(factors)


# ----------------------------------------------------------------------------------------------------------
# Writing a set in CelebA's layout
# ----------------------------------------------------------------------------------------------------------

FACTOR_NAMES = tuple(sample_factors(np.random.default_rng(0)))
"""Columns of ``factors.csv`` after ``filename``, in order (see the module docstring)."""
_STRING_FACTORS = ("hair_colour", "hat_style", "beard_style")
_CHUNK_SIZE = 100


def split_code(index: int) -> int:
    """The split of face ``index`` (1-based): 0 train, 1 valid, 2 test, as in ``list_eval_partition.txt``.

    Faces are dealt in blocks of ten: eight to train, one to valid, one to test (80/10/10, close to CelebA's
    80.3/9.8/9.9). A face's split depends on its index alone, so every set with the same seed agrees on it:
    the test faces of a small set are test faces of every larger one, and a model trained on a large set
    can be measured on a small one without ever having seen its test faces.
    """
    return (0, 0, 0, 0, 0, 0, 0, 0, 1, 2)[(int(index) - 1) % 10]


def partition_counts(n_images: int) -> tuple[int, int, int]:
    """(train, valid, test) sizes for ``n_images`` faces, as ``split_code`` deals them (about 80/10/10)."""
    codes = np.array([split_code(index) for index in range(1, n_images + 1)], dtype=np.int64)
    return tuple(int(count) for count in np.bincount(codes, minlength=3))


def _image_name(index: int) -> str:
    return f"{index:06d}.jpg"


def _format_factor(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return f"{float(value):.4f}"


def _draw_chunk(task: tuple) -> list[tuple[dict, dict]]:
    """Worker: draw and save faces ``start .. stop - 1`` (1-based); return their (factors, attributes)."""
    image_folder, seed, start, stop = task
    rows = []
    for index in range(start, stop):
        image, factors, attributes = render_face(index, seed)
        image.save(
            os.path.join(image_folder, _image_name(index)), "JPEG", quality=int(factors["jpeg_quality"])
        )
        rows.append((factors, attributes))
    return rows


def _available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _check_size_and_seed(n_images, seed) -> tuple[int, int]:
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images must be a positive whole number of faces, got {n_images!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}.")
    return int(n_images), int(seed)


def write_synthetic_celeba(
    folder,
    n_images: int = DEFAULT_N_IMAGES,
    seed: int = DEFAULT_SEED,
    workers: int | None = None,
    progress: bool = False,
) -> Path:
    """Draw ``n_images`` faces into ``folder`` in CelebA's official layout and return the folder.

    Writes ``img_align_celeba/000001.jpg ...`` (178x218 JPEGs), ``list_attr_celeba.txt``,
    ``list_eval_partition.txt``, ``factors.csv`` and, last, the marker ``SYNTHETIC_FACES.json``. The files of
    an earlier set in the folder are replaced (surplus numbered JPEGs are removed). The same ``seed`` gives
    byte-identical files for any ``workers``: face ``i`` depends on ``(seed, i)`` only.

    ``workers``: processes drawing faces (default: every core available; 1 draws in this process).
    ``progress``: print a progress line that updates in place.
    """
    n_images, seed = _check_size_and_seed(n_images, seed)
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{folder} is a file; write_synthetic_celeba needs a folder (it is created if missing)."
        )
    image_folder = folder / "img_align_celeba"
    image_folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER_NAME).unlink(missing_ok=True)
    for path in image_folder.glob("*.jpg"):  # surplus faces of a larger earlier set
        if path.stem.isdigit() and int(path.stem) > n_images:
            path.unlink()

    tasks = [
        (str(image_folder), seed, start, min(start + _CHUNK_SIZE, n_images + 1))
        for start in range(1, n_images + 1, _CHUNK_SIZE)
    ]
    workers = min(workers or _available_cores(), len(tasks))
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}.")
    rows: list[tuple[dict, dict]] = []
    started = time.perf_counter()

    def report():
        if progress:
            elapsed = time.perf_counter() - started
            print(
                f"\r  {len(rows):,}/{n_images:,} faces drawn, {len(rows) / max(elapsed, 1e-9):,.0f} images/s",
                end="",
                flush=True,
            )

    if workers == 1:
        for task in tasks:
            rows += _draw_chunk(task)
            report()
    else:
        # Linux forks (fast, and works from scripts without a __main__ guard); the workers use only NumPy and
        # Pillow, never TensorFlow's threads. macOS and Windows spawn, as Python does there by default.
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with multiprocessing.get_context(method).Pool(workers) as pool:
            for chunk in pool.imap(_draw_chunk, tasks):
                rows += chunk
                report()
    if progress:
        print()

    names = ATTRIBUTE_NAMES
    if set(names) != set(rows[0][1]):
        raise RuntimeError(
            "the generator's attributes differ from vae_course.celeba.ATTRIBUTE_NAMES: "
            f"{sorted(set(names) ^ set(rows[0][1]))}; update attributes_from_factors."
        )
    lines = [str(n_images), " ".join(names) + " "]
    for index, (_, attributes) in enumerate(rows, start=1):
        lines.append(
            _image_name(index) + " " + " ".join(f"{1 if attributes[name] else -1:2d}" for name in names)
        )
    (folder / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n", encoding="ascii")

    partition = [f"{_image_name(i)} {split_code(i)}" for i in range(1, n_images + 1)]
    (folder / "list_eval_partition.txt").write_text("\n".join(partition) + "\n", encoding="ascii")

    with open(folder / "factors.csv", "w", newline="", encoding="ascii") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(("filename",) + FACTOR_NAMES)
        for index, (factors, _) in enumerate(rows, start=1):
            writer.writerow([_image_name(index)] + [_format_factor(factors[name]) for name in FACTOR_NAMES])

    marker = {
        "generator": "vae_course.synthetic_faces",
        "version": GENERATOR_VERSION,
        "n_images": n_images,
        "seed": seed,
    }
    (folder / MARKER_NAME).write_text(json.dumps(marker, indent=1) + "\n", encoding="ascii")
    return folder


def is_complete(folder, n_images: int, seed: int) -> bool:
    """True when ``folder`` holds a finished set of this size, seed and generator version."""
    try:
        marker = json.loads((Path(folder) / MARKER_NAME).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return False
    return marker == {
        "generator": "vae_course.synthetic_faces",
        "version": GENERATOR_VERSION,
        "n_images": int(n_images),
        "seed": int(seed),
    }


def default_synthetic_dir(n_images: int = DEFAULT_N_IMAGES, seed: int = DEFAULT_SEED) -> Path:
    """``<artifacts folder>/synthetic_celeba_<n_images>_<seed>`` (the folder of ``config.artifact_path``).

    No ``_fast`` suffix in FAST mode: the set depends on (n_images, seed) only, so FAST and full mode share it
    when they ask for the same size.
    """
    from vae_course import config

    n_images, seed = _check_size_and_seed(n_images, seed)
    name = f"synthetic_celeba_{n_images}_{seed}"
    return config.artifact_path(name).parent / name


def ensure_synthetic_celeba(
    n_images: int = DEFAULT_N_IMAGES, seed: int = DEFAULT_SEED, folder=None, workers: int | None = None
) -> Path:
    """The folder of a complete synthetic set: reused when its marker says it is complete, drawn otherwise.

    ``folder`` defaults to ``default_synthetic_dir(n_images, seed)``. Drawing prints one progress line.
    """
    n_images, seed = _check_size_and_seed(n_images, seed)
    folder = Path(folder).expanduser() if folder is not None else default_synthetic_dir(n_images, seed)
    if is_complete(folder, n_images, seed):
        return folder
    print(f"Drawing {n_images:,} synthetic faces (seed {seed}) into {folder}")
    started = time.perf_counter()
    write_synthetic_celeba(folder, n_images, seed, workers=workers, progress=True)
    elapsed = time.perf_counter() - started
    print(f"  done in {elapsed:.1f} s ({n_images / elapsed:,.0f} images/s)")
    return folder


def load_factors(folder) -> dict[str, np.ndarray]:
    """``factors.csv`` of a synthetic set as columns: ``filename`` and every factor (floats; strings for
    hair_colour, hat_style and beard_style), in file order."""
    path = Path(folder).expanduser() / "factors.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: is {folder} a synthetic set? Make one with "
            "vae_course.synthetic_faces.ensure_synthetic_celeba()."
        )
    with open(path, newline="", encoding="ascii") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    columns = list(zip(*rows)) if rows else [()] * len(header)
    strings = ("filename",) + _STRING_FACTORS
    return {
        name: np.array(values, dtype=str) if name in strings else np.array(values, dtype=np.float64)
        for name, values in zip(header, columns)
    }


def _main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m vae_course.synthetic_faces",
        description="Draw a synthetic face set in CelebA's layout.",
    )
    parser.add_argument("folder", nargs="?", type=Path, help="where to write (default: the artifacts folder)")
    parser.add_argument("--n", type=int, default=DEFAULT_N_IMAGES, help="number of faces")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    print(ensure_synthetic_celeba(args.n, args.seed, folder=args.folder, workers=args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
