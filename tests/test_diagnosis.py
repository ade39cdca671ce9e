"""Diagnosis: a failing backend is matched to the semantic variant it follows,
and a bug that is no variant gets "no known variant", never a false name."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main
from reports.html import write_report


def _diagnoses(tmp_path, backend, op, *extra):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", backend, "--op", op, "--examples", "40", "--seed", "0", "--quiet", "--no-isolation"]
    assert main([*argv, "--results", str(results), "--shrink-seconds", "5", *extra]) == 1
    records = [json.loads(line) for line in results.read_text().splitlines()]
    return [r["diagnosis"] for r in records if r.get("minimal") and r["status"] == "fail"]


def test_a_hand_written_variant_is_named(tmp_path, capsys):
    """tests/broken_backends.py's conv_transpose without dilation is the
    catalog's conv-transpose-dilation-ignored, though written independently."""
    found = _diagnoses(tmp_path, "tests.broken_backends:ConvTransposeIgnoresDilation", "conv_transpose", "--mode", "2d", "--no-grad")
    assert found and all("conv-transpose-dilation-ignored" in d["variants"] for d in found), found
    assert "diagnosis: matches conv-transpose-dilation-ignored" in capsys.readouterr().out
    page = write_report([tmp_path / "r.jsonl"], tmp_path / "report", None).read_text()
    assert "diagnosis</b>: matches conv-transpose-dilation-ignored" in page  # the failure card
    assert "; diagnosis: matches conv-transpose-dilation-ignored" in page  # the matrix cell's tooltip
    assert 'class="power"' in page


def test_a_bug_that_is_no_variant_gets_no_name(tmp_path):
    """A gradient 1% too large is none of the catalog's variants."""
    found = _diagnoses(tmp_path, "tests.broken_backends:WrongBilinearGradient", "interpolate", "--mode", "bilinear")
    assert found and all(d["verdict"] == "none" and not d["variants"] for d in found), found
    assert all("no known variant" in d["summary"] for d in found)


def test_a_shuffled_channel_order_is_named(tmp_path):
    found = _diagnoses(tmp_path, "tests.broken_backends:PixelShuffleSwapsSubpixels", "pixel_shuffle", "--no-grad")
    assert found and all(d["verdict"] == "variant" for d in found), found
    assert all("pixel-shuffle-subpixels-transposed" in d["variants"] for d in found), found


def test_a_variant_takes_every_dtype_its_op_takes():
    """A variant's gradient on complex input is ``J^H g`` as torch's, and a
    variant oracle's integer results are compared exactly (not through a
    float tolerance, which has no meaning for int64)."""
    import numpy as np

    from backends.variant_backend import VariantBackend
    from conformance.cases import Case, InputSpec
    from conformance.diagnosis import VariantOracle
    from conformance.verdict import check_case
    from reference.gradients import vjp as reference_vjp

    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1, 2, 3)) + 1j * rng.standard_normal((1, 2, 3))).astype(np.complex64)
    w = (rng.standard_normal((2, 2, 2)) + 1j * rng.standard_normal((2, 2, 2))).astype(np.complex64)
    g = (rng.standard_normal((1, 2, 4)) + 1j * rng.standard_normal((1, 2, 4))).astype(np.complex64)
    # output_padding 0: the variant's forward is the reference's, so must its gradient be
    got = VariantBackend("conv-transpose-output-padding-zeros").vjp("conv_transpose", g, x, weight=w)
    want = reference_vjp("conv_transpose", g, x, weight=w)
    np.testing.assert_allclose(got["x"], want["x"], rtol=1e-5)

    case = Case(
        "conv_transpose",
        InputSpec((1, 2, 3), "int64", "integers", 1),
        {"stride": 2, "output_padding": 1},
        (("weight", InputSpec((2, 2, 2), "int64", "integers", 2)),),
    )
    oracle = VariantOracle("conv-transpose-output-padding-zeros")
    assert check_case(case, VariantBackend("conv-transpose-output-padding-zeros"), oracle).status == "pass"
    assert check_case(case, VariantBackend("conv-transpose-output-padding-at-start"), oracle).status == "fail"


