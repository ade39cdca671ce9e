"""The search of a cell and the run session: give-up without double records,
settings that survive a results file, failure cards that need no backend."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.execute import Oracle
from conformance.results import Result
from conformance.search import GIVE_UP_AFTER, Cell, search_cell
from conformance.session import RunConfig
from reports.html import write_report
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _always(isolation: str, calls: list) -> Any:
    """A checker whose worker crashes (``"crash"``) or hangs (``"timeout"``) on every case it is given (into ``calls``)."""

    def check(case):
        calls.append(case)
        return Result("broken", case, "error", f"the worker: {isolation}", extra={"isolation": isolation})

    return check


def test_a_cell_that_keeps_crashing_gives_up_and_records_each_case_once():
    """Hypothesis replays the example that stopped it; that replay must not
    check (and record) the crashing case a second time."""
    from backends import load

    recorded: list[Result] = []
    cell = Cell("pixel_shuffle", "all", examples=20, shrink_seconds=1)
    outcome = search_cell(cell, load("numpy"), "crashy", Oracle(), recorded.append, _always("crash", []))
    plain = [r for r in recorded if not r.minimal]
    assert len(plain) == GIVE_UP_AFTER == outcome.counts["error"]
    assert [r for r in recorded if r.minimal], "the first failure is still shrunk and reported"


def test_invalid_calls_give_up_on_the_first_hang():
    """Each entry would cost a wait of its limit: one hang is enough (crashes: a few in a row)."""
    from backends import load
    from conformance.ops import get
    from conformance.search import check_invalid_calls

    recorded: list[Result] = []
    outcome = check_invalid_calls("interpolate", load("numpy"), Oracle(), recorded.append, _always("timeout", []))
    assert len(get("interpolate").invalid_calls) > GIVE_UP_AFTER
    assert len(recorded) == 1 == outcome.counts["error"]


def test_a_hanging_cell_waits_out_one_hang_exploring_and_one_shrinking():
    """The first hang ends the exploration; the shrink checks no case the
    cell checked already, and ends at the first hang it meets: its case,
    Hypothesis's simplest, is the minimal one."""
    from backends import load

    calls: list = []
    cell = Cell("interpolate", "bilinear", examples=20, shrink_seconds=60)
    outcome = search_cell(cell, load("numpy"), "hangs", Oracle(), lambda r: None, _always("timeout", calls))
    assert outcome.counts["error"] == 1 and len(calls) == 2, [c.describe() for c in calls]
    assert outcome.minimal is not None and outcome.minimal.case == calls[1] and not outcome.budget_cut


def test_a_later_backend_checks_the_cases_an_earlier_one_drew_when_its_dtypes_answer_alike(monkeypatch):
    """The draws of a cell depend on its settings and on the backend's dtype
    rule alone: a second backend whose rule answers alike gets the first's
    cases without Hypothesis drawing them again; one whose rule differs draws
    its own."""
    from backends import load
    from conformance import search
    from tests.broken_backends import Float32NoLanczos

    monkeypatch.setattr(search, "_DRAWN", {})
    cell = Cell("interpolate", "bilinear", examples=15, seed=4)

    def checked(backend):
        cases: list = []
        search_cell(cell, backend, backend.name, Oracle(), lambda r: cases.append(r.case))
        return cases

    numpy_cases = checked(load("numpy"))
    draws = []  # each time Hypothesis runs (to explore, or to shrink: nothing fails here)
    hypothesis_runs = search._own_constants_only
    monkeypatch.setattr(search, "_own_constants_only", lambda: (draws.append(1), hypothesis_runs())[1])
    assert checked(load("reference")) == numpy_cases
    assert draws == [], "the reference drew its own cases"
    float32_cases = checked(Float32NoLanczos())
    assert draws == [1] and {c.dtype for c in float32_cases} == {"float32"}


