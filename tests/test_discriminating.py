"""The discriminating cases: each cached case still separates the variants it
names (they fail it) while torch's semantics pass it; every variant is
separated somewhere; runs check them first and record the power figure."""

from __future__ import annotations

import json

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
