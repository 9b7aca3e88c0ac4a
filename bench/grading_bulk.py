"""A class of lab 2 (routing-overlay) submissions graded unattended: the issue's target is
12 submissions in <= 15 minutes on the 2-core machine.

The class is the lab's synthetic submissions in turn (reference solution, starter, the
two buggy variants), copied to 12 folders, graded by the real command
(`testbed grade labs/routing-overlay/rubric.yaml SUB... --out DIR`). Baseline, measured in
the same run: one submission (the solution) graded alone; the ratio total / (12 x one)
is what grading a class costs beyond grading its members one by one (progress, class
reports), and total / 900 s is the target's ratio.

    sudo .venv/bin/python bench/grading_bulk.py [--submissions 12]
"""
from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB = REPO / "labs/routing-overlay"
VARIANTS = [LAB / "instructor/solution", LAB / "starter",
            *sorted((REPO / "tests/data/grading/routing-overlay").iterdir())]


def grade(subs: list, out: Path) -> float:
    started = time.monotonic()
    testbed = Path(sys.executable).with_name("testbed")
    subprocess.run([str(testbed), "grade", str(LAB / "rubric.yaml"), *map(str, subs),
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
        root = Path(tmp)
        subs = []
        for i, src in zip(range(args.submissions), itertools.cycle(VARIANTS)):
            dst = root / "subs" / f"student{i + 1:02d}-{src.name}"
            shutil.copytree(src, dst)
            subs.append(dst)
        one = grade(subs[:1], root / "one")
        total = grade(subs, root / "class")
        scores = (root / "class/scores.csv").read_text()
    print(scores)
    print(f"one submission: {one:.0f} s; {args.submissions} submissions: {total:.0f} s "
          f"({total / args.submissions:.0f} s each)")
    print(f"ratio class / ({args.submissions} x one): {total / (args.submissions * one):.2f}")
    print(f"ratio class / target 900 s: {total / 900:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
