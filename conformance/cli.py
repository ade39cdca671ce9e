"""``python -m conformance``: run conformance checks, list backends and ops.

Exit status of ``run``: 0 when every checked case conforms or fails as an
expected deviation (--expected), 1 when any other case fails or errors (or,
with --strict, an expected deviation is stale), 2 on bad usage (unknown
backend or op, a backend that cannot run here, a bad expected file).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import backends
from conformance import ops
from conformance.dependencies import message as missing_dependency
from conformance.expected import judge, run_expectations
from conformance.isolation import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT_SCALE, HANG_ALLOWANCE
from conformance.search import DEFAULT_FAILURE_BUDGET, DEFAULT_SHRINK_SECONDS
from conformance.session import DEFAULT_BACKENDS, DEFAULT_RESULTS, ConfigError, RunConfig, Session, resume
from reports.terminal import Progress, summary


class UsageError(Exception):
    """Bad command-line usage: exit status 2."""


class _Parser(argparse.ArgumentParser):
    """A parser whose help is plain text: the reStructuredText literals of the
    docstrings it shows lose their double backticks.  Its subcommands' parsers
    are of its class too (argparse's default ``parser_class``)."""

    def format_help(self) -> str:
        return super().format_help().replace("``", "")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m conformance", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="check backends against torch and the reference")
    _add_selection_arguments(run)
    _add_search_arguments(run)
    listing = sub.add_parser("list", help="backends (available here or why not) and ops")
    listing.add_argument(
        "--variants", action="store_true", help="list the semantic variants instead (each runs as --backend variant:NAME)"
    )
    _add_report_parser(sub)
    discriminate = sub.add_parser(
        "discriminate",
        help="search each cell for cases that tell every semantic variant from torch's semantics (rebuilds the cache)",
    )
    discriminate.add_argument("--op", action="append", metavar="NAME", help="ops to search (repeatable; default: all)")
    discriminate.add_argument(
        "--examples", type=int, default=400, metavar="N", help="drawn cases per variant and cell (default 400)"
    )
    discriminate.add_argument(
        "--twins",
        action="store_true",
        help="only give the cached cases their twins in other input forms and dtypes, and search each dtype "
        "for reserves of the variants no twin keeps there (docs/discriminating-cases.md): minutes, not an hour",
    )
    _add_pictures_parser(sub)
    deviations = sub.add_parser(
        "deviations", help="torch's known deviations, each with the CPU paths it shows on and this machine's path"
    )
    deviations.add_argument(
        "--probe",
        action="store_true",
        help="run each one's case on every CPU path this machine has (ATen capabilities x oneDNN on/off x 1, 2 "
        "threads) and tell where it shows; exit 1 where that contradicts its condition",
    )
    docs = sub.add_parser("docs", help="write the manual's pages generated from the registry (docs/generated/)")
    docs.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder (default docs/generated)")
    docs.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each page out of date")
    return parser


def _add_selection_arguments(run: argparse.ArgumentParser) -> None:
    """What a run checks: backends, ops, cells, dtypes, where results go."""
    run.add_argument(
        "--backend",
        action="append",
        metavar="SPEC",
        help="registered name or module:attribute (repeatable; default: " + ", ".join(DEFAULT_BACKENDS) + ")",
    )
    run.add_argument("--op", action="append", metavar="NAME", help="op to check (repeatable; default: all)")
    run.add_argument(
        "--mode",
        action="append",
        metavar="CELL",
        help="restrict to these modes or cells, e.g. bilinear, 2d (repeatable); this leaves out each op's "
        "invalid-calls cell unless --mode invalid-calls is given too",
    )
    run.add_argument(
        "--dtype",
        action="append",
        metavar="DTYPE",
        choices=list(ops.KNOWN_DTYPES),
        help="restrict to these input dtypes (repeatable; default: every dtype both sides take)",
    )
    run.add_argument(
        "--examples",
        type=int,
        default=100,
        metavar="N",
        help="Hypothesis examples per backend, op and mode (default 100)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="Hypothesis seed (default: 0 when CI is set, else random; always recorded)",
    )
    run.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        metavar="PATH",
        help=f"JSON-lines results file to append to (default {DEFAULT_RESULTS})",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    run.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="check cells side by side in N job processes (default: this machine's cores, "
        f"{os.cpu_count() or 1}; 1: one after another); the results do not depend on N",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="check only shard K of N of the run's cells (cell i belongs to shard i mod N + 1): "
        "N machines of a CI matrix cover each cell once; merge their files with `report`",
    )


