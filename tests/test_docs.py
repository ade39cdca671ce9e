"""The manual (README.md and docs/) stays true.

* Every Python and shell block in it runs: the blocks of a page run in
  order, in a fresh folder of their own with the harness importable, and
  must exit 0.  A ``{code-block}`` whose ``:caption:`` is a file name
  (``my_backend.py``) is written into that folder first, so the page's
  commands can use it.  A block that cannot run here (a network, a GPU, an
  install, minutes of work) says so in an HTML comment on the line before
  it: ``<!-- docs-test: skip (why) -->``; ``<!-- docs-test: exit 1 -->``
  expects that exit status instead.  TOML blocks must parse.
* The pages generated from the registry (``docs/generated/``) are what
  ``python -m conformance docs`` writes now.
* The built site (``tox -e docs`` sets ``DOCS_HTML``) has no internal link
  to a missing page or anchor.
"""

from __future__ import annotations

import html.parser
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conformance import docs_pages
from tests.cli_runner import run_cli

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the harness depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)]

RUN = {"python": "python", "sh": "sh", "bash": "sh", "shell": "sh", "toml": "toml"}
FENCE = re.compile(r"^( *)(`{3,}|~{3,})\s*(\{[\w-]+\})?\s*([\w+-]*)\s*(.*)$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(skip|exit\s+(\d+))\b.*-->\s*$")


@dataclass
class Block:
    page: Path
    line: int
    language: str
    code: str
    caption: str = ""
    skip: bool = False
    exit_code: int = 0


def blocks(page: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown page (or of ``text``, a part of
    it): MyST ``{code-block}`` ones with their options, each with the
    marker on the line before it."""
    found: list[Block] = []
    lines = (page.read_text(encoding="utf-8") if text is None else text).splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, directive, language = m.group(1), m.group(2), m.group(3), m.group(4)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), len(lines))
        # a block in a list item: its lines lose the item's indentation
        body = [line.removeprefix(indent) for line in lines[i + 1 : end]]
        options: dict[str, str] = {}
        if directive:
            if directive != "{code-block}":
                i = end + 1
                continue
            while body and body[0].startswith(":"):
                key, _, value = body.pop(0)[1:].partition(":")
                options[key.strip()] = value.strip()
        marker = MARKER.match(lines[i - 1].strip()) if i else None
        found.append(
            Block(
                page,
                i + 1,
                language.lower(),
                "\n".join(body) + "\n",
                caption=options.get("caption", ""),
                skip=bool(marker and marker.group(1) == "skip"),
                exit_code=int(marker.group(2)) if marker and marker.group(2) else 0,
            )
        )
        i = end + 1
    return found


def _is_file(block: Block) -> bool:
    return bool(re.fullmatch(r"[\w./-]+\.\w+", block.caption))


def runnable(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language in RUN and not b.skip]


def _env() -> dict[str, str]:
    # a block is a reader's shell, not a part of this pytest run (xdist's worker id, -x, ...)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env["CI"] = "true"  # seed 0: the same run every time
    # ``python`` in a block is this interpreter (tox's environment, a venv)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_block(block: Block, folder: Path) -> subprocess.CompletedProcess[str] | None:
    """Run one block in ``folder``; ``None`` for data (a file written, TOML parsed)."""
    kind = RUN[block.language]
    if kind == "toml":
        tomllib.loads(block.code)
        return None
    if _is_file(block):
        path = folder / block.caption
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.code, encoding="utf-8")
        if path.suffix != ".py":
            return None
        argv, stdin = [sys.executable, str(path)], None
    elif kind == "python":
        argv, stdin = [sys.executable, "-"], block.code
    else:
        argv, stdin = ["bash", "-e", "-o", "pipefail", "-c", block.code], None
    return subprocess.run(
        argv, input=stdin, cwd=folder, env=_env(), capture_output=True, text=True, timeout=600, check=False
    )


#: The code blocks take minutes of runs in all: ``tox -e docs`` (which CI runs
#: after ``tox``) sets this; the default ``tox`` keeps the page checks below.
EXAMPLES = os.environ.get("DOCS_EXAMPLES") == "1"


@pytest.mark.skipif(not EXAMPLES, reason="the manual's code blocks run in tox -e docs (DOCS_EXAMPLES=1)")
@pytest.mark.parametrize("page", [p for p in PAGES if runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pages_code_blocks_run(page: Path, tmp_path: Path) -> None:
    files = [b for b in runnable(page) if _is_file(b)]
    for block in files + [b for b in runnable(page) if b not in files]:
        proc = run_block(block, tmp_path)
        if proc is None:
            continue
        where = f"{block.page.relative_to(ROOT)}:{block.line}"
        assert proc.returncode == block.exit_code, (
            f"{where} exited {proc.returncode}, not {block.exit_code}:\n{block.code}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )


def test_the_block_reader_sees_markers_captions_and_directives(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n<!-- docs-test: skip (needs a GPU) -->\n```sh\nnvidia-smi\n```\n"
        "```{code-block} python\n:caption: mine.py\n\nx = 1\n```\n"
        "<!-- docs-test: exit 1 -->\n```sh\nfalse\n```\n"
        "```{toctree}\nindex\n```\n````text\n```python\nnot a block\n```\n````\n"
        "* an item:\n\n  ```python\n  if True:\n      y = 2\n  ```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.language, b.skip, b.exit_code, b.caption) for b in found] == [
        ("sh", True, 0, ""),
        ("python", False, 0, "mine.py"),
        ("sh", False, 1, ""),
        ("text", False, 0, ""),
        ("python", False, 0, ""),
    ]
    assert found[1].code == "\nx = 1\n" and _is_file(found[1])
    assert [b.code for b in runnable(page)] == ["\nx = 1\n", "false\n", "if True:\n    y = 2\n"]


def test_a_failing_block_fails(tmp_path: Path) -> None:
    block = Block(tmp_path / "p.md", 1, "python", "raise SystemExit(3)\n")
    assert run_block(block, tmp_path).returncode == 3
    with pytest.raises(tomllib.TOMLDecodeError):
        run_block(Block(tmp_path / "p.md", 1, "toml", "[[expected]\n"), tmp_path)


def test_the_pages_with_examples_are_found() -> None:
    """The reader finds the pages whose examples must run (were it to find
    none, the test above would pass on nothing)."""
    checked = {str(p.relative_to(ROOT)) for p in PAGES if runnable(p)}
    assert {"README.md", "docs/writing-a-backend.md", "docs/cli.md", "docs/results-store.md"} <= checked


def test_the_readme_is_short_and_its_quick_start_is_the_two_tox_commands() -> None:
    """README's quick start: the main job (``tox -e report``) and the tests
    (``tox``), each an environment tox.ini defines; the rest is the manual's."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    quick = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    commands = [
        line.split("#")[0].split("&&")[-1].strip() for line in blocks(ROOT / "README.md", quick)[0].code.splitlines()
    ]
    assert commands == ["tox -e report", "tox"]
    tox = (ROOT / "tox.ini").read_text(encoding="utf-8")
    assert "[testenv:report]" in tox and "envlist = py, lint" in tox
    assert "tox" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


