"""Expected deviations (``--expected FILE``): a backend's accepted failures are
reported as expected and do not fail the run; a stale entry is named, and
fails the run with ``--strict``; torch's own known deviations use the same
mechanism when torch is the backend."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from conformance.cli import main
from conformance.expected import (
    Expectation,
    ExpectedFileError,
    builtin_expectations,
    judge,
    load,
    suggestion,
)

BROKEN = "tests.broken_backends:ignores_align_corners"
RUN = ["run", "--backend", BROKEN, "--op", "interpolate", "--mode", "bilinear", "--mode", "nearest"]
RUN += ["--no-grad", "--examples", "30", "--seed", "1", "--quiet", "--no-isolation", "--shrink-seconds", "5"]

ACCEPTED = """
[[expected]]
backend = "ignores-align-corners"
op = "interpolate"
cell = "bilinear"
direction = "fwd"
reason = "align_corners is not supported yet"
link = "https://example.org/issues/1"
"""
STALE = """
[[expected]]
backend = "{backend}"
op = "interpolate"
cell = "nearest"
reason = "an old bug, fixed since"
"""


def run(argv: list[str]) -> tuple[int, str]:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """The broken backend's run without an entry, with one, and with a stale one too (plain and --strict)."""
    tmp = tmp_path_factory.mktemp("expected")
    accepted = tmp / "accepted.toml"
    accepted.write_text(ACCEPTED)
    stale = tmp / "stale.toml"
    # the stale entry names the backend by its spec: either works
    stale.write_text(ACCEPTED + STALE.format(backend=BROKEN))
    found = {}
    for name, extra in {
        "none": [],
        "accepted": ["--expected", str(accepted)],
        "stale": ["--expected", str(stale)],
        "strict": ["--expected", str(stale), "--strict"],
    }.items():
        results = tmp / f"{name}.jsonl"
        code, text = run([*RUN, *extra, "--results", str(results)])
        found[name] = (code, text, results)
    return found


def test_without_an_entry_the_failure_fails_the_run(outcomes):
    code, text, _ = outcomes["none"]
    assert code == 1
    assert "to accept this deviation, add to an --expected file:" in text
    # the pasteable entry is valid, and names the failing cell
    block = text.split("to accept this deviation, add to an --expected file:\n", 1)[1].split("\n\n", 1)[0]
    assert 'cell = "bilinear"' in block and 'direction = "fwd"' in block


def test_an_entry_turns_the_failure_into_an_expected_deviation(outcomes):
    code, text, results = outcomes["accepted"]
    assert code == 0, text[-2000:]
    assert "interpolate bilinear: fail, expected ===" in text
    assert "align_corners is not supported yet (https://example.org/issues/1)" in text
    assert re.search(r"\d+ cases, 0 not conforming \(\d+ more fail as expected deviations\)", text)
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert any(r.get("type") == "expectations" for r in records)


def test_a_stale_entry_is_named_and_fails_the_run_only_with_strict(outcomes):
    code, text, _ = outcomes["stale"]
    assert code == 0
    assert "stale expected entries" in text and "an old bug, fixed since" in text
    code, text, _ = outcomes["strict"]
    assert code == 1
    assert "--strict fails the run" in text


def test_the_report_shows_expected_deviations_in_their_own_colour(outcomes, tmp_path):
    _, _, results = outcomes["accepted"]
    code, _ = run(["report", "--results", str(results), "--out", str(tmp_path)])
    assert code == 0
    html = (tmp_path / "index.html").read_text()
    assert 'class="c s-expected"' in html
    assert "align_corners is not supported yet" in html
    assert ".s-expected {" in html
    section = html.split('<h2 id="expected">', 1)[1].split("<h2 ", 1)[0]
    assert "ignores-align-corners interpolate bilinear fwd" in section and ">stale</span>" not in section


def test_the_report_names_stale_entries(outcomes, tmp_path):
    _, _, results = outcomes["strict"]
    run(["report", "--results", str(results), "--out", str(tmp_path)])
    section = (tmp_path / "index.html").read_text().split('<h2 id="expected">', 1)[1].split("<h2 ", 1)[0]
    stale_row = next(row for row in section.split("<tr>") if "an old bug, fixed since" in row)
    assert ">stale</span>" in stale_row and "s-fail" in stale_row  # --strict: the stale entry fails the run


@pytest.mark.parametrize(
    "text, phrase",
    [
        ('[[expected]]\nbackend = "numpy"\nop = "interpolate"\n', "reason missing"),
        ('[[expected]]\nbackend = "numpy"\nop = "interpolate"\nreason = "x"\ndirection = "forward"\n', "'fwd' or 'bwd'"),
        ('[[expected]]\nbackend = "numpy"\nop = "interpolate"\nreason = "x"\nmodes = "bilinear"\n', "unknown key"),
        ('[expected]\nbackend = "numpy"\n', "[[expected]]"),
        ("[[expected]\n", "not valid TOML"),
    ],
)
def test_a_bad_file_says_what_to_change(tmp_path, text, phrase):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ExpectedFileError) as exc:
        load(path)
    assert phrase in str(exc.value)


