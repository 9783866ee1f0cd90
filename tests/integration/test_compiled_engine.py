"""The tariff engine as wheels ship it: its hot modules compiled with mypyc (setup.py) give the same results.

Builds the wheel the way `pip install` would, then runs the tariff unit tests (spec examples, vectors,
properties) against it in a separate interpreter. Skipped without a C compiler, where wheels fall back to
the pure-Python modules the rest of the suite tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None,
    reason="no C compiler: wheels built here would carry the pure-Python engine only",
)


def test_the_compiled_engine_passes_the_tariff_tests(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    [wheel] = wheels.glob("evroam-*.whl")
    installed = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for module in config["tool"]["evroam"]["compiled"]:
        stem = Path(module).with_suffix("")
        assert list((installed / stem.parent).glob(f"{stem.name}.*.so")), f"{module} was not compiled"

    env = {**os.environ, "PYTHONPATH": str(installed)}
    probe = "import evroam.tariffs.engine as e; print(e.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    assert where.stdout.strip().endswith(".so"), where.stdout
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/tariffs"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout
