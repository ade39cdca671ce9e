"""The discriminating cases: each cached case still separates the variants it
names (they fail it) while torch's semantics pass it; every variant is
separated somewhere; runs check them first and record the power figure."""

from __future__ import annotations

import json
import os

import pytest

from backends import load
from backends.reference_backend import ReferenceBackend
from backends.variant_backend import VariantBackend
from conformance.cli import main
from conformance.execute import Oracle
from conformance.power import Discriminating, read
from conformance.verdict import check_case
from reference.variants import all_variants

CELLS = read()["cells"]
ORACLE = Oracle()


@pytest.mark.parametrize("key", sorted(CELLS))
def test_cached_cases_still_separate_what_they_claim(key):
    for entry in CELLS[key]["cases"]:
        d = Discriminating.from_json(entry)
        assert check_case(d.case, ReferenceBackend(), ORACLE).status == "pass", (key, d.case.describe())
        for name in d.separates:
            result = check_case(d.case, VariantBackend(name), ORACLE)
            assert result.status == "fail", (key, name, d.case.describe(), result.message)


def test_every_variant_is_separated_somewhere():
    separated = {v for entry in CELLS.values() for d in entry["cases"] for v in d["separates"]}
    missing = sorted(v.name for v in all_variants() if v.name not in separated)
    assert not missing, f"no discriminating case for {missing}: python -m conformance discriminate"


def test_a_run_checks_them_first_and_records_the_power(tmp_path, capsys):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", "numpy", "--op", "pixel_shuffle", "--examples", "5", "--no-isolation"]
    assert main([*argv, "--results", str(results), "--quiet", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    records = [json.loads(line) for line in results.read_text().splitlines()]
    first = next(r for r in records if r.get("type") == "result")
    assert first.get("separates"), "the discriminating cases come first"
    done = next(r for r in records if r.get("type") == "cell_done" and r["direction"] == "forward")
    assert done["variants"]["total"] and done["variants"]["separated"] == done["variants"]["total"]
    figure = f"{len(done['variants']['total'])}/{len(done['variants']['total'])}"
    assert figure in out and "semantic variants separated" in out


def test_a_variant_run_shows_what_it_did_not_separate(tmp_path, capsys):
    results = tmp_path / "r.jsonl"
    argv = ["run", "--backend", "variant:pixel-shuffle-channel-major", "--op", "pixel_shuffle", "--no-grad"]
    assert main([*argv, "--examples", "5", "--no-isolation", "--results", str(results), "--quiet"]) == 1
    assert "pixel-shuffle-channel-major" in capsys.readouterr().out.split("not separated")[-1]
    assert load("variant:pixel-shuffle-channel-major").name == "pixel-shuffle-channel-major"


#: Default tox checks one twin in this many (each case's first, then a stride);
#: ``tox -e mutation`` (``MUTATION_FULL=1``) checks every twin.
TWIN_STRIDE = 1 if os.environ.get("MUTATION_FULL") else 10


@pytest.mark.parametrize("key", sorted(k for k in CELLS if CELLS[k]["cases"] and "twins" in str(CELLS[k])))
def test_cached_twins_still_separate_what_their_case_does(key):
    """A case's twins in other input forms and dtypes (``conformance.forms``)
    are kept only where they separate the same variants: they still do."""
    for entry in CELLS[key]["cases"]:
        d = Discriminating.from_json(entry)
        assert len(d.twins) == len(d.steps), (key, d.case.describe(), "a stored step no longer applies")
        for twin in d.twins[::TWIN_STRIDE]:
            assert check_case(twin, ReferenceBackend(), ORACLE).status == "pass", (key, twin.describe())
            for name in d.separates:
                assert check_case(twin, VariantBackend(name), ORACLE).status == "fail", (key, name, twin.describe())


def test_every_unbatched_case_has_a_batched_twin():
    """All 42 conv_transpose cases and 16 of 22 max_unpool ones were
    unbatched: a backend without unbatched inputs separated nothing there."""
    from conformance.forms import is_unbatched

    for key, entry in CELLS.items():
        for d in map(Discriminating.from_json, entry["cases"]):
            if key.split("/")[0] in ("conv_transpose", "max_pool", "max_unpool") and is_unbatched(d.case):
                assert any(not is_unbatched(t) for t in d.twins), (key, d.case.describe())


@pytest.mark.parametrize("op", ["conv_transpose", "max_unpool"])
def test_a_backend_declining_unbatched_inputs_gets_the_full_power(op, monkeypatch):
    from conformance import search
    from conformance.search import Cell, search_cell

    for name in ("fixed_cases", "edge_cases", "relaid", "revalued", "_explore"):
        monkeypatch.setattr(search, name, lambda *args: [])
    backend = load("tests.broken_backends:DeclinesUnbatched")
    for mode in ("1d", "2d", "3d"):
        for direction in ("forward", "backward"):
            recorded: list = []
            outcome = search_cell(Cell(op, mode, direction), backend, "d", ORACLE, recorded.append)
            assert outcome.power.total and outcome.power.separated == outcome.power.total, (mode, direction)
            assert any(r.status == "unsupported" for r in recorded) or op == "max_unpool"