def test_run_settings_round_trip_and_older_files_read():
    config = RunConfig(backend=["numpy"], op=["interpolate"], examples=7, seed=3)
    assert RunConfig.from_json(config.to_json()) == config
    older = {"backend": ["numpy"], "examples": 5, "seed": 1, "a_setting_from_elsewhere": True}
    assert RunConfig.from_json(older).examples == 5


BROKEN = '''
from backends.numpy_backend import NumpyBackend


class Doubles(NumpyBackend):
    name = "doubles"

    def pixel_shuffle(self, x, upscale_factor):
        return super().pixel_shuffle(x, upscale_factor) * 2
'''


def _cards(page: str) -> str:
    """The page less what changes from one rendering to the next (dates)."""
    return re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d)?(\+00:00|Z)?", "DATE", page)


def test_failure_cards_render_the_same_after_the_backend_module_is_gone(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "doubling_backend.py").write_text(BROKEN)
    results = tmp_path / "results.jsonl"
    args = ["run", "--backend", "doubling_backend:Doubles", "--op", "pixel_shuffle", "--examples", "10"]
    sys.path.insert(0, str(plugin))  # where a plug-in module is found (its workers inherit the path)
    try:
        run = run_cli(*args, "--no-grad", "--results", str(results), "--quiet")
    finally:
        sys.path.remove(str(plugin))
    assert run.returncode == 1, run.stdout + run.stderr
    before = write_report([results], tmp_path / "before", None).read_text()
    shutil.rmtree(plugin)
    sys.modules.pop("doubling_backend", None)
    after = write_report([results], tmp_path / "after", None).read_text()
    assert "actual (doubles)" in before
    assert _cards(before) == _cards(after)


def test_edge_cases_catch_a_backend_wrong_only_on_an_axis_of_length_one(monkeypatch):
    """A port whose length-1 special case is wrong fails its cell on the
    registry's edge cases whatever Hypothesis draws (one drawn example here);
    without the edge cases the same search passes it."""
    from backends import load
    from conformance import search

    backend = load("tests.broken_backends:AlignCornersLengthOneTakesLast")

    def statuses(direction):
        recorded: list[Result] = []
        cell = Cell("interpolate", "linear", direction, examples=1, seed=0, shrink_seconds=1)
        search_cell(cell, backend, "broken", Oracle(), recorded.append)
        return {r.status for r in recorded}

    assert "fail" in statuses("forward")
    monkeypatch.setattr(search, "edge_cases", lambda cell, backend: [])
    assert statuses("forward") == {"pass"}


def test_edge_cases_take_each_axis_from_length_one_and_to_it_under_each_flag():
    from backends import load
    from conformance.search import edge_cases
    from reference.interpolate import ALIGN_CORNERS_MODES, ANTIALIAS_MODES, MODE_RANKS

    numpy = load("numpy")
    for mode, ranks in MODE_RANKS.items():
        for direction in ("forward", "backward"):
            cases = edge_cases(Cell("interpolate", mode, direction), numpy)
            assert {len(c.input.shape) for c in cases} == set(ranks), (mode, direction)
            flags = {(c.params.get("align_corners"), c.params.get("antialias", False)) for c in cases}
            aligns = {None, True} if mode in ALIGN_CORNERS_MODES - {"lanczos"} else {None}
            antialiases = {True} if mode == "lanczos" else {False, True} if mode in ANTIALIAS_MODES else {False}
            assert flags == {(a, b) for a in aligns for b in antialiases}, (mode, direction)
            groups: dict[tuple, set] = {}
            for c in cases:
                assert c.input.shape[:2] == (2, 2) and (direction == "backward") == (c.direction == "backward")
                key = (len(c.input.shape), c.params.get("align_corners"), c.params.get("antialias", False))
                groups.setdefault(key, set()).add(tuple(zip(c.input.shape[2:], c.params["size"])))
            for key, pairs in groups.items():  # each axis goes from 1 to 5 in one case, from 5 to 1 in the other
                assert {axes[d] for axes in pairs for d in range(key[0] - 2)} == {(1, 5), (5, 1)}, (mode, key)
                # and an input of rank 2 or 3 has both kinds of axis side by side
                assert len(pairs) == 2 and all(len(set(axes)) == (key[0] > 3) + 1 for axes in pairs), (mode, key)


