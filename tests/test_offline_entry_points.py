"""Every runnable bench and training script that loads Clearline's code turns the libraries'
telemetry and hub downloads off itself (service.offline.go_offline) before they are imported,
as the CLI and the app do: a script run by hand has no conftest to set the environment (some
libraries read these settings once, at import). Each is imported in a fresh interpreter whose
environment lacks the offline settings; afterwards all of them must be set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.offline import OFFLINE_ENV

ROOT = Path(__file__).resolve().parent.parent
PROJECT = re.compile(
    r"^\s*(?:from|import) (?:agent|conversations|control|evaluation|ingest|knowledge|privacy|"
    r"service|training)\b",
    re.MULTILINE,
)
SCRIPTS = sorted(  # the runnable ones that load Clearline's code
    p
    for p in (*ROOT.glob("bench/*.py"), *ROOT.glob("training/**/*.py"))
    if PROJECT.search(text := p.read_text(encoding="utf-8"))
    and (p.name == "__main__.py" or '__name__ == "__main__"' in text)
)
CHECK = (
    "import importlib, json, os, sys; sys.path.insert(0, {root!r}); "
    "importlib.import_module({module!r}); "
    "print(json.dumps({{k: os.environ.get(k) for k in {keys!r}}}))"
)


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_scripts_are_found() -> None:
    names = {_module(p) for p in SCRIPTS}
    assert {
        "bench.routing", "bench.calibration_fit", "training.answerability.__main__",
        "training.answerability.feature_weights", "training.injection_train",
    } <= names  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS, ids=_module)
def test_importing_the_script_turns_telemetry_off(script: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}
    code = CHECK.format(root=str(ROOT), module=_module(script), keys=sorted(OFFLINE_ENV))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    missing = sorted(k for k, v in OFFLINE_ENV.items() if found.get(k) != v)
    assert not missing, f"{_module(script)} leaves {missing} unset: call go_offline() first"
