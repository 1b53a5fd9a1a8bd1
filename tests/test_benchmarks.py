"""The benchmarks are not run by the tests (they need a quiet machine), but each must
still import: a benchmark broken by a change of the app is found here, not by the lead."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(info.name for info in pkgutil.walk_packages(benchmarks.__path__, "benchmarks."))


@pytest.mark.parametrize("module", MODULES)
def test_the_benchmark_imports(module: str) -> None:
    importlib.import_module(module)
