"""The rubric file's schema (pydantic; `testbed schema --rubric` writes its JSON Schema).

A rubric lists checks, each worth `points`, `hidden` or not (a hidden check's name and
points appear in the feedback, never its output or its files), with `feedback` shown when
it fails. Paths are relative to the rubric file; a hidden check's files belong in the
instructor directory (`instructor`, default `instructor/` next to the rubric), which the
grader makes readable by root alone before it runs anything.

Kinds:
- files: the submission has every file in `require`;
- unit: pytest runs `tests` (files or directories) in the sandbox over the submission;
  points in proportion to the tests that pass;
- routes: the submission's `module` (rank and export rules, labs/policy-routing) routes
  `topology` in a path-vector simulation; `expect` lists what must hold, points in
  proportion: `match_reference` (every AS pair's path equals the testbed's Gao-Rexford
  routes; credit for the pairs that match beyond those routing by path length alone gets
  right, so rules that ignore policy earn none), `valley_free` (no path has a valley),
  `paths` (given AS paths);
- experiment: runs `experiment` with the submission's files put into the overlay tree
  (`place`: submission file -> path under overlays/), agents in the sandbox; each of the
  experiment's expectations is worth an equal share, half of it (`partial_credit`) when it
  misses by no more than `band` (relative to the wanted value);
- reach: all host pairs of `topology` reach each other on a live network (its routers
  running the testbed's routing); credit in proportion to the pairs that do;
- trace: on a live network of `topology`, a traceroute from each `paths` entry's host to
  its other host shows the AS path `ases` (each hop's address mapped to its router's AS);
  credit in proportion to the paths that match.
For reach and trace, `submitted: true` takes `topology` from the submission (the student
designs the network: which ASes peer, who buys transit from whom); it must be a valid
topology of at most `max_routers` routers, or the check earns nothing and says why.
"""
from __future__ import annotations

from typing import Any, Dict, List, Literal, Union

from pydantic import AfterValidator, Field
from typing_extensions import Annotated

from ..experiment.fields import Ident, NodeName, Seconds, Strict
from ..model.schema import Float, Int, matching

REL_RE = r"^[A-Za-z0-9_.][A-Za-z0-9_./-]*$"


WORDS = "a relative path (letters, digits, '_', '.', '-', '/'; not starting with '/')"


def _inside(path: str) -> str:
    if ".." in path.split("/"):
        raise ValueError("a path inside the submission (or the overlay tree) may not go up "
                         "with '..'")
    return path


RelPath = Annotated[str, matching(REL_RE, WORDS), Field(pattern=REL_RE, max_length=300)]
InnerPath = Annotated[str, matching(REL_RE, WORDS), Field(pattern=REL_RE, max_length=300),
                      AfterValidator(_inside)]


class Limits(Strict):
    """What one check of one submission may use."""
    cpu_s: Int = Field(60, ge=1, le=3600, description="CPU seconds")
    memory_mb: Int = Field(1024, ge=64, le=16384, description="address space, MB")
    processes: Int = Field(64, ge=4, le=4096, description="processes of the student user")
    open_files: Int = Field(256, ge=16, le=65536)
    file_mb: Int = Field(64, ge=1, le=4096, description="largest file it may write, MB")
    disk_mb: Int = Field(128, ge=8, le=8192, description="its writable space, MB")


class CheckBase(Strict):
    name: Ident
    title: str = Field("", max_length=200)
    points: Float = Field(ge=0, le=1000)
    hidden: bool = False
    feedback: str = Field("", max_length=2000, description="shown when the check fails")
    timeout: Seconds = Field(120.0, gt=0, description="wall-clock limit of the check")


class FilesCheck(CheckBase):
    kind: Literal["files"]
    require: List[InnerPath] = Field(min_length=1, max_length=100)


class UnitCheck(CheckBase):
    kind: Literal["unit"]
    tests: List[RelPath] = Field(min_length=1, max_length=50,
                                 description="test files or directories, rubric-relative")


class PathExpect(Strict):
    path: List[Int] = Field(min_length=1, max_length=50,
                            description="AS path from the first AS to the last")


class RoutesExpect(Strict):
    match_reference: bool = False
    valley_free: bool = False
    paths: List[PathExpect] = Field(default_factory=list, max_length=1000)


class RoutesCheck(CheckBase):
    kind: Literal["routes"]
    topology: RelPath
    module: InnerPath = Field(description="the submission's file with rank() and export()")
    expect: RoutesExpect


class ExperimentCheck(CheckBase):
    kind: Literal["experiment"]
    experiment: RelPath
    place: Dict[InnerPath, InnerPath] = Field(
        min_length=1, description="submission file -> path under overlays/, e.g. "
                                  "{detect.py: ron_lab/detect.py}")
    band: Float = Field(0.25, ge=0, le=10, description="a miss within this fraction of the "
                                                       "wanted value earns partial credit")
    partial_credit: Float = Field(0.5, ge=0, le=1)


class LiveCheck(CheckBase):
    """A check on a live network of `topology`."""
    topology: RelPath
    submitted: bool = Field(False, description="topology is a file of the submission")
    max_routers: Int = Field(60, ge=1, le=1000,
                             description="a submitted topology may have this many routers")


class ReachCheck(LiveCheck):
    kind: Literal["reach"]


class TracePath(Strict):
    src: NodeName = Field(alias="from", description="the host the traceroute runs on")
    dst: NodeName = Field(alias="to")
    ases: List[Int] = Field(min_length=1, max_length=50,
                            description="the AS path it must show, from src's AS")


class TraceCheck(LiveCheck):
    kind: Literal["trace"]
    paths: List[TracePath] = Field(min_length=1, max_length=200)


Check = Annotated[Union[FilesCheck, UnitCheck, RoutesCheck, ExperimentCheck, ReachCheck,
                        TraceCheck], Field(discriminator="kind")]


class Rubric(Strict):
    name: Ident
    title: str = Field("", max_length=200)
    instructor: RelPath = Field("instructor", description="hidden material: root-only")
    limits: Limits = Field(default_factory=Limits)
    checks: List[Check] = Field(min_length=1, max_length=200)

    @property
    def total(self) -> float:
        return sum(c.points for c in self.checks)


def json_schema() -> Dict[str, Any]:
    schema = Rubric.model_json_schema(by_alias=True)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = "testbed rubric"
    return schema


