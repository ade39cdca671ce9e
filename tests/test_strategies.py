"""The strategies reach the corners of each op's argument space that the
harness promises to exercise (the README's table of ops and cells: int and
float scales, per-axis sizes and scales, align_corners, recompute_scale_factor,
antialias, every dtype, memory layout and rank): each test finds a drawn case
with the property, so a strategy that lost it fails here."""

import pytest

from conformance.strategies import interpolate_cases
from reference.interpolate import plan_interpolate
from tests import drawing

ALL = ["float32", "float64", "float16", "uint8"]


def plan(case):
    return plan_interpolate(case.input.shape, **case.params)


def torch_like(mode, antialias):
    if antialias or mode == "lanczos":
        return ["float32", "float64", "uint8"]
    return ALL


PROPERTIES = {
    "output length 1": lambda c: 1 in plan(c).output_size,
    "size-1 input axis": lambda c: 1 in c.input.shape[2:],
    "zero-size batch": lambda c: c.input.shape[0] == 0,
    "exact integer scale": lambda c: (
        isinstance(c.params.get("scale_factor"), (int, float))
        and float(c.params["scale_factor"]).is_integer()
        and c.params["scale_factor"] > 1
    ),
    "Python int scale": lambda c: type(c.params.get("scale_factor")) is int,
    "non-integer scale": lambda c: any(not float(s).is_integer() for s in _scales(c)),
    "downsampling": lambda c: any(o < i for o, i in zip(plan(c).output_size, plan(c).input_size)),
    "upsampling": lambda c: any(o > i for o, i in zip(plan(c).output_size, plan(c).input_size)),
    "scale used as given": lambda c: any(s is not None for s in plan(c).scales),
    "scale recomputed": lambda c: c.params.get("recompute_scale_factor") is True,
    "per-axis scales": lambda c: (
        isinstance(c.params.get("scale_factor"), tuple) and len(set(c.params["scale_factor"])) > 1
    ),
    "per-axis sizes": lambda c: isinstance(c.params.get("size"), tuple) and len(set(c.params["size"])) > 1,
    "align_corners=True": lambda c: c.params.get("align_corners") is True,
    "align_corners=False": lambda c: c.params.get("align_corners") is False,
    "transposed layout": lambda c: c.input.layout == "transposed",
    "strided layout": lambda c: c.input.layout == "strided",
    "large magnitude": lambda c: c.input.distribution == "large",
    "uint8 clamping": lambda c: c.input.distribution == "extremes",
    "antialias": lambda c: c.params.get("antialias") is True,
    "float16": lambda c: c.dtype == "float16",
    "uint8": lambda c: c.dtype == "uint8",
}


def _scales(c):
    s = c.params.get("scale_factor")
    return () if s is None else (s if isinstance(s, tuple) else (s,))


@pytest.fixture(scope="module")
def bilinear_cases():
    return drawing.draw_many(interpolate_cases("bilinear", torch_like))


@pytest.mark.parametrize("name", list(PROPERTIES))
def test_bilinear_strategy_reaches(name, bilinear_cases):
    assert any(PROPERTIES[name](c) for c in bilinear_cases), name


@pytest.mark.parametrize("mode,ndim", [("nearest", 3), ("nearest", 5), ("area", 5), ("trilinear", 5), ("linear", 3)])
def test_ranks_are_reached(mode, ndim):
    assert any(len(c.input.shape) == ndim for c in drawing.draw_many(interpolate_cases(mode, torch_like), 100))


def test_only_offered_dtypes_are_drawn():
    cases = drawing.draw_many(interpolate_cases("bicubic", lambda m, aa: ["float64"]), 200)
    assert cases and {c.dtype for c in cases} == {"float64"}
