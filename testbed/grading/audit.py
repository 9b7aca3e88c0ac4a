"""`testbed grade --audit RUBRIC`: does the rubric grade what the students write?

A lab's instructor folder holds the reference solution (`solution/`) and mutants
(`mutants/<name>/`): the solution with one bug each (the bugs the lab is about), and the
degenerate submissions (empty, not parsing). The audit grades the solution, the starter
(`starter/` next to the rubric, what every student begins with) and every mutant, and
judges the rubric by the scores:

- the solution earns every point (else a check is wrong, or the solution is);
- the starter earns at most STARTER_MAX of them (points the starter earns are points for
  nothing the student wrote);
- every mutant scores below the solution (a bug the lab teaches must cost something);
- every check catches a mutant (earns it less than the solution) or rewards the
  student's code (earns the starter less than the solution): a check that does neither
  gives free points. A mutant that earns nothing on the other checks (an empty
  submission) is caught by every check and so proves none; a `files` check, there to
  say a file is missing, is bounded by the starter's share instead.

Pure: the grades in, the matrix and the problems out (the CLI grades and prints).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

STARTER_MAX = 0.10  # of the rubric's points
SOLUTION, STARTER = "solution", "starter"


@dataclass
class Audit:
    subjects: List[str]  # solution, starter, then the mutants
    checks: List[str]
    points: Dict[Tuple[str, str], float]  # (check, subject) -> points earned
    scores: Dict[str, float]
    total: float
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class AuditError(Exception):
    """The lab has no solution, starter or mutants to audit with."""


def subjects(base: Path, instructor: str) -> List[Tuple[str, Path]]:
    """(label, submission folder) of the solution, the starter and each mutant."""
    solution, starter = base / instructor / "solution", base / "starter"
    mutants = base / instructor / "mutants"
    for need in (solution, starter, mutants):
        if not need.is_dir():
            raise AuditError(f"no {need.relative_to(base)}/ next to the rubric: an audit "
                             "grades the solution, the starter and the mutants")
    found = sorted(p for p in mutants.iterdir() if p.is_dir())
    if not found:
        raise AuditError(f"{mutants.relative_to(base)}/ has no mutant (one folder each)")
    clash = [p.name for p in found if p.name in (SOLUTION, STARTER)]
    if clash:
        raise AuditError(f"a mutant may not be named '{clash[0]}'")
    return [(SOLUTION, solution), (STARTER, starter)] + [(p.name, p) for p in found]


def as_handed_in(found: List[Tuple[str, Path]], scratch: Path) -> List[Tuple[str, Path]]:
    """Each subject copied into `scratch/<label>` with its links resolved, as a student
    would hand it in (a lab's starter may link to the placeholder in the overlay tree;
    the grader refuses links)."""
    out = []
    for label, path in found:
        shutil.copytree(path, scratch / label, symlinks=False)
        out.append((label, scratch / label))
    return out


def judge(grades: Dict[str, Dict]) -> Audit:
    """The audit of grade.json data by subject label (solution, starter, mutants)."""
    labels = [SOLUTION, STARTER] + sorted(k for k in grades if k not in (SOLUTION, STARTER))
    checks = [c["name"] for c in grades[SOLUTION]["checks"]]
    points = {(c["name"], label): float(c["points"])
              for label in labels for c in grades[label]["checks"]}
    maxima = {c["name"]: float(c["max"]) for c in grades[SOLUTION]["checks"]}
    total = float(grades[SOLUTION]["max"])
    scores = {label: float(grades[label]["score"]) for label in labels}
    audit = Audit(labels, checks, points, scores, total)
    mutants = labels[2:]
    lost = [c for c in checks if points[(c, SOLUTION)] < maxima[c]]
    if lost:
        audit.problems.append("the solution loses points on " + ", ".join(
            f"{c} ({points[(c, SOLUTION)]:g} of {maxima[c]:g})" for c in lost))
    if scores[STARTER] > STARTER_MAX * total:
        free = [f"{c} {points[(c, STARTER)]:g}" for c in checks if points[(c, STARTER)] > 0]
        audit.problems.append(f"the starter scores {scores[STARTER]:g} of {total:g} (at most "
                              f"{STARTER_MAX * total:g}): " + ", ".join(free))
    for m in mutants:
        if scores[m] >= scores[SOLUTION]:
            audit.problems.append(f"mutant {m} scores {scores[m]:g}, the solution "
                                  f"{scores[SOLUTION]:g}: its bug costs nothing")
    kinds = {c["name"]: c.get("kind") for c in grades[SOLUTION]["checks"]}
    for c in checks:
        if kinds[c] == "files":
            continue
        catches = [m for m in mutants if points[(c, m)] < points[(c, SOLUTION)]
                   and any(points[(o, m)] > 0 for o in checks if o != c)]
        if not catches and points[(c, STARTER)] >= points[(c, SOLUTION)]:
            audit.problems.append(f"check {c} catches no mutant and gives the starter what "
                                  "it gives the solution: free points")
    return audit