#: Variants from a real port's divergences (issue 26), each with a cell whose
#: discriminating cases separate it: (variant, op, cell, direction).
PORT_DIVERGENCES = [
    ("max-pool-grad-split-among-ties", "max_pool", "2d", "backward"),
    ("float16-gradient-summed-in-float16", "interpolate", "linear", "backward"),
    ("bfloat16-gradient-summed-in-bfloat16", "interpolate", "nearest", "backward"),
    ("conv-transpose-float16-gradient-summed-in-float16", "conv_transpose", "1d", "backward"),
    ("conv-transpose-bfloat16-gradient-summed-in-bfloat16", "conv_transpose", "1d", "backward"),
    ("linear-lerp-form", "interpolate", "bilinear", "forward"),
    ("zero-weight-taps-skipped", "interpolate", "bicubic", "forward"),
    ("uint8-bilinear-7-bit-weights", "interpolate", "bilinear", "forward"),
]


@pytest.mark.parametrize(("name", "op", "cell", "direction"), PORT_DIVERGENCES, ids=[p[0] for p in PORT_DIVERGENCES])
def test_a_real_port_s_divergence_is_named(name, op, cell, direction):
    """The variant as a backend, on its cell's discriminating cases (those
    it fails, and those it passes), is diagnosed as itself: the catalog holds
    the divergence, and the diagnosis tells it from its neighbours."""
    from backends.variant_backend import VariantBackend
    from conformance.diagnosis import MAX_FAILING, MAX_PASSING, VariantOracle, diagnose
    from conformance.execute import Oracle
    from conformance.power import cached
    from conformance.verdict import check_case

    backend, oracle = VariantBackend(name), Oracle()
    cases = [c for d in cached(op, cell, direction)[0] for c in (d.case, *d.twins)]
    verdicts = {i: check_case(case, backend, oracle).status for i, case in enumerate(cases)}
    failing = [cases[i] for i, status in verdicts.items() if status == "fail"][:MAX_FAILING]
    passing = [cases[i] for i, status in verdicts.items() if status == "pass"][:MAX_PASSING]
    assert failing, f"no discriminating case of {op} {cell} {direction} separates {name}"
    found = diagnose(op, direction, failing, passing, lambda case, v: check_case(case, backend, VariantOracle(v)), oracle)
    assert found.verdict == "variant" and name in found.variants, found.describe()


def test_a_diagnosis_checks_the_variants_of_the_failing_dtype_first():
    """A variant that perturbs only float16 is checked before the general
    ones on float16 failures (a spent failure budget leaves those unchecked,
    not it), and one that perturbs only other dtypes is not checked at all."""
    from conformance.cases import Case, InputSpec
    from conformance.diagnosis import candidates_for

    case = Case("interpolate", InputSpec((1, 1, 6), "float16", seed=0), {"mode": "nearest", "size": 74})
    names = [v.name for v in candidates_for("interpolate", "backward", [case])]
    specific = {"float16-gradient-summed-in-float16", "float16-rounded-per-tap", "float16-truncated"}
    assert set(names[: len(specific)]) == specific, names[:5]
    assert "bfloat16-gradient-summed-in-bfloat16" not in names and "uint8-truncated" not in names
    assert "nearest-modes-swapped" in names


def test_an_alias_is_compared_with_its_interpolate_on_the_same_layout():
    """torch's area on a transposed input sums in another order than on a
    contiguous copy (an ulp apart): its alias ``upsample`` is exactly its
    ``interpolate`` on the same input, so torch conforms (a random-seed
    ``tox -e report`` once called torch's own alias wrong here)."""
    from backends import load
    from conformance.cases import Case, InputSpec
    from conformance.execute import Oracle
    from conformance.verdict import check_case

    case = Case("upsample", InputSpec((1, 1, 4, 4), "float32", layout="transposed"),
                dict(mode="area", scale_factor=(0.25, 0.25)))
    assert check_case(case, load("torch"), Oracle()).status == "pass"
