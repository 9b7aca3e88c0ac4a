"""Rubric file -> `Rubric`, or InvalidInput with every problem at file:line:col: YAML
syntax and limits (the hardened reader), the schema, then files: what a check names
exists, a hidden check's files are in the instructor directory and a visible check's are
not (students get the visible ones), and check names are unique."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

import pydantic

from ..model import InvalidInput
from ..model.checks import Problem
from ..model.diagnostics import Diagnostic
from ..model.loader import kind_of, problem_diagnostics, pydantic_diagnostics
from ..experiment.loader import read_document
from .schema import ExperimentCheck, LiveCheck, RoutesCheck, Rubric, UnitCheck

EXAMPLE = "see labs/policy-routing/rubric.yaml"


def load_rubric(path: "str | Path", visible_only: bool = False) -> Rubric:
    """The rubric; with `visible_only`, without its hidden checks (a student's copy has
    no instructor directory)."""
    text, data, positions = read_document(path)
    filename = str(path)
    if not isinstance(data, dict):
        line, col = positions.get((), (1, 1))
        raise InvalidInput([Diagnostic(filename, line or 1, col or 1, "",
                                       f"a rubric is a mapping with 'name' and 'checks', but "
                                       f"this is {kind_of(data)}", EXAMPLE)])
    try:
        rubric = Rubric.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(pydantic_diagnostics(exc, data, positions, filename, Rubric)) from None
    problems = list(check_files(rubric, Path(filename).parent, visible_only))
    if problems:
        raise InvalidInput(problem_diagnostics(problems, positions, filename))
    if visible_only:
        rubric = rubric.model_copy(update={"checks": [c for c in rubric.checks
                                                      if not c.hidden]})
    return rubric


def referenced(check: object) -> List[Tuple[str, str]]:
    """(key, rubric-relative path) of the instructor's files a check uses."""
    if isinstance(check, UnitCheck):
        return [("tests", t) for t in check.tests]
    if isinstance(check, LiveCheck) and check.submitted:
        return []  # the submission's, checked when it is graded
    if isinstance(check, (RoutesCheck, LiveCheck)):
        return [("topology", check.topology)]
    if isinstance(check, ExperimentCheck):
        return [("experiment", check.experiment)]
    return []


def check_files(rubric: Rubric, base: Path, visible_only: bool = False) -> Iterator[Problem]:
    instructor = (base / rubric.instructor).resolve()
    names = set()
    for i, check in enumerate(rubric.checks):
        if check.name in names:
            yield Problem(("checks", i, "name"), f"two checks are named '{check.name}'")
        names.add(check.name)
        if visible_only and check.hidden:
            continue
        for j, (key, rel) in enumerate(referenced(check)):
            where = ("checks", i, key, j) if key == "tests" else ("checks", i, key)
            path = (base / rel).resolve()
            if not path.exists():
                yield Problem(where, f"no file '{rel}' next to the rubric",
                              "paths are relative to the rubric file")
                continue
            inside = instructor == path or instructor in path.parents
            if check.hidden and not inside:
                yield Problem(where, f"a hidden check's '{rel}' is outside the instructor "
                                     f"directory ({rubric.instructor})",
                              "students would see it: move it there")
            if not check.hidden and inside:
                yield Problem(where, f"a visible check's '{rel}' is in the instructor "
                                     "directory", "make the check hidden, or move the file")
