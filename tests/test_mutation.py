"""The harness's own mutation test: every semantic variant (``reference.variants``),
run as a backend through the CLI at the default example count, fails, on every
seed (each seed on another of the cells where it differs from torch), with a shrunk repro that runs and shows the difference, and is diagnosed
as itself (alone, or tied with variants that coincide on every case checked).

Default ``tox`` runs a representative slice (one variant per op family, one
seed); ``tox -e mutation`` runs every variant on seeds 0 to 4
(``MUTATION_FULL=1``) and prints the figure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys

import pytest

from conformance import ops
from conformance.cli import main
from conformance.power import cell_key, read
from reference.variants import all_variants

FULL = bool(os.environ.get("MUTATION_FULL"))
SEEDS = range(5) if FULL else range(1)
#: The slice default tox runs: one variant of each op family, chosen for speed.
SLICE = (
    "nearest-modes-swapped",
    "bicubic-a-half",
    "conv-transpose-kernel-flipped",
    "max-pool-ties-last",
    "max-unpool-column-major",
    "pixel-shuffle-channel-major",
)
CACHE = read()["cells"]


def _cells(name: str, op: str) -> list[tuple[str, bool]]:
    """The cells whose discriminating cases separate ``name``, each with
    whether its backward ones do."""
    cells: dict[str, bool] = {}
    for direction in ("forward", "backward"):
        for cell in ops.get(op).cells:
            entry = CACHE.get(cell_key(op, cell, direction), {"cases": []})
            if any(name in d["separates"] for d in entry["cases"]):
                cells[cell] = cells.get(cell, False) or direction == "backward"
    return sorted(cells.items())


VARIANTS = [v for v in all_variants() if FULL or v.name in SLICE]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", [v.name for v in VARIANTS])
def test_every_variant_is_caught_with_a_repro_that_shows_it(name, seed, tmp_path):
    op = next(v.op for v in VARIANTS if v.name == name)
    cells = _cells(name, op)
    assert cells, f"no discriminating case separates {name}: rebuild with python -m conformance discriminate"
    # one cell per seed, in turn: every cell a variant spans would cost a
    # shrink and a diagnosis each, and one red cell is the point
    cell, backward = cells[seed % len(cells)]
    results = tmp_path / "results.jsonl"
    argv = ["run", "--backend", f"variant:{name}", "--op", op, "--mode", cell, "--seed", str(seed)]
    argv += ["--no-isolation", "--quiet", *([] if backward else ["--no-grad"])]
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main([*argv, "--results", str(results), "--shrink-seconds", "10"])
    assert code == 1, f"{name} (seed {seed}) conforms:\n{out.getvalue()[-3000:]}"
    records = [json.loads(line) for line in results.read_text().splitlines()]
    minimal = [r for r in records if r.get("minimal")]
    assert minimal, f"{name}: failed with no shrunk case"
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        exec(compile(minimal[0]["repro"], "<repro>", "exec"), {"__name__": "__repro__"})
    text = shown.getvalue()
    assert _shows_a_difference(text), f"{name}: the repro shows no difference:\n{minimal[0]['repro']}\n---\n{text}"
    # the diagnosis names the variant (alone, or tied with variants that coincide on every case checked)
    for m in minimal:
        if m["status"] == "fail":
            diagnosis = m["diagnosis"]
            assert diagnosis["verdict"] == "variant" and name in diagnosis["variants"], (name, m["mode"], diagnosis)


def _shows_a_difference(printed: str) -> bool:
    """A repro's output shows the trigger: a nonzero difference, differing shapes, or a raise."""
    for line in printed.splitlines():
        if "raised" in line or "shapes differ" in line:
            return True
        if "| actual" in line and "max |" not in line:
            expected, actual = line.split("| actual")
            if expected.split(None, 2)[2:] != actual.split(None, 1)[1:]:
                return True  # dtype or shape differ
        if "max |actual - expected| =" in line:
            value = line.split("max |actual - expected| =", 1)[1].split()[0]
            if value not in ("0.0", "0"):
                return True
    return False


def test_the_figure(capsys):
    """Printed for the record: how many variants the mutation test covers."""
    with capsys.disabled():
        print(
            f"\nmutation test: {len(VARIANTS)} of {len(all_variants())} variants x {len(SEEDS)} seed(s)"
            f"{'' if FULL else ' (the slice; tox -e mutation runs them all on 5 seeds)'}",
            file=sys.stderr,
        )
    assert len(all_variants()) >= 60