def test_a_typo_in_op_or_cell_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "typo.toml"
    path.write_text('[[expected]]\nbackend = "numpy"\nop = "interpolate"\ncell = "bilinaer"\nreason = "x"\n')
    code, _ = run(["run", "--backend", "numpy", "--op", "pixel_shuffle", "--expected", str(path), "--no-isolation"])
    assert code == 2
    assert "has no cell 'bilinaer'" in capsys.readouterr().err


def test_a_diagnosed_failure_suggests_its_diagnosis_as_the_reason():
    record = {
        "backend": "mine",
        "op": "interpolate",
        "mode": "bicubic",
        "dtype": "float32",
        "direction": "forward",
        "diagnosis": {"verdict": "variant", "summary": 'matches bicubic-a-half on all 3 "failing" case(s)'},
    }
    text = suggestion(record)
    assert 'reason = "diagnosed: matches bicubic-a-half on all 3 \\"failing\\" case(s)"' in text
    # the suggestion is a valid entry that covers the record
    import tomllib

    entry = tomllib.loads(text)["expected"][0]
    assert entry["cell"] == "bicubic" and entry["direction"] == "fwd"
    record["diagnosis"] = {"verdict": "none", "summary": "no known variant explains it"}
    assert "TODO" in suggestion(record)


def test_torchs_own_deviations_are_expected_when_torch_is_the_backend():
    entries = builtin_expectations(["numpy", "torch"])
    assert entries and all(e.backend == "torch" for e in entries)
    # torch's uint8 bicubic clamps between passes: expected in interpolate and its aliases
    uint8_cubic = {(e.op, e.cell) for e in entries if e.dtype == "uint8" and "clamp" in e.reason}
    assert {("interpolate", "bicubic"), ("interpolate", "lanczos"), ("upsample", "bicubic")} <= uint8_cubic
    failing = {"type": "result", "backend": "torch", "op": "upsample", "mode": "bicubic", "dtype": "uint8"}
    judgement = judge([{**failing, "status": "fail"}], entries)
    assert not judgement.unexpected and judgement.expected
    # an off-reference deviation covers failures, not errors: a crash there is not explained by it
    judgement = judge([{**failing, "mode": "lanczos", "op": "interpolate", "status": "error"}], entries)
    assert judgement.unexpected


#: A CPU path (``backends.torch_backend.cpu_path``'s facts) of an AVX-512 machine.
AVX512_PATH = {"capability": "AVX512", "onednn": True, "onednn_float16": False, "threads": 2}


def test_an_alias_with_one_fixed_mode_inherits_that_modes_deviations():
    entries = builtin_expectations(["torch"], {"torch": AVX512_PATH})
    # upsample_bilinear and UpsamplingBilinear2d have one cell, "all", which runs bilinear
    for alias in ("upsample_bilinear", "UpsamplingBilinear2d"):
        crash = {"type": "result", "backend": "torch", "op": alias, "mode": "all", "dtype": "uint8", "status": "error"}
        assert not judge([crash], entries).unexpected, alias
    # ...and not those of another mode: nearest's alias has no uint8 bilinear crash to inherit
    crash = {"type": "result", "backend": "torch", "op": "upsample_nearest", "mode": "all", "dtype": "uint8", "status": "error"}
    assert judge([crash], entries).unexpected


def test_torchs_own_deviations_are_those_of_its_cpu_path():
    """A deviation applies where its ``Where`` holds on the backend's path:
    the uint8 internal assertion of the AVX kernels not on DEFAULT, the
    DEFAULT kernel's uint8 width-one rows only there, and on no CPU path
    (torch-cuda) only the unconditional ones."""

    def links(backend: str, path: dict | None) -> set[str]:
        return {e.link.split(": ")[1] for e in builtin_expectations([backend], {backend: path})}

    vectorised = links("torch", AVX512_PATH)
    default = links("torch@default", {**AVX512_PATH, "capability": "DEFAULT"})
    assert "uint8-antialias-internal-assert" in vectorised - default
    assert "uint8-width-one-default-kernel" in default - vectorised
    assert "conv-transpose-zero-length-accepted" not in vectorised  # "accepts": not a verdict status
    unconditional = links("torch-cuda", None)
    assert "antialias-width-one" in unconditional
    assert not unconditional & {"uint8-antialias-internal-assert", "uint8-width-one-default-kernel"}
    assert links("numpy", AVX512_PATH) == set()


def test_stale_needs_a_checked_case_in_the_entrys_scope():
    entry = Expectation(backend="b", op="interpolate", reason="r", cell="bicubic", dtype="uint8")
    passing = {"type": "result", "backend": "b", "op": "interpolate", "mode": "bicubic", "status": "pass"}
    assert judge([{**passing, "dtype": "uint8"}], [entry]).stale == [entry]
    assert judge([{**passing, "dtype": "float32"}], [entry]).stale == []  # not checked: neither stale nor matched
