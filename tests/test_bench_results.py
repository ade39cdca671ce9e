"""``reports/bench.py``: a pytest-benchmark file with the memory floor, backward
groups and peak memory read into rows, and the terminal table made of them.
No timing is measured here: the medians are made up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.bench import PEAK_TARGET, BenchRow, load_bench, markdown_lines, summary_lines, verdict


def _bench(group: str, impl: str, median: float, **extra: Any) -> dict[str, Any]:
    slug = group.replace(" ", "-")
    return {
        "group": group,
        "name": f"test_x[{slug}-{impl}]",
        "params": {"case": f"UNSERIALIZABLE[Case(name={group!r})]", "implementation": impl},
        "param": f"{slug}-{impl}",
        "extra_info": {"shape": [8, 64, 128, 128], **extra},
        "stats": {"median": median, "rounds": 7},
    }


def _file(tmp_path: Path, benches: list[dict[str, Any]]) -> Path:
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"machine_info": {"cpu": {"brand_raw": "AMD EPYC", "count": 2}}, "benchmarks": benches}))
    return path


TARGETS = {"target": 1.0, "floor_target": 2.0, "result_bytes": 100_000_000}


def test_floor_and_backward_groups_are_read(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        [
            _bench("nearest 2x up", "numpy", 0.030, peak_bytes=150_000_000, **TARGETS),
            _bench("nearest 2x up", "torch", 0.060, **TARGETS),
            _bench("nearest 2x up", "floor", 0.010, **TARGETS),
            _bench("nearest 2x up backward", "numpy", 0.090, target=1.0, floor_target=None, result_bytes=10),
            _bench("nearest 2x up backward", "torch", 0.060, target=1.0, floor_target=None, result_bytes=10),
        ],
    )
    data = load_bench(path)
    assert data.machine == "AMD EPYC (2 CPUs)" and not data.notes
    forward, backward = data.rows
    assert forward.others == ["numpy"]  # torch and the floor are yardsticks, not contenders
    assert forward.ratio("numpy") == 0.5 and forward.floor_ratio("numpy") == 3.0
    assert forward.floor_ratio("torch") == 6.0
    assert forward.target == 1.0 and forward.floor_target == 2.0
    assert forward.peaks == {"numpy": 150_000_000} and forward.peak_ratio("numpy") == 1.5
    assert not forward.backward and backward.backward
    assert backward.ratio("numpy") == 1.5 and backward.floor_ratio("numpy") is None
    assert backward.floor_target is None and backward.peak_ratio("numpy") is None


def test_old_files_without_extra_info_keep_the_target_from_the_case_repr(tmp_path: Path) -> None:
    bench = _bench("area 2x down", "numpy", 0.01)
    bench["params"]["case"] = "UNSERIALIZABLE[Case(name='area 2x down', target=1.5)]"
    row = load_bench(_file(tmp_path, [bench])).rows[0]
    assert row.target == 1.5 and row.floor_target is None and row.floor_ratio("numpy") is None


def test_verdicts() -> None:
    assert verdict(1.0, 1.0) == "met" and verdict(1.01, 1.0) == "MISSED"
    assert verdict(None, 1.0) == "" and verdict(3.0, None) == ""


def test_summary_lines_show_each_ratio_with_its_verdict() -> None:
    row = BenchRow("nearest 2x up", "8x64x128x128", target=1.0, floor_target=2.0, result_bytes=100_000_000)
    row.medians.update(numpy=0.030, torch=0.060, floor=0.010)
    row.peaks["numpy"] = int(PEAK_TARGET * 100_000_000) + 1
    missing = BenchRow("max_pool2d backward", "8x64x128x128", target=1.0)
    missing.medians["numpy"] = 0.1
    header, line, incomplete = summary_lines([row, missing])
    assert "x torch" in header and "x floor" in header and "peak MB" in header
    assert "30.0" in line and "60.0" in line and "10.0" in line
    assert "0.50 met (<=1)" in line and "3.0 MISSED (<=2)" in line and "200 2.0 MISSED (<=2)" in line
    assert "incomplete" in incomplete


def test_summary_lines_without_a_floor_or_a_peak() -> None:
    row = BenchRow("bicubic 2x up backward", "8x64x128x128", target=1.0)
    row.medians.update(numpy=0.5, torch=0.25)
    (_, line) = summary_lines([row])
    assert "2.00 MISSED (<=1)" in line and line.count(" - ") >= 2
    row.target = None
    (_, line) = summary_lines([row])
    assert "2.00 (no target)" in line


def test_markdown_lines_mark_targets_met_and_missed() -> None:
    row = BenchRow("nearest 2x up", "8×64×128×128", target=1.0, floor_target=2.0, result_bytes=100_000_000)
    row.medians.update(numpy=0.030, torch=0.060, floor=0.010)
    row.peaks["numpy"] = 100_000_000
    torch_only = BenchRow("torch only", "1")
    torch_only.medians["torch"] = 1.0
    header, rule, line = markdown_lines([row, torch_only])
    assert header.count("|") == rule.count("|") == line.count("|")
    assert line == "| nearest 2x up | 8×64×128×128 | 30.0 | 60.0 | 10.0 | 0.50 ✓ | 3.0 ✗ | 100 (1.0 ✓) |"
