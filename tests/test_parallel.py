"""``run --jobs N`` and ``run --shard K/N``: the same records whatever N, every
cell in exactly one shard, and the job pool (``conformance.parallel``)
surviving a job that dies and an interrupted parent."""

import json
import os
import re
import time
from pathlib import Path

import pytest

from conformance import parallel
from conformance.parallel import Pool
from conformance.session import RunConfig, resume_state
from tests.cli_runner import run_cli

ROOT = Path(__file__).resolve().parent.parent
#: A small run: two backends, pixel_shuffle and max_unpool forward, backward and invalid calls (20 cells).
SMALL = ["--op", "pixel_shuffle", "--op", "max_unpool", "--examples", "10", "--seed", "3", "--quiet"]


def records(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def per_cell(path):
    """Per cell, the sorted (case, status, message, minimal) of its results: what must not depend on --jobs."""
    cells = {}
    for r in records(path):
        if r["type"] == "result":
            key = (r["backend"], r["op"], r["mode"], r.get("direction", "forward"))
            row = json.dumps([r["case"], r["status"], r["message"], r.get("minimal")], sort_keys=True)
            cells.setdefault(key, []).append(row)
    return {k: sorted(v) for k, v in cells.items()}


def table(stdout):
    """The summary's lines, split into columns, without the last (timing) column: its values are measured, and
    its width, which pads the header and the rule, is that of the widest value."""
    lines = [re.split(r"\s{2,}", line.strip()) for line in stdout.splitlines() if line.strip()]
    return [fields[:-1] if len(fields) > 1 else fields for fields in lines]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    path = tmp_path_factory.mktemp("serial") / "r.jsonl"
    proc = run_cli("run", *SMALL, "--jobs", "1", "--results", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path, proc


def test_jobs_2_records_the_same_results_as_jobs_1(serial, tmp_path):
    path, proc = serial
    two = tmp_path / "r.jsonl"
    parallel = run_cli("run", *SMALL, "--jobs", "2", "--results", str(two))
    assert parallel.returncode == 0, parallel.stdout + parallel.stderr
    expected = per_cell(path)
    assert len(expected) == 20
    assert per_cell(two) == expected
    # the summary lists the cells in the same (registry) order, whichever job finished first
    assert table(parallel.stdout.replace(str(two), "R")) == table(proc.stdout.replace(str(path), "R"))
    env = [r for r in records(two) if r["type"] == "environment"]
    assert len(env) == 1 and env[0]["config"]["jobs"] == 2 and env[0]["config"]["shard"] is None
    done = [r for r in records(two) if r["type"] == "cell_done"]
    assert len(done) == 20 and len({r["attempt"] for r in done}) == 20


def test_shards_cover_each_cell_of_the_run_once(serial, tmp_path):
    path, _ = serial
    shards = [tmp_path / "shard1.jsonl", tmp_path / "shard2.jsonl"]
    for k, shard in enumerate(shards, 1):
        proc = run_cli("run", *SMALL, "--shard", f"{k}/2", "--jobs", "1", "--results", str(shard))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert records(shard)[0]["config"]["shard"] == f"{k}/2"
    first, second = per_cell(shards[0]), per_cell(shards[1])
    assert first and second and not set(first) & set(second)
    assert {**first, **second} == per_cell(path)  # and the same results as the unsharded run
    # run order: cell i of the run (backend after backend) belongs to shard i mod 2 + 1
    config = RunConfig(backend=["numpy", "reference"], op=["pixel_shuffle", "max_unpool"])
    order = [(b, c.op, c.cell, c.direction) for b in config.backend for c in config.cells()]
    assert set(first) == set(order[0::2]) and set(second) == set(order[1::2])

    from reports.data import load

    data = load(shards)  # the report merges the shards: one machine, each cell once, from its shard's run
    assert len(data.machines) == 1
    cells = data.machines[0].cells
    assert set(cells) == set(per_cell(path)) and len(data.rows()) == len(cells)
    shard_of = {
        key: r["run_id"]
        for shard in shards
        for r in records(shard)
        if r["type"] == "cell_done"
        for key in [(r["backend"], r["op"], r["mode"], r.get("direction", "forward"))]
    }
    assert all(cell.run.run_id == shard_of[key] for key, cell in cells.items())


@pytest.mark.parametrize(
    "args,message",
    [
        (["--shard", "0/2"], "K must be 1 to N"),
        (["--shard", "3/2"], "K must be 1 to N"),
        (["--shard", "x"], "use K/N"),
        (["--shard", "1/0"], "N must be at least 1"),
        (["--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_bad_shard_or_jobs_is_a_usage_error(args, message, tmp_path):
    proc = run_cli("run", "--op", "pixel_shuffle", *args, "--results", str(tmp_path / "r.jsonl"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and message in proc.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_resume_with_jobs_checks_only_the_unfinished_cells(tmp_path):
    path = tmp_path / "r.jsonl"
    args = ["--op", "pixel_shuffle", "--examples", "5", "--seed", "1", "--quiet", "--results", str(path)]
    assert run_cli("run", *args, "--jobs", "2").returncode == 0
    lines = path.read_text().splitlines()
    cut = [line for line in lines if json.loads(line)["type"] == "cell_done"][:2]
    path.write_text("".join(line + "\n" for line in lines if line not in cut))  # two cells cut short
    before = per_cell(path)
    proc = run_cli("run", "--resume", "--jobs", "2", "--results", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(4 cell(s) already done)" in proc.stderr
    done = [r for r in records(path) if r["type"] == "cell_done"]
    assert len(done) == 6 and len({(r["backend"], r["mode"], r["direction"]) for r in done}) == 6
    assert "pixel_shuffle" in proc.stdout and "0 not conforming" in proc.stdout
    rerun = {(json.loads(line)["backend"], json.loads(line)["mode"], json.loads(line)["direction"]) for line in cut}
    after = per_cell(path)  # every attempt's records stay in the file; the rerun cells hold two attempts
    assert all(after[(b, "pixel_shuffle", m, d)] == sorted(before[(b, "pixel_shuffle", m, d)] * 2) for b, m, d in rerun)


def test_a_job_that_dies_costs_only_its_cell(tmp_path):
    path = tmp_path / "r.jsonl"
    proc = run_cli(
        "run", "--backend", "tests.broken_backends:Segfaults", "--op", "interpolate", "--mode", "nearest",
        "--mode", "bilinear", "--no-grad", "--no-isolation", "--jobs", "2", "--examples", "5", "--seed", "0",
        "--results", str(path),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = [r for r in records(path) if r["type"] == "result"]
    lost = [r for r in results if r["mode"] == "bilinear"]
    assert len(lost) == 1 and lost[0]["status"] == "error" and "SIGSEGV" in lost[0]["message"]
    assert any(r["mode"] == "nearest" for r in results) and "JOB DIED" in proc.stderr
    _, _, done = resume_state(path)
    assert done == {("segfaults", "interpolate", "nearest", "forward")}  # --resume checks bilinear again


# --- the pool itself, with toy runners (spawned jobs import this module) ------


class Toy:
    """Task i sends ``("record", i)`` and returns ``i * 10``; task ``die`` kills
    its job, task ``slow`` takes ``seconds``."""

    def __init__(self, die=None, slow=None, seconds=60):
        self.die, self.slow, self.seconds = die, slow, seconds

    def __call__(self, index, send):
        send("record", index)
        if index == self.die:
            os._exit(3)
        if index == self.slow:
            time.sleep(self.seconds)
        return index * 10

    def close(self):
        pass


def test_pool_runs_every_task_and_survives_a_dead_job():
    messages, lost = [], []
    pool = Pool(2, Toy, (2,), lambda *m: messages.append(m), lambda i, why: lost.append((i, why)))
    pool.run([0, 0, 0, 1, 1, 1])
    assert lost == [(2, "the job process died (exit code 3)")]
    assert sorted(i for kind, i, _ in messages if kind == "record") == list(range(6))
    assert sorted((i, v) for kind, i, v in messages if kind == "done") == [(i, i * 10) for i in (0, 1, 3, 4, 5)]


@pytest.mark.parametrize("switch_seconds,order", [(5.0, [2, 0, 1]), (0.0, [2, 1, 0])])
def test_a_free_job_takes_the_last_task_of_a_busy_group_only_when_tasks_are_long(switch_seconds, order, monkeypatch):
    starts, messages = [], []
    start = Pool._start
    monkeypatch.setattr(Pool, "_start", lambda self, group=None: (starts.append(group), start(self, group)))
    monkeypatch.setattr(parallel, "SWITCH_SECONDS", switch_seconds)
    pool = Pool(2, Toy, (None, 0, 6), lambda *m: messages.append(m), lambda i, why: None)
    # the job on "a" is busy with task 0 (6 s); the one on "b" is done with task 2: short
    # tasks (the mean so far) leave task 1 to the job on "a", long ones make it switch
    pool.run(["a", "a", "b"])
    assert starts == ["a", "b"]  # and no job started again while the one on "a" was busy
    assert [i for kind, i, _ in messages if kind == "done"] == order


def test_an_interrupted_pool_stops_its_jobs_and_keeps_what_they_sent():
    messages = []

    def on_message(kind, index, payload):
        messages.append((kind, index))
        if (kind, index) == ("done", 0):
            time.sleep(0.5)  # the other job's record of task 1 is on its way
            raise KeyboardInterrupt

    pool = Pool(2, Toy, (None, 1), on_message, lambda i, why: None)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        pool.run([0, 1, 0])
    assert time.monotonic() - start < 30
    assert ("record", 1) in messages and ("done", 1) not in messages
    assert not pool._running


class ThreadsSeen:
    """Each task returns the job's thread variable and torch's thread count."""

    def __call__(self, index, send):
        import torch

        return os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads()

    def close(self):
        pass


def test_each_job_runs_on_its_share_of_the_cores(monkeypatch):
    """Two jobs on N cores take N // 2 threads each (a variable set by the
    user is kept): else each would run a thread per core and oversubscribe.
    The jobs' forkserver is started first, with no thread variable, as
    ``python -m conformance run`` starts it: a forked job's environment is
    the server's."""
    from multiprocessing import forkserver

    for name in parallel.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    server = forkserver._forkserver
    if hasattr(server, "_stop"):  # CPython's own (private) way to start afresh
        server._stop()
    if parallel.worker_context().get_start_method() == "forkserver":
        server.ensure_running()
    done = []
    pool = Pool(2, ThreadsSeen, (), lambda kind, i, v: done.append(v) if kind == "done" else None, lambda i, w: None)
    pool.run([0, 1])
    want = parallel.thread_share(2)
    assert done == [(want, int(want))] * 2