def _add_search_arguments(run: argparse.ArgumentParser) -> None:
    """How a run searches: examples, seed, isolation, oracle, gradients, resume."""
    _add_limit_arguments(run)
    run.add_argument(
        "--no-isolation",
        action="store_true",
        help="run backends in this process (faster to debug; a crash ends the run)",
    )
    run.add_argument(
        "--oracle",
        default="torch",
        metavar="SPEC",
        help="the torch the backends are compared with: torch (default, on the CPU), torch-cuda on a GPU machine, "
        "or torch on a chosen oneDNN and thread setting (torch@no-onednn, torch@threads=1; for another CPU "
        "capability set ATEN_CPU_CAPABILITY for the whole run)",
    )
    run.add_argument(
        "--op-module",
        action="append",
        metavar="MODULE",
        help="a module that registers ops of its own (conformance.ops.register), imported on the oracle side "
        "before the run (repeatable; a backend's own module is imported in its worker alone)",
    )
    run.add_argument(
        "--forbid-torch",
        action="store_true",
        help="the backends may not call torch: a torch function or aten kernel called from a backend's op "
        "fails that case, naming the call (for a port that must not fall back to torch; a backend can also "
        "say it with uses_torch = False)",
    )
    run.add_argument(
        "--no-grad",
        action="store_true",
        help="check forward results only (by default gradients are checked beside them)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue the last run in --results with its own settings, skipping finished cells",
    )
    run.add_argument(
        "--expected",
        metavar="FILE",
        help="TOML file of [[expected]] deviations (backend, op, cell, dtype, direction, reason, link): "
        "failures they cover are reported as expected and do not fail the run",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="fail the run when an --expected entry is stale (its cells were checked and did not fail)",
    )
    run.add_argument(
        "--strict-messages",
        action="store_true",
        help="fail a third-party backend's case whose error message names none of torch's key phrases "
        "(by default it is reported: the exception class decides; our own backends always fail it)",
    )


def _add_limit_arguments(run: argparse.ArgumentParser) -> None:
    """What a run's cases and failing cells may take: time and memory."""
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"per-case limit in the worker process (default {DEFAULT_TIMEOUT:g})",
    )
    run.add_argument(
        "--timeout-scale",
        type=float,
        default=DEFAULT_TIMEOUT_SCALE,
        metavar="FACTOR",
        help=f"the backend's step of a case may take FACTOR times what torch took on it, plus "
        f"{HANG_ALLOWANCE:g} s, within --timeout: a hang is called in seconds on a small case "
        f"(default {DEFAULT_TIMEOUT_SCALE:g}; 0: every case gets the whole --timeout)",
    )
    run.add_argument(
        "--memory-limit-gib",
        type=float,
        default=DEFAULT_MEMORY_LIMIT / 2**30,
        metavar="GIB",
        help=f"address-space cap of a worker (default {DEFAULT_MEMORY_LIMIT / 2**30:g}; 0: none)",
    )
    run.add_argument(
        "--shrink-seconds",
        type=float,
        default=DEFAULT_SHRINK_SECONDS,
        metavar="SECONDS",
        help=f"time to shrink a cell's failure before reporting the smallest so far "
        f"(default {DEFAULT_SHRINK_SECONDS:g})",
    )
    run.add_argument(
        "--failure-budget",
        type=float,
        default=DEFAULT_FAILURE_BUDGET,
        metavar="SECONDS",
        help="time a failing cell's failure path may take: its shrink, its diagnosis and the special cases "
        "it checks after its first failure; what the budget cuts short is recorded and reported "
        f"(default {DEFAULT_FAILURE_BUDGET:g})",
    )


# --- report: the HTML conformance report (reports/html.py) -------------------
DEFAULT_REPORT_DIR = Path("reports") / "out"
DEFAULT_BENCH = Path("results") / "bench.json"
DEFAULT_PICTURES = Path("results") / "pictures.json"
#: The resize-library backends the pictures show by default (those not installed are left out).
PICTURE_LIBRARIES = ("opencv", "pillow", "scipy", "skimage", "jax", "tensorflow", "onnxruntime", "onnx-reference")


