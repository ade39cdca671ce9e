"""The install path: ``pip install .`` ships every package of the harness and
the data files it reads at run time, the extras name what the tests, the
benchmarks and the cupy backend need, and a dependency missing from the
environment is one line naming it and the install command, not a traceback."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import backends
import conformance
from conformance import dependencies, power

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
#: The harness's top-level packages (tests/ and benchmarks/ are not installed).
ROOTS = ("reference", "backends", "conformance", "reports")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def _walk(top: Path) -> list[Path]:
    """``top`` and the folders below it, caches and hidden ones left out."""
    return [top, *(p for p in sorted(top.rglob("*")) if p.is_dir() and not _ignored(p.relative_to(top)))]


def _ignored(relative: Path) -> bool:
    return any(part == "__pycache__" or part.startswith(".") for part in relative.parts)


def tree_packages() -> set[str]:
    """Every folder of the harness that holds Python modules, as a dotted name."""
    return {".".join(d.relative_to(ROOT).parts) for root in ROOTS for d in _walk(ROOT / root) if any(d.glob("*.py"))}


def _matches(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def built_packages() -> set[str]:
    """The packages pyproject.toml makes setuptools build: its ``packages``
    list, or what ``packages.find`` finds (as setuptools does: folders with an
    ``__init__.py`` below ``where``, matched against ``include``/``exclude``)."""
    packages: Any = SETUPTOOLS.get("packages")
    if isinstance(packages, list):
        return set(packages)
    assert isinstance(packages, dict) and "find" in packages, "pyproject.toml lists no packages"
    find = packages["find"]
    assert find.get("namespaces") is False, "namespace packages would pick up folders that are not the harness's"
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])
    found = set()
    for where in find.get("where", ["."]):
        base = ROOT / where
        stack = [base]
        while stack:
            for sub in sorted(stack.pop().iterdir()):
                if sub.is_dir() and "." not in sub.name and (sub / "__init__.py").is_file():
                    name = ".".join(sub.relative_to(base).parts)
                    if _matches(name, include) and not _matches(name, exclude):
                        found.add(name)
                    stack.append(sub)
    return found


def data_files() -> set[str]:
    """Every file of the harness's packages that is no Python source, as a path from the root."""
    return {
        str(f.relative_to(ROOT))
        for root in ROOTS
        for d in _walk(ROOT / root)
        for f in sorted(d.iterdir())
        if f.is_file() and f.suffix not in (".py", ".pyc") and not f.name.startswith(".")
    }


def shipped_data(path: str) -> bool:
    """``path`` is package data by pyproject.toml's ``package-data``."""
    relative = Path(path)
    package_data = SETUPTOOLS.get("package-data", {})
    for cut in range(len(relative.parts) - 1, 0, -1):
        package, inside = ".".join(relative.parts[:cut]), "/".join(relative.parts[cut:])
        if _matches(inside, package_data.get(package, [])) or _matches(inside, package_data.get("*", [])):
            return True
    return False


def test_every_folder_of_modules_is_a_regular_package():
    missing = [
        str(d.relative_to(ROOT))
        for root in ROOTS
        for d in _walk(ROOT / root)
        if any(d.glob("*.py")) and not (d / "__init__.py").is_file()
    ]
    assert not missing, f"folders of modules without __init__.py (not installed): {missing}"


def test_every_package_is_built_and_nothing_else():
    tree, built = tree_packages(), built_packages()
    assert {"reference.variants", "backends.xp", "conformance.ops"} <= tree
    assert not tree - built, f"packages pyproject.toml leaves out: {sorted(tree - built)}"
    assert not built - tree, f"packages pyproject.toml adds that are not the harness's: {sorted(built - tree)}"


def test_data_read_at_run_time_is_package_data():
    # Under tox the package is imported from site-packages, so the cache's
    # place is checked relative to wherever `conformance` was imported from.
    package_root = Path(conformance.__file__).resolve().parent.parent
    assert power.CACHE.resolve().relative_to(package_root).as_posix() == "conformance/discriminating_cases.json"
    files = data_files()
    assert "conformance/discriminating_cases.json" in files
    left_out = sorted(f for f in files if not shipped_data(f))
    assert not left_out, f"files in the packages that pyproject.toml's package-data does not ship: {left_out}"


