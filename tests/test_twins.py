"""Discriminating cases keep their power whatever form and dtype a run takes:
twins in the other input forms (batched or not, ``size`` or
``scale_factor``, another layout) and in every dtype of their cell, reserve
cases where no twin separates in a dtype, and a power figure that names what
a restriction still lost (issues 26 and 27)."""

from __future__ import annotations

import json
import os

import pytest

from backends import Unsupported
from backends.numpy_backend import NumpyBackend
from conformance import forms
from conformance.cases import Case, InputSpec
from conformance.cli import main
from conformance.execute import Oracle
from conformance.power import Discriminating, Power, cached, describe_lost
from reference.interpolate import plan_interpolate

FULL = bool(os.environ.get("MUTATION_FULL"))
ORACLE = Oracle()


def _interpolate(shape, **params) -> Case:
    return Case("interpolate", InputSpec(shape, "float32"), {"mode": "bilinear", **params})


def _out(case: Case) -> tuple[int, ...]:
    return tuple(plan_interpolate(case.input.shape, **case.params).output_size)


@pytest.mark.parametrize(("shape", "size"), [((1, 1, 3, 7), (5, 11)), ((2, 1, 6, 6), (74, 1)), ((1, 1, 49, 3), (3, 17))])
def test_a_size_call_has_a_scale_factor_twin_of_the_same_output_size(shape, size):
    case = _interpolate(shape, size=size)
    twin = forms.twin(case, ["scale_factor"])
    assert twin is not None and "size" not in twin.params and twin.params["recompute_scale_factor"] is True
    assert _out(twin) == _out(case) == size
    back = forms.twin(twin, ["size"])
    assert back is not None and back.params["size"] == size and "scale_factor" not in back.params


def test_a_scale_factor_call_has_a_size_twin():
    case = _interpolate((1, 1, 7, 5), scale_factor=0.7, recompute_scale_factor=False)
    twin = forms.twin(case, ["size"])
    assert twin is not None and twin.params == {"mode": "bilinear", "size": _out(case)}
    assert forms.twin(case, ["scale_factor"]) is None  # it has no size to turn into one


def test_a_dtype_twin_draws_values_the_dtype_draws_and_relabels_its_operands():
    case = Case(
        "conv_transpose",
        InputSpec((1, 2, 3), "float32", "large"),
        {"stride": (2,)},
        (("weight", InputSpec((2, 1, 2), "float32", "normal", 1)),),
    )
    half = forms.twin(case, ["dtype=float16"])
    assert half is not None and half.dtype == "float16" and half.input.distribution == "normal"
    assert dict(half.operands)["weight"].dtype == "float16"
    ints = forms.twin(case, ["dtype=int64", "batch"])
    assert ints is not None and ints.input.distribution == "integers" and ints.input.shape == (2, 3)
    assert forms.twin(case, ["layout=transposed"]).input.layout == "transposed"  # type: ignore[union-attr]
    assert forms.twin(case, ["dtype=float32"]) is None  # already in it
    with pytest.raises(ValueError, match="unknown form step"):
        forms.twin(case, ["channels"])


def test_twins_and_reserves_are_stored_as_steps():
    case = _interpolate((1, 1, 2, 2), size=(4, 3))
    d = Discriminating(case, ("v",), (("scale_factor",), ("dtype=float64", "layout=transposed")), reserve=True)
    stored = json.loads(json.dumps(d.to_json()))
    assert stored["twins"] == [["scale_factor"], ["dtype=float64", "layout=transposed"]] and stored["reserve"]
    again = Discriminating.from_json(stored)
    assert again == d and [t.describe() for t in again.twins] == [t.describe() for t in d.twins]
    assert again.twins[1].dtype == "float64" and again.twins[1].input.layout == "transposed"


def test_every_cached_case_in_a_dtype_has_a_twin_or_reserve_in_every_dtype_of_its_cell():
    """Issue 27: ``--dtype X`` keeps the cell's full power, but for what the
    store records as lost in X (``lost_in``: no case of X's found)."""
    from conformance.discriminating import all_cells, cell_dtypes
    from conformance.power import read

    data = read()["cells"]
    for cell in all_cells():
        entry = data[f"{cell.op}/{cell.cell}/{cell.direction}"]
        found = [Discriminating.from_json(c) for c in entry["cases"]]
        separated = {v for d in found for v in d.separates}
        for dtype in cell_dtypes(cell.op, cell.cell, cell.direction):
            reached = {v for d in found for t in (d.case, *d.twins) if t.dtype == dtype for v in d.separates}
            lost = set(entry.get("lost_in", {}).get(dtype, ()))
            from reference.variants import variants_for

            only = {v.name for v in variants_for(cell.op) if v.dtypes is not None and dtype not in v.dtypes}
            assert separated - reached - only <= lost, (cell.describe(), dtype, sorted(separated - reached - lost))


def _run(argv: list[str], tmp_path, name: str = "r") -> tuple[int, list[dict], str]:
    results = tmp_path / f"{name}.jsonl"
    code = main([*argv, "--results", str(results), "--quiet", "--no-isolation"])
    return code, [json.loads(line) for line in results.read_text().splitlines()], str(results)


@pytest.mark.parametrize("seed", [1, 2, 3] if FULL else [1])
def test_nearest_without_4d_shortcuts_fails_a_float32_run(tmp_path, seed):
    """Issue 27's done-when: its only discriminating case was float64; at
    ``--dtype float32`` the run passed at seed 1 (35 cases, 0 not conforming)."""
    argv = ["run", "--backend", "variant:nearest-no-4d-shortcuts", "--op", "interpolate", "--mode", "nearest"]
    code, records, _ = _run([*argv, "--dtype", "float32", "--examples", "20", "--seed", str(seed), "--no-grad"], tmp_path)
    assert code == 1
    failed = [r for r in records if r.get("type") == "result" and r["status"] == "fail"]
    assert failed and all(r["dtype"] == "float32" for r in failed)
    assert any("nearest-no-4d-shortcuts" in r.get("separates", ()) for r in failed)


def test_reserves_are_checked_only_where_a_restriction_needs_them(tmp_path):
    found, _ = cached("interpolate", "nearest")
    reserves = [json.dumps(d.case.to_json(), sort_keys=True) for d in found if d.reserve]
    assert reserves

    def checked(records):
        return [r for r in records if r.get("type") == "result" and r.get("separates")]

    argv = ["run", "--backend", "numpy", "--op", "interpolate", "--mode", "nearest", "--examples", "1", "--no-grad"]
    _, records, _ = _run(argv, tmp_path, "all")
    assert len(checked(records)) == len(found) - len(reserves)
    assert not any(json.dumps(r["case"], sort_keys=True) in reserves for r in checked(records))
    _, records, _ = _run([*argv, "--dtype", "float32"], tmp_path, "f32")  # the float64 case has no float32 twin
    assert {r["dtype"] for r in checked(records)} == {"float32"}
    used = [r for r in checked(records) if json.dumps(r["case"], sort_keys=True) in reserves]
    assert [r["separates"] for r in used] == [["nearest-no-4d-shortcuts"]]
    done = next(r for r in records if r.get("type") == "cell_done")
    assert done["variants"]["separated"] == done["variants"]["total"] and "lost" not in done["variants"]


def test_the_power_figure_names_what_a_dtype_restriction_lost(tmp_path, capsys):
    """bilinear in float16 draws no antialias (torch takes none there): the
    antialias variants cannot be separated, and the figure says so."""
    lost = cached("interpolate", "bilinear")
    argv = ["run", "--backend", "numpy", "--op", "interpolate", "--mode", "bilinear", "--dtype", "float16"]
    code, records, _ = _run([*argv, "--examples", "1", "--no-grad"], tmp_path)
    assert code == 0 and lost
    done = next(r for r in records if r.get("type") == "cell_done")
    names = done["variants"]["lost"]["--dtype float16"]
    assert "antialias-ignored" in names and not set(names) & set(done["variants"]["separated"])
    assert len(done["variants"]["separated"]) + len(names) == len(done["variants"]["total"])
    out = capsys.readouterr().out
    assert f"interpolate: lost under --dtype float16: {', '.join(sorted(names))}" in out
    assert "antialias-ignored" not in out.split("not separated")[-1].split("lost under")[0]  # named once, as lost


