"""Build hook: the tariff engine's hot modules are compiled with mypyc into wheels.

The modules listed under `[tool.evroam] compiled` in pyproject.toml are type-checked Python that mypyc
turns into C extensions, about twice as fast; their Python sources ship alongside and are used
wherever no extension was built: editable installs (so the code being edited is the code that runs),
`EVROAM_PURE_PYTHON=1`, or a machine without a C compiler (the build then goes on without them).
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent


def compiled_modules() -> list[str]:
    config = tomllib.loads((HERE / "pyproject.toml").read_text())
    modules: list[str] = config["tool"]["evroam"]["compiled"]
    return modules


class OptionalBuildExt(build_ext):
    """Extensions that fail to build leave the pure-Python modules in charge, with a warning."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no headers: pure Python it is
            _warn(exc)

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _warn(exc)


def _warn(exc: Exception) -> None:
    print(f"warning: compiling the tariff engine failed ({exc}); it runs as pure Python", file=sys.stderr)


def ext_modules() -> list[Any]:
    # Only when extensions are being built: every other setup.py call (metadata, editable installs) skips
    # the mypyc step, which type-checks and generates C for a while.
    building = any(command in sys.argv for command in ("bdist_wheel", "build_ext", "build"))
    if not building or os.environ.get("EVROAM_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        return []
    paths = [str(Path("src") / module) for module in compiled_modules()]
    # No config file: the project's mypy settings name a plugin the build environment does not have.
    return list(mypycify(["--config-file=", "--ignore-missing-imports", *paths], opt_level="3"))


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