# --- generated pages -----------------------------------------------------------


def test_the_generated_pages_are_the_registrys() -> None:
    assert docs_pages.stale(DOCS / "generated") == [], "regenerate them: python -m conformance docs"


def test_a_stale_page_is_named_and_fails_the_check(tmp_path: Path) -> None:
    out = tmp_path / "generated"
    assert run_cli("docs", "--out", str(out)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(docs_pages.PAGES)
    assert run_cli("docs", "--out", str(out), "--check").returncode == 0
    page = out / "variants.md"
    page.write_text(page.read_text(encoding="utf-8").replace("align_corners", "align corners"), encoding="utf-8")
    (out / "dtypes.md").unlink()
    proc = run_cli("docs", "--out", str(out), "--check")
    assert (
        proc.returncode == 1
        and "variants.md is out of date" in proc.stdout
        and "dtypes.md is out of date" in proc.stdout
    )
    assert "deviations.md" not in proc.stdout


# --- the built site's internal links -------------------------------------------


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value and not (tag == "link" and name == "href" and "." not in value):
                self.hrefs.append(value)


def broken_links(site: Path) -> list[str]:
    """Each internal ``href``/``src`` of the built site whose file is missing,
    or whose ``#anchor`` is no ``id`` of that file, as ``page -> link``."""
    pages: dict[Path, _Page] = {}
    for path in site.rglob("*.html"):
        parser = _Page()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.resolve()] = parser
    broken = []
    for path, parser in sorted(pages.items()):
        for href in parser.hrefs:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("//"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site.resolve())} -> {href}")
            elif parts.fragment and target in pages and unquote(parts.fragment) not in pages[target].ids:
                broken.append(f"{path.relative_to(site.resolve())} -> {href}")
    return broken


def test_the_link_checker_finds_a_missing_page_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<a href="b.html#here">ok</a><a href="b.html#gone">x</a><a href="c.html">x</a>'
        '<a href="#top">ok</a><a id="top"></a><a href="https://example.org/x">ok</a><img src="_static/p.png">',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text('<h2 id="here">B</h2>', encoding="utf-8")
    assert broken_links(tmp_path) == ["a.html -> b.html#gone", "a.html -> c.html", "a.html -> _static/p.png"]


@pytest.mark.skipif(not os.environ.get("DOCS_HTML"), reason="no built site: tox -e docs builds it and sets DOCS_HTML")
def test_the_built_site_has_no_broken_internal_link() -> None:
    site = Path(os.environ["DOCS_HTML"])
    assert (site / "index.html").is_file() and (site / "api.html").is_file()
    assert broken_links(site) == []


def test_report_rewrites_the_library_table_of_a_page(tmp_path: Path) -> None:
    """``report --library-page PAGE`` (and its older name ``--readme``)
    regenerates the table between PAGE's markers from the results, as
    ``docs/libraries.md`` says, and leaves the rest of the page alone."""
    from reports.libraries import README_BEGIN, README_END
    from tests.test_report import environment, result, write_jsonl

    call = "cv2.resize(x, (W_out, H_out), interpolation=cv2.INTER_LINEAR)"
    records = [environment(), *[result("pass", "bilinear", backend="opencv", call=call) for _ in range(2)]]
    results = write_jsonl(tmp_path / "libraries.jsonl", records)
    for option in ("--library-page", "--readme"):
        page = tmp_path / "libraries.md"
        page.write_text(f"# Libraries\n\n{README_BEGIN}\nold\n{README_END}\n\nafter\n", encoding="utf-8")
        proc = run_cli("report", "--results", str(results), "--out", str(tmp_path / "out"), option, str(page))
        assert proc.returncode == 0, proc.stderr
        text = page.read_text(encoding="utf-8")
        table = text.split(README_BEGIN, 1)[1].split(README_END, 1)[0]
        assert "old" not in table and "| torch | library | call | result |" in table
        assert "| opencv | `cv2.resize(" in table and text.startswith("# Libraries\n") and text.endswith("after\n")