def test_every_cell_checks_each_special_value_distribution_whatever_the_draws(monkeypatch):
    """A backend that flushes subnormals passed the seeds whose draws held no
    subnormal float32 case: each cell now checks its first fixed case with
    subnormal, huge and NaN/infinite values; without that, the same search passes it."""
    import torch

    from backends import load
    from conformance import search
    from conformance.cases import SPECIAL_DISTRIBUTIONS

    if not torch.set_flush_denormal(False):
        pytest.skip("this CPU has no flush-to-zero mode torch can set")
    seen: list = []

    def run(backend):
        recorded: list[Result] = []
        cell = Cell("interpolate", "bilinear", examples=1, seed=2, shrink_seconds=1)
        search_cell(cell, backend, "b", Oracle(), recorded.append)
        seen.extend(r.case.input.distribution for r in recorded)
        return {r.status for r in recorded}

    try:
        flushing = load("tests.broken_backends:FlushesSubnormals")
        assert "fail" in run(flushing)
        assert set(SPECIAL_DISTRIBUTIONS) <= set(seen)
        monkeypatch.setattr(search, "revalued", lambda case: [])
        assert run(flushing) == {"pass"}
    finally:
        torch.set_flush_denormal(False)


def test_a_spent_failure_budget_cuts_the_failure_path_short_and_says_so():
    """With no budget a failing cell still reports its first failure shrunk
    as far as one failing try, but skips its later special cases, stops the
    shrink and checks no variant; the record and the summary say what was cut."""
    from backends import load
    from reports.terminal import failure_lines

    recorded: list[Result] = []
    cell = Cell("interpolate", "bilinear", examples=5, seed=0, failure_budget=0)
    outcome = search_cell(cell, load(BROKEN_NAN), BROKEN_NAN, Oracle(), recorded.append)
    minimal = outcome.minimal
    assert minimal is not None and minimal.status == "fail"
    cut = ["the layout and special-value cases", "the shrink", "the diagnosis"]
    assert outcome.budget_cut == cut == minimal.extra["budget"]["cut"]
    assert minimal.extra["diagnosis"]["unchecked"] > 0 and "budget ran out" in minimal.extra["diagnosis"]["summary"]
    lines = failure_lines(minimal.to_json(), None)
    assert f"failure budget (0 s) spent: cut short {', '.join(cut)}" in lines


def test_within_its_failure_budget_a_failing_cell_cuts_nothing():
    from backends import load

    cell = Cell("interpolate", "bilinear", examples=5, seed=0)
    outcome = search_cell(cell, load(BROKEN_NAN), BROKEN_NAN, Oracle(), lambda r: None)
    assert outcome.minimal is not None and not outcome.budget_cut and "budget" not in outcome.minimal.extra
    assert outcome.minimal.extra["diagnosis"]["unchecked"] == 0


BROKEN_NAN = "tests.broken_backends:NaN"


def test_examples_counts_the_cases_the_backend_checked_not_those_it_declined(monkeypatch):
    """A port that declines unbatched inputs checked 14 to 28 of 40 drawn
    conv_transpose cases: a cell now draws on until it has checked
    ``examples`` cases (at most ``DRAW_CAP`` times as many draws), and says
    how many it declined and why."""
    from backends import load
    from conformance import search
    from reports.terminal import declined_lines

    for name in ("fixed_cases", "edge_cases", "relaid", "revalued"):
        monkeypatch.setattr(search, name, lambda *args: [])
    monkeypatch.setattr(search, "discriminating_cases", lambda cell, backend: ([], search.Power()))
    monkeypatch.setattr(search, "_DRAWN", {})
    cell = Cell("conv_transpose", "2d", examples=40, seed=0, dtypes=("float32",))
    for spec in ("numpy", "tests.broken_backends:DeclinesUnbatched", "numpy"):
        recorded: list[Result] = []
        outcome = search_cell(cell, load(spec), spec, Oracle(), recorded.append)
        assert sum(r.status != "unsupported" for r in recorded) == 40, spec
        declined = [r for r in recorded if r.status == "unsupported"]
        assert outcome.declined == ({"unbatched input": len(declined)} if declined else {})
        if "Declines" in spec:
            assert declined and all(len(r.case.input.shape) == 3 for r in declined)
            done = {"type": "cell_done", "backend": "d", "op": "conv_transpose", "mode": "2d", "declined": outcome.declined}
            assert f"{len(declined)} declined: {len(declined)}x unbatched input" in "\n".join(declined_lines([done]))


