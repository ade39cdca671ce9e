"""The reference reproduces the tables printed in the seed documents
(../shared/seeds/001 and 002: real torch outputs), at their printed precision."""

import numpy as np

import reference

SEED_INPUT = np.array([[2, 6, 4, 3], [4, 0, 7, 6], [8, 8, 7, 5], [9, 0, 3, 1]], dtype=np.float32)[None, None]

NEAREST_4X4 = np.array(
    [
        [2, 2, 6, 6, 4, 4, 3, 3],
        [2, 2, 6, 6, 4, 4, 3, 3],
        [4, 4, 0, 0, 7, 7, 6, 6],
        [4, 4, 0, 0, 7, 7, 6, 6],
        [8, 8, 8, 8, 7, 7, 5, 5],
        [8, 8, 8, 8, 7, 7, 5, 5],
        [9, 9, 0, 0, 3, 3, 1, 1],
        [9, 9, 0, 0, 3, 3, 1, 1],
    ],
    dtype=np.float32,
)

# Seed 001 prints six full rows and the first four values of the seventh.
BILINEAR_4X4_ROWS = np.array(
    [
        [2.0000, 3.0000, 5.0000, 5.5000, 4.5000, 3.7500, 3.2500, 3.0000],
        [2.5000, 3.0000, 4.0000, 4.5625, 4.6875, 4.5000, 4.0000, 3.7500],
        [3.5000, 3.0000, 2.0000, 2.6875, 5.0625, 6.0000, 5.5000, 5.2500],
        [5.0000, 4.2500, 2.7500, 3.2500, 5.7500, 6.6875, 6.0625, 5.7500],
        [7.0000, 6.7500, 6.2500, 6.2500, 6.7500, 6.5625, 5.6875, 5.2500],
        [8.2500, 7.6875, 6.5625, 6.0000, 6.0000, 5.5000, 4.5000, 4.0000],
    ]
)
BILINEAR_4X4_ROW6_START = np.array([8.7500, 7.0625, 3.6875, 2.5000])

TWO_BY_TWO = np.arange(1, 5, dtype=np.float32).reshape(1, 1, 2, 2)
NEAREST_2X2 = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]], dtype=np.float32)
BILINEAR_2X2_ALIGNED = np.array(
    [
        [1.0000, 1.3333, 1.6667, 2.0000],
        [1.6667, 2.0000, 2.3333, 2.6667],
        [2.3333, 2.6667, 3.0000, 3.3333],
        [3.0000, 3.3333, 3.6667, 4.0000],
    ]
)


def test_seed001_nearest_4x4_exact():
    out = reference.interpolate(SEED_INPUT, scale_factor=2, mode="nearest")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 0], NEAREST_4X4)


def test_seed001_bilinear_4x4_matches_printed_digits():
    out = reference.interpolate(SEED_INPUT, scale_factor=2, mode="bilinear", align_corners=False)
    np.testing.assert_array_equal(np.round(out[0, 0, :6], 4), BILINEAR_4X4_ROWS)
    np.testing.assert_array_equal(np.round(out[0, 0, 6, :4], 4), BILINEAR_4X4_ROW6_START)


def test_seed002_nearest_2x2_exact():
    for mode_kwargs in ({"mode": "nearest"}, {}):
        out = reference.interpolate(TWO_BY_TWO, scale_factor=2, **mode_kwargs)
        np.testing.assert_array_equal(out[0, 0], NEAREST_2X2)


def test_seed002_bilinear_align_corners_2x2():
    out = reference.interpolate(TWO_BY_TWO, scale_factor=2, mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(np.round(out[0, 0], 4), BILINEAR_2X2_ALIGNED)