class DeclinesScaleFactor(NumpyBackend):
    """A port whose framework resizes to a size only."""

    name = "declines-scale-factor"

    def interpolate(self, x, size=None, scale_factor=None, *args, **kwargs):
        if scale_factor is not None:
            raise Unsupported("scale_factor")
        return super().interpolate(x, size, scale_factor, *args, **kwargs)


class DeclinesConvTranspose(NumpyBackend):
    name = "declines-conv-transpose"

    def conv_transpose(self, *args, **kwargs):
        raise Unsupported("no transposed convolution here")


def _search(op: str, mode: str, backend, monkeypatch):
    from conformance import search
    from conformance.search import Cell, search_cell

    for name in ("fixed_cases", "edge_cases", "relaid", "revalued", "_explore"):
        monkeypatch.setattr(search, name, lambda *args: [])
    recorded: list = []
    outcome = search_cell(Cell(op, mode), backend, "d", ORACLE, recorded.append)
    return outcome, recorded


def test_a_backend_declining_scale_factor_is_given_the_size_twin(monkeypatch):
    """Of bilinear's cases in scale_factor form, those whose size twin
    separates the same variants still count for a backend without scale_factor."""
    outcome, recorded = _search("interpolate", "bilinear", DeclinesScaleFactor(), monkeypatch)
    twins = [r for r in recorded if r.status == "pass" and r.extra.get("separates")]
    assert any("size" in r.case.params for r in twins)
    assert "same-length-axis-resampled" in outcome.power.separated
    declined = {v for d in cached("interpolate", "bilinear")[0] for v in d.separates} - outcome.power.separated
    assert declined == set().union(*outcome.power.lost.values()) and set(outcome.power.lost) <= {
        "the backend's declines (scale_factor)",
        "--dtype",
    }


def test_what_a_backend_declines_is_named_as_lost(monkeypatch):
    outcome, _ = _search("conv_transpose", "2d", DeclinesConvTranspose(), monkeypatch)
    assert not outcome.power.separated and outcome.power.total
    assert outcome.power.lost == {"the backend's declines (no transposed convolution here)": outcome.power.total}
    text = describe_lost(outcome.power.lost)
    assert text.startswith("lost under the backend's declines (no transposed convolution here): conv-transpose-")


def test_describe_lost_joins_each_restriction():
    power = Power({"a"}, {"a", "b", "c"})
    power.lose("--dtype float32", ["c", "b"])
    assert describe_lost(power.lost) == "lost under --dtype float32: b, c"
    assert power.to_json()["lost"] == {"--dtype float32": ["b", "c"]}


def test_a_fixed_case_the_backend_declines_is_checked_in_another_form(monkeypatch):
    """Issue 26: a declined fixed or edge case is replaced by its nearest form the backend takes."""
    from conformance import search
    from conformance.search import Cell, search_cell

    monkeypatch.setattr(search, "discriminating_cases", lambda *args: ([], Power()))
    for name in ("edge_cases", "relaid", "revalued", "_explore"):
        monkeypatch.setattr(search, name, lambda *args: [])
    recorded: list = []
    search_cell(Cell("interpolate", "bilinear"), DeclinesScaleFactor(), "d", ORACLE, recorded.append)
    declined = [r for r in recorded if r.status == "unsupported"]
    assert declined and all("scale_factor" in r.case.params for r in declined)
    passed = [r.case for r in recorded if r.status == "pass"]
    assert all(forms.step(r.case, "size") in passed for r in declined)
