"""The HTML report in a real browser: headless Chromium opens it from disk
(``file://``, host names resolving nowhere), runs its script without a single
console message, and shows the matrix, a failure's details and working filters.

Needs ``chromium`` (Debian: ``apt-get install chromium``). Where it is missing
the tests skip and say so, except under CI (``CI`` set), where they fail:
``.ci/run`` installs it, so a missing browser there is a broken CI setup.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
BROKEN = "tests.broken_backends:IgnoresAlignCorners"
EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'

pytest.importorskip("jinja2", reason="the HTML report needs Jinja2 (tox installs it)")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        why = "chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{why}: CI must run the browser tests, and .ci/run installs it")
        pytest.skip(f"{why}; the browser tests need it")
    return path


def browse(chromium: str, page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and the page's console messages."""
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # anything fetched from a network fails, loudly
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a real run (numpy passes, a broken backend fails bilinear)
    merged with a hand-written run from a second machine whose backend name
    and messages are hostile markup."""
    tmp = tmp_path_factory.mktemp("browser")
    results = tmp / "r.jsonl"
    run = run_cli(
        *["run", "--backend", "numpy", "--backend", BROKEN, "--op", "interpolate", "--mode", "bilinear"],
        *["--examples", "20", "--seed", "0", "--results", str(results), "--quiet"],
    )
    assert run.returncode == 1, run.stdout + run.stderr
    case = next(json.loads(line) for line in results.read_text().splitlines() if '"minimal": true' in line)["case"]
    evil: list[dict[str, Any]] = [
        {"run_id": "evil", "type": "environment", "cpu": EVIL, "date": "2030-01-01T00:00:00+00:00", "gpu": None},
        {"run_id": "evil", "type": "backend", "name": EVIL, "spec": EVIL, "version": EVIL, "available": True},
        {
            "run_id": "evil",
            "type": "result",
            "backend": EVIL,
            "op": "interpolate",
            "mode": "bilinear",
            "dtype": "float32",
            "status": "fail",
            "message": EVIL,
            "case": case,
            "comparison": None,
            "minimal": True,
            "repro": EVIL,
        },
    ]
    other = tmp / "other.jsonl"
    other.write_text("".join(json.dumps(r) + "\n" for r in evil))
    out = tmp / "out"
    proc = run_cli("report", "--results", str(results), "--results", str(other), "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / "index.html"


def test_report_opens_from_disk_without_console_messages(chromium: str, report_page: Path, tmp_path: Path) -> None:
    dom, console = browse(chromium, report_page, tmp_path / "profile")
    assert console == [], "\n".join(console)
    assert 'data-filters-ready="yes"' in dom  # the inline script ran to its end
    assert re.search(r"showing (\d+) of \1 rows", dom)
    # the matrix, with both machines as columns
    assert 'id="matrix-table"' in dom
    assert dom.count('class="machine"') == 2
    assert re.search(r'data-backend="ignores-align-corners"[^>]*data-statuses="[^"]*fail', dom)
    # a failure's details: its minimal case, the values and the repro
    assert "minimal case: interpolate(" in dom and "expected (torch)" in dom
    assert f"backend = load({BROKEN!r})" in html.unescape(dom)
    # the hostile names and messages are text, not elements
    assert "<img" not in dom and "<script>alert" not in dom
    assert html.escape(EVIL, quote=False) in dom


def test_filters_hide_and_show_rows_in_the_browser(chromium: str, report_page: Path, tmp_path: Path) -> None:
    probe = """<script>
(function () {
  function pick(id, value) {
    var el = document.getElementById(id);
    el.value = value;
    el.dispatchEvent(new Event("change"));
  }
  function visible(kind) {
    var items = document.querySelectorAll('[data-filter="' + kind + '"]');
    return [].filter.call(items, function (el) { return !el.hidden; }).map(function (el) {
      return el.getAttribute("data-backend") + "|" + (el.cells ? el.cells[2].textContent : "");
    });
  }
  var out = {all: visible("matrix").length};
  pick("f-status", "bad");
  out.bad = visible("matrix");
  out.badFailures = visible("failure").length;
  pick("f-status", "");
  pick("f-backend", "numpy");
  out.numpy = visible("matrix");
  out.numpyFailures = visible("failure").length;
  out.count = document.getElementById("f-count").textContent;
  var cell = document.querySelector("td.s-fail");
  out.failColour = cell ? getComputedStyle(cell).backgroundColor : "";
  document.body.setAttribute("data-probe", JSON.stringify(out));
})();
</script>
</body>"""
    page = tmp_path / "probe.html"
    page.write_text(report_page.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom, console = browse(chromium, page, tmp_path / "profile")
    assert console == [], "\n".join(console)
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[-2000:]
    out = json.loads(html.unescape(found.group(1)))
    # the rows of the real run: one per backend, cell and direction (gradient checks have their own)
    records = [json.loads(line) for line in (report_page.parent.parent / "r.jsonl").read_text().splitlines()]
    cells: dict[tuple[str, str, str], set[str]] = {}
    for r in records:
        if r["type"] == "result":
            cells.setdefault((r["backend"], r["mode"], r.get("direction", "forward")), set()).add(r["status"])
    bad = [cell for cell, statuses in cells.items() if statuses & {"fail", "error"}]
    assert out["all"] == len(cells) + 1  # and the hostile backend's row
    assert sorted(r.split("|")[0] for r in out["bad"]) == sorted([c[0] for c in bad] + [EVIL])
    assert out["badFailures"] == len(bad) + 1  # one per failing cell and machine
    assert out["numpy"] and all(r.startswith("numpy|") for r in out["numpy"])
    assert out["numpyFailures"] == 0
    assert out["count"].startswith(f"showing {len(out['numpy'])} of {out['all']} rows")
    assert out["failColour"] not in ("", "rgba(0, 0, 0, 0)")