def _add_report_parser(sub: Any) -> None:
    report = sub.add_parser("report", help="render the HTML report (DIR/index.html) from results files")
    report.add_argument(
        "--results",
        action="append",
        type=Path,
        metavar="PATH",
        help=f"results file (repeatable: several machines merge into one report; default {DEFAULT_RESULTS})",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help=f"output folder (default {DEFAULT_REPORT_DIR})",
    )
    report.add_argument(
        "--bench",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"pytest-benchmark JSON to include (default {DEFAULT_BENCH} when it exists)",
    )
    report.add_argument(
        "--pictures",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"pictures JSON to include (`pictures` writes it; default {DEFAULT_PICTURES} when it exists)",
    )
    report.add_argument(
        "--library-page",
        "--readme",
        dest="library_page",
        type=Path,
        default=None,
        metavar="PATH",
        help="also rewrite the library table in this page (between its library-table markers, as in "
        "docs/libraries.md) from the results",
    )
    report.add_argument(
        "--frameworks-doc",
        type=Path,
        default=None,
        metavar="PATH",
        help="also rewrite the frameworks table in this Markdown page (docs/frameworks.md, between its "
        "framework-table markers) from the results",
    )
    report.add_argument(
        "--no-rebuild",
        action="store_true",
        help="ignored, kept for older scripts: the report runs nothing, a failure's values are recorded when it runs",
    )


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    """Write ``--out/index.html``; a missing results file or one without a run is a usage error."""
    try:
        from reports.data import ReportError
        from reports.html import write_report
    except ImportError as exc:
        raise UsageError(f"the report needs Jinja2: {missing_dependency(exc) or exc}") from exc
    bench = args.bench if args.bench is not None else (DEFAULT_BENCH if DEFAULT_BENCH.is_file() else None)
    if bench is not None and not bench.is_file():
        raise UsageError(f"benchmark file {str(bench)!r} does not exist")
    pictures = args.pictures if args.pictures is not None else (DEFAULT_PICTURES if DEFAULT_PICTURES.is_file() else None)
    if pictures is not None and not pictures.is_file():
        raise UsageError(f"pictures file {str(pictures)!r} does not exist")
    results = args.results or [DEFAULT_RESULTS]
    try:
        path = write_report(results, args.out, bench, rebuild=not args.no_rebuild, pictures=pictures)
        if args.library_page is not None:
            _rewrite_library_page(results, args.library_page)
        if args.frameworks_doc is not None:
            _rewrite_frameworks_doc(results, args.frameworks_doc)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    out.write(f"report written to {path}\n")
    return 0


def _rewrite_library_page(results: list[Path], page: Path) -> None:
    from reports.libraries import library_matrix, readme_lines, replace_readme_table

    _rewrite_table(results, page, "library", lambda data: readme_lines(library_matrix(data)), replace_readme_table)


def _rewrite_frameworks_doc(results: list[Path], doc: Path) -> None:
    from reports.frameworks import framework_matrix, markdown_lines, replace_doc_table

    _rewrite_table(results, doc, "frameworks", lambda data: markdown_lines(framework_matrix(data)), replace_doc_table)


