"""The numeric core must import without Django (it runs in notebooks and benchmarks)."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_models_does_not_import_django():
    # given a fresh interpreter
    code = (
        "import sys, pkgutil, importlib, stammkunde.analytics.models as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module(p.__name__ + '.' + m.name)\n"
        "print('django' in sys.modules)"
    )
    # when
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # then
    assert out.stdout.strip() == "False"


def test_the_scoring_pipeline_imports_without_django():
    # given a fresh interpreter: a Celery worker or notebook can score frames without settings
    code = "import sys, stammkunde.analytics.scoring\nprint('django' in sys.modules)"
    # when
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # then
    assert out.stdout.strip() == "False"