def _names(requirements: list[str]) -> set[str]:
    return {re.match(r"[A-Za-z0-9._-]+", r).group(0).lower() for r in requirements}


def test_extras_and_the_torch_pin():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"pytest", "pytest-xdist", "jinja2"} <= _names(extras["test"])
    assert {"pytest", "pytest-benchmark"} <= _names(extras["bench"])
    assert "cupy-cuda12x" in _names(extras["cupy"])
    dependencies_ = PYPROJECT["project"]["dependencies"]
    assert {"numpy", "hypothesis", "jinja2", "torch"} <= _names(dependencies_)
    # torch's version lives in constraints.txt alone
    assert "torch" in dependencies_
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("torch==")]
    assert len(pins) == 1
    # what the one-line hint for a missing module names is a dependency
    assert {name.lower() for name in dependencies.DEPENDENCIES.values()} <= _names(dependencies_)


@pytest.mark.skipif(
    importlib.util.find_spec("setuptools") is None or importlib.util.find_spec("pip") is None,
    reason="building the wheel offline needs pip and setuptools in this environment",
)
def test_the_wheel_holds_every_package_and_the_data(tmp_path):
    """``pip wheel`` of a copy of the checkout (no network, no build isolation)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, src / name)
    for root in ROOTS:
        shutil.copytree(ROOT / root, src / root, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            "dist",
            str(src),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in tree_packages():
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert data_files() <= names
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


# --- a missing dependency: one line, exit status 2 ---------------------------


def _without(module: str, tmp_path: Path) -> dict[str, str]:
    """An environment in which importing ``module`` fails as when it is not
    installed: a package of that name, first on the path, that raises so."""
    fake = tmp_path / "missing" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    return {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}"}


@pytest.mark.parametrize(
    "module,args,names",
    [
        ("numpy", ["list"], "numpy"),
        ("hypothesis", ["list"], "hypothesis"),
        ("numpy", ["run", "--backend", "numpy", "--examples", "1"], "numpy"),
        ("torch", ["run", "--backend", "numpy", "--op", "pixel_shuffle", "--examples", "1", "--no-grad"], "torch"),
        ("jinja2", ["report"], "Jinja2"),
    ],
)
def test_a_missing_dependency_is_one_line(module, args, names, tmp_path):
    results = tmp_path / "r.jsonl"
    results.write_text('{"run_id": "r", "type": "environment", "seed": 0}\n')  # a run, for the report
    args = [*args, "--results", str(results)] + (["--out", str(tmp_path / "out")] if args[0] == "report" else [])
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        cwd=tmp_path,
        env=_without(module, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and f"{names} is not installed" in lines[0]
    assert dependencies.INSTALL in lines[0]


def test_the_manual_says_how_to_install():
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    install = page.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    assert dependencies.INSTALL in install
    # the frameworks' extras are documented on their own page (docs/frameworks.md)
    frameworks = (ROOT / "docs" / "frameworks.md").read_text(encoding="utf-8")
    extras = PYPROJECT["project"]["optional-dependencies"]
    framework_extras = {"frameworks"} | {e for r in extras["frameworks"] for e in r.split("[", 1)[1].rstrip("]").split(",")}
    for extra in extras.keys() - {"lint"}:
        assert f"-e '.[{extra}]'" in (frameworks if extra in framework_extras else install), extra
    assert f"`{backends.ENTRY_POINT_GROUP}`" in install and "(writing-a-backend.md#" in install


def test_another_missing_module_keeps_its_traceback(monkeypatch):
    """Only the harness's dependencies get the one line: any other missing
    module is a bug to see in full."""
    from conformance.__main__ import run

    monkeypatch.setitem(sys.modules, "conformance.cli", None)
    with pytest.raises(ModuleNotFoundError):
        run()
    assert dependencies.message(ModuleNotFoundError("x", name="mypackage.upsample")) is None
    assert "numpy is not installed" in dependencies.message(ModuleNotFoundError("x", name="numpy.linalg"))