def test_a_cell_wrong_in_three_unrelated_ways_shows_three_minimal_cases():
    """A port that crashed, had a NaN rule and an off constant in one cell
    showed one minimal case; each kind of failure is now shrunk on its own,
    with its own repro and diagnosis, and the summary shows every one."""
    from backends import load
    from conformance.failures import failure_kind
    from reports.terminal import summary

    recorded: list[Result] = []
    spec = "tests.broken_backends:ThreeWaysWrong"
    cell = Cell("interpolate", "bilinear", examples=30, seed=0, dtypes=("float32", "float64"))
    outcome = search_cell(cell, load(spec), spec, Oracle(), recorded.append)
    kinds = [failure_kind(m) for m in outcome.minimals]
    assert len(kinds) == 3 == len(set(kinds)), kinds
    assert {m.status for m in outcome.minimals} == {"fail", "error"}
    for m in outcome.minimals:
        assert m.repro and spec in m.repro and m.extra["group"]["kind"] == failure_kind(m)
        assert m.extra["group"]["cases"] >= 1 and m.extra["group"]["kinds"] == 3
        if m.status == "fail":
            assert m.extra["diagnosis"]["summary"]
    crash = next(m for m in outcome.minimals if m.status == "error")
    assert "ZeroDivisionError" in crash.message and crash.case.input.shape[2] == 1
    assert "input axis 2 of length 1" in crash.extra["diagnosis"]["features"], crash.extra["diagnosis"]
    assert crash.extra["diagnosis"]["summary"].startswith("raised ZeroDivisionError")
    nan_rule = next(m for m in outcome.minimals if m.status == "fail" and kinds[outcome.minimals.index(m)].endswith("non-finite"))
    assert nan_rule.case.input.distribution in ("nans", "specials")
    text = summary([r.to_json() for r in recorded], 0, "-")
    assert text.count("=== three-ways-wrong interpolate bilinear") == 3 == text.count("one of 3 kinds of failure")


def test_a_long_cell_shows_its_progress_on_a_log_too(monkeypatch):
    """On a log (no terminal) a cell's line came only at its end: a long cell
    now writes one every ``LOG_EVERY`` seconds, with its failures and time."""
    import io

    from conformance.cases import Case, InputSpec
    from reports import terminal

    stream = io.StringIO()
    progress = terminal.Progress(stream)
    monkeypatch.setattr(terminal, "LOG_EVERY", -1.0)
    progress.start("numpy interpolate bilinear")
    case = Case("interpolate", InputSpec((1, 1, 2, 2), "float32"), {"mode": "bilinear", "size": (3, 3)})
    progress.update(Result("numpy", case, "pass"))
    progress.update(Result("numpy", case, "fail"))
    assert stream.getvalue().splitlines()[-1] == "numpy interpolate bilinear: fail 1 pass 1  (running)"


def test_mode_says_it_leaves_out_the_invalid_calls(tmp_path):
    run = run_cli("run", "--backend", "numpy", "--op", "pixel_shuffle", "--mode", "all", "--examples", "2",
                  "--no-grad", "--results", str(tmp_path / "r.jsonl"))
    assert "add --mode invalid-calls to check it" in run.stderr, run.stderr
