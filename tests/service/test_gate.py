"""`clearline eval gate` on the demo tenant: a clearly worse candidate is rejected, an
equal one is accepted, the result is audited, and a bad candidate file is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from control.models import AuditEntry
from service.settings import Settings
from tests.conftest import DATA
from tests.service.test_cli import clearline

PROBES = DATA / "injection"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from service.demo import set_up
    from service.runtime import Runtime

    data_dir = tmp_path_factory.mktemp("gate") / "data"
    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        demo = set_up(runtime)
    finally:
        runtime.close()
    assert demo.documents.get("ingested") == 12
    return data_dir


def gate(data_dir: Path, candidate: Path) -> tuple[int, dict[str, object], str]:
    done = clearline(
        "eval", "gate", "--tenant", "demo", "--candidate", str(candidate),
        "--probes", str(PROBES), "--json", data_dir=data_dir,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


@pytest.mark.slow
def test_a_candidate_that_never_hands_off_is_rejected(demo_dir: Path, tmp_path: Path) -> None:
    candidate = tmp_path / "never-hand-off.yaml"
    candidate.write_text("thresholds: {answer: 0.0, clarify: 0.0}\n")
    code, report, stderr = gate(demo_dir, candidate)
    assert code == 3, stderr
    assert report["passed"] is False
    current, worse = report["current"], report["candidate"]
    assert isinstance(current, dict) and isinstance(worse, dict)
    assert worse["handoff_unanswerable"] < current["handoff_unanswerable"]
    assert any("handoff_unanswerable" in r and "WORSE" in r for r in report["reasons"])  # type: ignore[attr-defined]
    assert current["n_probes"] > 0


@pytest.mark.slow
def test_an_equal_candidate_is_accepted_and_audited(demo_dir: Path, tmp_path: Path) -> None:
    candidate = tmp_path / "same.yaml"
    candidate.write_text("autonomy: autonomous\n")
    code, report, stderr = gate(demo_dir, candidate)
    assert code == 0, stderr
    assert report["passed"] is True
    runtime_settings = Settings(data_dir=demo_dir)
    from control.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{runtime_settings.region_db('eu')}")
    with session_factory(engine)() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "eval.gate")).all()
    engine.dispose()
    assert {json.loads(e.detail)["passed"] for e in entries} >= {True}


def test_a_bad_candidate_file_is_a_clear_error(demo_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("thresholds: {answer: 2.0}\n")
    code, _, stderr = gate(demo_dir, broken)
    assert code == 1
    assert "thresholds.answer" in stderr
    missing = tmp_path / "missing.yaml"
    code, _, stderr = gate(demo_dir, missing)
    assert code == 1 and "cannot be read" in stderr
