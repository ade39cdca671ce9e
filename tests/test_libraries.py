"""The resize-library adapters (backends/libraries/), run for real: no mocks.

Each adapter has a case where its library is known to agree with torch and
one where it is known not to, judged by the harness's own verdict
(``check_case`` against torch and the reference), and the library matrix
built from those records shows both.  A library that is not installed skips
with the reason outside CI; in CI (``CI`` set, where tox installs the light
ones) its absence fails.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backends import Unsupported, load
from conformance.cases import Case, InputSpec
from conformance.execute import Oracle
from conformance.results import Result
from conformance.store import ResultsWriter
from conformance.verdict import check_case
from reports.data import load as load_results
from reports.libraries import README_BEGIN, README_END, library_matrix, readme_lines, replace_readme_table

ROOT = Path(__file__).resolve().parent.parent


def _library(name: str) -> Any:
    backend = load(name)
    ok, why = backend.availability()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{name} must be installed in CI (tox installs it): {why}")
        pytest.skip(why)
    return backend


def _case(shape: tuple[int, ...], dtype: str = "float32", **params: Any) -> Case:
    return Case("interpolate", InputSpec(shape, dtype, "unit", seed=3), params)


#: backend -> (a case the library reproduces, a case it does not): found by experiment.
KNOWN: dict[str, tuple[Case, Case]] = {
    # INTER_NEAREST_EXACT is torch's nearest-exact rule; INTER_AREA upscaling
    # interpolates, where torch's area (adaptive average pooling) repeats pixels
    "opencv": (
        _case((1, 2, 5, 7), size=(11, 13), mode="nearest-exact"),
        _case((1, 2, 5, 7), size=(11, 13), mode="area"),
    ),
    # torch's antialias was written after Pillow's resampling; plain bicubic
    # uses Keys' A = -0.75 where Pillow's BICUBIC has -0.5
    "pillow": (
        _case((1, 2, 12, 10), size=(5, 4), mode="bilinear", antialias=True),
        _case((1, 2, 5, 7), size=(11, 13), mode="bicubic"),
    ),
    # zoom(order=1, grid_mode=False) is align_corners=True; order 3 is a
    # prefiltered B-spline, not Keys' cubic convolution
    "scipy": (
        _case((1, 2, 5, 7), "float64", size=(11, 13), mode="bilinear", align_corners=True),
        _case((1, 2, 5, 7), size=(11, 13), mode="bicubic"),
    ),
    # order 1 is bilinear at half-pixel centres; anti_aliasing is a Gaussian
    # prefilter, not torch's stretched triangle
    "skimage": (
        _case((1, 2, 5, 7), size=(11, 13), mode="bilinear"),
        _case((1, 2, 12, 10), size=(5, 4), mode="bilinear", antialias=True),
    ),
}


@pytest.fixture(scope="module")
def oracle() -> Oracle:
    return Oracle()


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_known_match_and_known_difference(name: str, oracle: Oracle) -> None:
    backend = _library(name)
    match, differ = KNOWN[name]
    agree = check_case(match, backend, oracle)
    assert agree.status == "pass", agree.message
    assert agree.extra["call"], "the call used is recorded for the matrix"
    disagree = check_case(differ, backend, oracle)
    assert disagree.status == "fail", disagree.message
    assert disagree.comparison is not None and disagree.comparison.max_abs > 1e-3


#: backend -> a case no call of the library expresses, and words of the reason.
NOT_EXPRESSIBLE = {
    "opencv": (_case((1, 1, 4, 4), size=(8, 8), mode="bilinear", align_corners=True), "align_corners"),
    "pillow": (_case((1, 1, 4, 4), "float64", size=(8, 8), mode="bilinear"), "float64"),
    "scipy": (_case((1, 1, 4, 4), size=(2, 2), mode="area"), "area"),
    "skimage": (_case((1, 1, 4, 4), size=(8, 8), mode="nearest"), "nearest"),
}


@pytest.mark.parametrize("name", sorted(NOT_EXPRESSIBLE))
def test_not_expressible_is_unsupported_with_a_reason(name: str, oracle: Oracle) -> None:
    backend = _library(name)
    case, words = NOT_EXPRESSIBLE[name]
    result = check_case(case, backend, oracle)
    assert result.status == "unsupported" and words in result.message


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_invalid_calls_raise_torchs_errors(name: str) -> None:
    backend = _library(name)
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        backend.interpolate(x, size=2, scale_factor=2.0)
    with pytest.raises(RuntimeError, match="greater than 0"):
        backend.interpolate(x, size=0, mode="bilinear")


def test_given_scale_factor_is_not_expressible_by_a_size_only_library() -> None:
    backend = _library("opencv")
    x = np.zeros((1, 1, 5, 5), np.float32)
    with pytest.raises(Unsupported, match="scale_factor"):
        backend.interpolate(x, scale_factor=1.5, mode="bilinear")  # 5 -> 7, sampled at 1/1.5, not 5/7
    assert backend.interpolate(x, scale_factor=1.5, mode="bilinear", recompute_scale_factor=True).shape == (1, 1, 7, 7)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_planes_layouts_and_empty_batches(name: str) -> None:
    """Channels beyond cv2's limit, a 1-D signal where the library takes one,
    strided input, and an empty batch (no library call)."""
    backend = _library(name)
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 7, 6, 10), dtype=np.float32)[..., ::-1]
    # an integer ratio, where every library's nearest-exact is torch's (at 6 x 10 -> 9 x 15 cv2's is not)
    got = backend.interpolate(x, size=(12, 20), mode="nearest-exact")
    want = torch.nn.functional.interpolate(torch.from_numpy(x.copy()), size=(12, 20), mode="nearest-exact").numpy()
    np.testing.assert_array_equal(got, want)
    empty = backend.interpolate(np.zeros((0, 3, 4, 4), np.float32), size=(8, 8), mode="nearest-exact")
    assert empty.shape == (0, 3, 8, 8)


def test_matrix_shows_matches_and_differences(tmp_path: Path, oracle: Oracle) -> None:
    names = [n for n in sorted(KNOWN) if load(n).availability()[0]]
    if not names:
        pytest.skip("no resize library installed")
    path = tmp_path / "libraries.jsonl"
    with ResultsWriter(path) as writer:
        writer.write({"type": "environment", "cpu": "test"})
        for name in names:
            backend = load(name)
            for case in (*KNOWN[name], NOT_EXPRESSIBLE[name][0]):
                result: Result = check_case(case, backend, oracle)
                writer.write(result.to_json())
    matrix = library_matrix(load_results([path]))
    assert matrix.libraries == names
    for name in names:
        verdicts = {cell.verdict for (row, lib), cell in matrix.cells.items() if lib == name}
        assert {"differs", "not expressible"} <= verdicts, (name, verdicts)
        assert verdicts & {"exact", "conforms"}, (name, verdicts)
        calls = [c for (row, lib), cell in matrix.cells.items() if lib == name for c in cell.calls]
        assert calls, f"{name}: no call recorded"
    lines = readme_lines(matrix)
    assert lines[0].startswith("| torch | library | call |") and len(lines) > 2
    readme = f"a\n{README_BEGIN}\nold\n{README_END}\nb\n"
    assert replace_readme_table(readme, lines).split("\n")[2:4] == lines[:2]


def test_the_manual_has_the_generated_library_table() -> None:
    page = (ROOT / "docs" / "libraries.md").read_text(encoding="utf-8")
    table = page[page.index(README_BEGIN) + len(README_BEGIN) : page.index(README_END)].strip().splitlines()
    assert table[0] == "| torch | library | call | result |" and len(table) > 10


def test_pictures_are_png_data_uris(tmp_path: Path) -> None:
    _library("pillow")
    from conformance.pictures import CASES, write_pictures

    path = write_pictures(tmp_path / "pictures.json", ["pillow", "not-a-backend"])
    items = json.loads(path.read_text())["pictures"]
    assert {i["group"] for i in items} == {title for title, _, _ in CASES}
    for item in items:
        assert item["image"].startswith("data:image/png;base64,")
        assert base64.b64decode(item["image"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    pillow = [i for i in items if i["label"] == "pillow"]
    assert any(i.get("diff") for i in pillow) and any(i.get("reason") for i in pillow)


def test_the_libraries_extra_installs_every_library_extra() -> None:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    per_library = {"opencv", "pillow", "scipy", "skimage", "jax", "tensorflow", "onnx", "onnxruntime"}
    assert per_library <= extras.keys()
    # [libraries] lists the light ones and names the others' extras (one place for their markers and bounds)
    listed = set(extras["libraries"])
    named = set()
    for requirement in listed:
        if requirement.startswith("upsample-conformance["):
            named |= set(requirement.split("[", 1)[1].rstrip("]").split(","))
    expanded = {r for r in listed if not r.startswith("upsample-conformance[")} | {r for e in named for r in extras[e]}
    assert {r for e in per_library for r in extras[e]} == expanded
