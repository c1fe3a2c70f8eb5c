"""How long a `clearline` command that fits no intents takes, measured in one run against the
same command with scikit-learn imported first (what every command paid before
`agent/understand/intents.py` imported it only where it fits).

    .venv/bin/python bench/cli_startup.py [--rounds 5]

Each round runs three commands into a fresh data directory (`tenant create`, `tenant list`,
`sources`), each in a new process, once of each kind in the order before, now, now, before
(so a drift of the shared machine falls on both alike). It prints each round's total, then
the medians per command sequence and the ratio. Last line: `now_vs_before_ratio=<ratio>`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUN = "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))"
PROGRAMS = {
    "now": _RUN,
    "before": "import sklearn.linear_model, sklearn.model_selection, sklearn.preprocessing; "
    + _RUN,
}
COMMANDS = (
    ("tenant", "create", "acme", "--region", "eu"),
    ("tenant", "list"),
    ("sources", "--tenant", "acme"),
)


def sequence_seconds(kind: str) -> float:
    """Seconds for the three commands, each a fresh process, into a fresh data directory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as data_dir:
        started = time.perf_counter()
        for command in COMMANDS:
            subprocess.run(
                [sys.executable, "-c", PROGRAMS[kind], "--data-dir", data_dir, *command],
                env=env,
                check=True,
                capture_output=True,
            )
        return time.perf_counter() - started


def sklearn_imported_by_cli() -> bool:
    """Whether importing the CLI still imports scikit-learn."""
    probe = "import sys, service.cli; print('sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"importing service.cli imports sklearn: {sklearn_imported_by_cli()}")
    times: dict[str, list[float]] = {"before": [], "now": []}
    for round_ in range(args.rounds):
        for kind in ("before", "now", "now", "before"):
            seconds = sequence_seconds(kind)
            times[kind].append(seconds)
            print(f"round {round_ + 1} {kind:6} 3 commands {seconds:6.2f} s")
    before, now = statistics.median(times["before"]), statistics.median(times["now"])
    print(
        f"median of 3 commands: before {before:.2f} s, now {now:.2f} s "
        f"({(before - now) / len(COMMANDS):.2f} s saved per command)"
    )
    print(f"now_vs_before_ratio={now / before:.3f}")


if __name__ == "__main__":
    main()