def _rewrite_table(results: list[Path], page: Path, what: str, lines: Any, replace: Any) -> None:
    """Rewrite the generated table of a Markdown ``page`` (between its markers) from the results."""
    from reports.data import load

    try:
        text = page.read_text(encoding="utf-8")
        page.write_text(replace(text, lines(load(results))), encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot rewrite the {what} table in {str(page)!r}: {exc}") from exc


def _add_pictures_parser(sub: Any) -> None:
    pictures = sub.add_parser(
        "pictures", help="resize a zone plate and a checkerboard with torch and each library, for the report"
    )
    pictures.add_argument(
        "--backend",
        action="append",
        metavar="NAME",
        help=f"library backends to show (repeatable; default those of {', '.join(PICTURE_LIBRARIES)} installed)",
    )
    pictures.add_argument(
        "--out", type=Path, default=DEFAULT_PICTURES, metavar="PATH", help=f"JSON to write (default {DEFAULT_PICTURES})"
    )


def cmd_pictures(args: argparse.Namespace, out: TextIO) -> int:
    try:
        import PIL  # noqa: F401 -- the pictures are PNG, encoded by Pillow

        from conformance.pictures import write_pictures
    except ImportError as exc:
        raise UsageError(f"the pictures need Pillow: python -m pip install -e '.[pillow]' ({exc})") from exc
    path = write_pictures(args.out, args.backend or PICTURE_LIBRARIES)
    out.write(f"pictures written to {path}\n")
    return 0


# --- end of report ------------------------------------------------------------


def cmd_list_variants(out: TextIO) -> int:
    """The semantic variants (``reference/variants/``): name, op, kind, what it does differently."""
    from reference.variants import all_variants

    width = max(len(v.name) for v in all_variants())
    for v in all_variants():
        only = f" ({', '.join(v.dtypes)} only)" if v.dtypes else ""
        out.write(f"  variant:{v.name:<{width}} {v.op:<16} {v.kind:<14} {v.summary}{only}\n")
    return 0


def cmd_deviations(probe: bool, out: TextIO) -> int:
    """Each known deviation with its condition and whether it holds on this
    machine's path; ``probe``: the table of every path (``conformance.probe``)."""
    from backends.torch_backend import cpu_path, describe_path
    from conformance.deviations import KNOWN_DEVIATIONS

    here = cpu_path()
    out.write(f"this process's torch CPU path: {describe_path(here)}\n")
    for d in KNOWN_DEVIATIONS:
        state = "shows here" if d.where.holds(here) else "not here"
        out.write(f"  {d.name:<48} {d.op:<15} {state:<10} where: {d.where.describe()}\n")
    if not probe:
        return 0
    from conformance.probe import probe_machine, wrong

    rows = probe_machine()
    out.write("\nprobed:\n")
    for r in rows:
        mark = "ok" if r["holds"] == r["shows"] else "WRONG CONDITION"
        shows = "shows" if r["shows"] else "agrees"
        out.write(f"  {r['deviation']:<48} {describe_path(r['path']):<52} {shows:<7} {mark}  ({r['detail'][:80]})\n")
    bad = wrong(rows)
    out.write(f"{len(rows)} probes, {len(bad)} contradicting their deviation's condition\n")
    return 1 if bad else 0


def cmd_docs(out_dir: Path | None, check: bool, out: TextIO) -> int:
    """Write the generated pages, or (``check``) name those out of date: exit 1."""
    from conformance import docs_pages

    folder = out_dir if out_dir is not None else docs_pages.DEFAULT_OUT
    if check:
        stale = docs_pages.stale(folder)
        for name in stale:
            out.write(f"{folder / name} is out of date: python -m conformance docs\n")
        return 1 if stale else 0
    for path in docs_pages.write(folder):
        out.write(f"wrote {path}\n")
    return 0


def cmd_list(out: TextIO) -> int:
    """Each backend with whether it can run here (each asked in a process of
    its own, ``conformance.availability``), then each op with its cells and dtypes."""
    from conformance.availability import ask_all

    out.write("backends:\n")
    for found in ask_all(backends.names()):
        out.write(f"  {found.spec:<21} {found.describe()}\n")
    out.write("ops:\n")
    for name in ops.names():
        info = ops.get(name)
        out.write(f"  {name:<21} {info.cell_label}: {', '.join(info.cells)}\n")
        for direction in info.directions():
            out.write(f"  {'':<21} {direction} dtypes: {info.describe_dtypes(direction)}\n")
    return 0


def _config(args: argparse.Namespace) -> RunConfig:
    return RunConfig(
        backend=args.backend or list(DEFAULT_BACKENDS),
        op=args.op,
        mode=args.mode,
        dtype=args.dtype,
        examples=args.examples,
        seed=args.seed,
        oracle=args.oracle,
        no_grad=args.no_grad,
        jobs=args.jobs if args.jobs is not None else os.cpu_count() or 1,
        shard=args.shard,
        op_module=args.op_module,
        forbid_torch=args.forbid_torch,
        timeout=args.timeout,
        timeout_scale=args.timeout_scale,
        memory_limit_gib=args.memory_limit_gib,
        shrink_seconds=args.shrink_seconds,
        failure_budget=args.failure_budget,
        no_isolation=args.no_isolation,
        expected=args.expected,
        strict=args.strict,
        strict_messages=args.strict_messages,
    )


def _left_out_by_mode(config: RunConfig) -> str:
    """The line saying which ops' invalid-calls cell ``--mode`` left out, and how to check it ("": none)."""
    cell = ops.INVALID_CALLS_CELL
    if not config.mode or cell in config.mode:
        return ""
    known = set(ops.names())
    left = [op for op in (config.op or ops.names()) if op in known and ops.get(op).invalid_calls]
    if not left:
        return ""
    return f"--mode left out the {cell} cell of {', '.join(left)}: add --mode {cell} to check it too\n"


def cmd_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    progress = Progress(err, args.quiet)
    try:
        if args.resume:
            session = resume(args.results, progress)
            if args.jobs is not None:  # the results do not depend on it: this resume's own choice
                session.config.jobs = args.jobs
            err.write(f"resuming run {session.run_id} ({len(session.done)} cell(s) already done) with its own settings\n")
        else:
            session = Session(_config(args), args.results, progress)
            if not args.quiet:
                err.write(_left_out_by_mode(session.config))
        records = session.run()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    out.write(summary(records, session.config.seed, args.results))
    out.write(_left_out_by_mode(session.config))  # at the end too, where the verdict is read (--quiet or not)
    return judge(records, run_expectations(records)).exit_code(session.config.strict)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list_variants(sys.stdout) if args.variants else cmd_list(sys.stdout)
        if args.command == "report":
            return cmd_report(args, sys.stdout)
        if args.command == "pictures":
            return cmd_pictures(args, sys.stdout)
        if args.command == "deviations":
            return cmd_deviations(args.probe, sys.stdout)
        if args.command == "docs":
            return cmd_docs(args.out, args.check, sys.stdout)
        if args.command == "discriminate":
            from conformance.discriminating import build, twins_only

            twins_only(args.op) if args.twins else build(args.op, examples=args.examples)
            return 0
        return cmd_run(args, sys.stdout, sys.stderr)
    except UsageError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 2  # unreachable: parser.exit raises SystemExit
