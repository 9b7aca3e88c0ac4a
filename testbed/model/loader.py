"""Topology file -> validated `Network`, or `InvalidInput` with every problem positioned.

Three passes, each reporting all it finds: YAML syntax (yamlpos), shape and values
(pydantic schema), whole-file rules (checks) and the address plan (addressing).
"""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import pydantic
import yaml

from .addressing import PlanError, resolve
from .checks import Problem, check_topology
from .diagnostics import Diagnostic, InvalidInput, did_you_mean, excerpt, format_path
from .network import Network
from .schema import Topology
from .yamlpos import MAX_BYTES, Positions, load_with_positions, position_of

EXAMPLE_HINT = "see topologies/line-3as.yaml for a small complete example"


def read_input(path: "str | Path", where_bundled: str) -> str:
    """A user's input file as text, or InvalidInput saying why it cannot be read. At most
    MAX_BYTES are read (a 50 MB file, or /dev/zero, costs nothing); the text must be UTF-8
    (a UTF-16 file, as some Windows editors save, gets told so)."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput([Diagnostic(name, 0, 0, "", "no such file",
                                       f"{where_bundled} has the bundled ones")]) from None
    except IsADirectoryError:
        raise InvalidInput([Diagnostic(name, 0, 0, "", "is a directory, not a file")]) from None
    except OSError as exc:
        raise InvalidInput([Diagnostic(name, 0, 0, "", f"cannot read the file: "
                                       f"{exc.strerror or type(exc).__name__}")]) from None
    if len(data) > MAX_BYTES:
        raise InvalidInput([Diagnostic(name, 0, 0, "", f"the file is larger than "
                                       f"{MAX_BYTES // 1024} kB", "is this the right file?")])
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InvalidInput([Diagnostic(name, 0, 0, "", "the file is UTF-16 text",
                                       "save it as UTF-8")])
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InvalidInput([Diagnostic(name, line, 1, "", "the file is not UTF-8 text (a binary "
                                       "file, or another encoding)", "save it as UTF-8")]) from None


def load_topology(path: "str | Path") -> Network:
    """Read, validate and resolve one topology file."""
    return parse_topology(read_input(path, "topologies/"), str(path))


def parse_topology(text: str, filename: str = "<string>") -> Network:
    data, positions = load_with_positions(text, filename)
    return validate_topology(data, positions, filename)


def validate_topology(data: Any, positions: Positions, filename: str) -> Network:
    """Parsed topology YAML -> Network, or InvalidInput with every problem positioned."""
    if data is None:
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "the file is empty", EXAMPLE_HINT)])
    if not isinstance(data, dict):
        line, col = positions.get((), (1, 1))
        raise InvalidInput([Diagnostic(filename, line, col, "",
                                       f"the file must be a mapping with 'name' and 'ases', "
                                       f"not {kind_of(data)}", EXAMPLE_HINT)])
    if not set(map(str, data)) & set(Topology.model_fields):
        # not a topology at all (a wrong path, e.g. /etc/passwd): say so once, and echo
        # none of its content
        raise InvalidInput([Diagnostic(filename, 1, 1, "", "this is not a topology file "
                                       "(it has neither 'name' nor 'ases')", EXAMPLE_HINT)])
    try:
        topo = Topology.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(pydantic_diagnostics(exc, data, positions, filename, Topology)) from None
    problems = check_topology(topo)
    if not problems:
        try:
            return resolve(topo, filename)
        except PlanError as exc:
            problems = exc.problems
    raise InvalidInput(problem_diagnostics(problems, positions, filename))


def replace_policy(text: str, asn: int, policy: Dict[str, Any]) -> str:
    """Topology YAML text with one AS's `policy` replaced (a runtime policy change)."""
    data = yaml.safe_load(text)
    for autsys in data.get("ases", []):
        if autsys.get("asn") == asn:
            autsys["policy"] = policy
    return yaml.safe_dump(data, sort_keys=False)


def problem_diagnostics(problems: Sequence[Problem], positions: Positions,
                        filename: str) -> List[Diagnostic]:
    """Whole-file rule violations, positioned."""
    out = []
    for problem in problems:
        line, col = position_of(positions, tuple(problem.path))
        out.append(Diagnostic(filename, line, col, format_path(problem.path), problem.message,
                              problem.hint))
    return sorted(out, key=lambda d: (d.line, d.col))


def kind_of(value: Any) -> str:
    """'a list', 'nothing (null)', ... for messages about a value of the wrong kind."""
    return {list: "a list", dict: "a mapping", str: "a string", int: "a number",
            float: "a number", bool: "a boolean (true/false)",
            type(None): "nothing (an empty value)"}.get(type(value), "a value")


def pydantic_diagnostics(exc: pydantic.ValidationError, data: Any, positions: Positions,
                         filename: str, root: Any, prefix: Tuple[Any, ...] = ()) -> List[Diagnostic]:
    """Schema errors of a document (or of the part of it at `prefix`, e.g. an overlay's
    params) validated against the pydantic model `root`, positioned, with "did you mean"
    for unknown keys (shared by topology and experiment files)."""
    out = []
    seen = set()
    for error in exc.errors(include_url=False):
        inner = _data_path(error["loc"], data, error["type"])
        path = prefix + inner
        kind = error["type"]
        message = error["msg"]
        hint = ""
        if kind == "extra_forbidden":
            key = path[-1]
            allowed = _fields_at(inner[:-1], root)
            message = f"unknown key '{excerpt(key)}'"
            hint = did_you_mean(str(key), allowed) or \
                (f"allowed here: {', '.join(sorted(allowed))}" if allowed else "")
            line, col = positions.get(path + ("<key>",), position_of(positions, path))
        else:
            if kind == "missing":
                message = f"missing required key '{path[-1]}'"
            elif message.startswith("Value error, "):
                message = message[len("Value error, "):]
            elif kind in ("model_type", "dict_type"):
                message = f"expected a mapping of keys, not {kind_of(error.get('input'))}"
            elif kind == "union_tag_invalid":
                tag = excerpt(error.get("ctx", {}).get("tag", ""))
                tags = [t.strip(" '") for t in str(error.get("ctx", {}).get("expected_tags",
                                                                            "")).split(",")]
                message = f"unknown {error['ctx'].get('discriminator', '').strip(chr(39))} '{tag}'"
                hint = did_you_mean(tag, tags) or f"one of: {', '.join(tags)}"
            elif kind == "union_tag_not_found":
                message = f"missing required key {error['ctx'].get('discriminator')}"
            line, col = position_of(positions, path)
        key = (line, col, message)
        if key in seen:
            continue
        seen.add(key)
        out.append(Diagnostic(filename, line, col, format_path(path), message, hint))
    return sorted(out, key=lambda d: (d.line, d.col))


def _data_path(loc: Tuple[Any, ...], data: Any, kind: str) -> Tuple[Any, ...]:
    """Pydantic's error location without its internal steps (validator and union tags)."""
    path: List[Any] = []
    node = data
    for step in loc:
        if isinstance(node, dict) and step not in node and step in node.values():
            continue  # a discriminated union's tag (e.g. an action's name)
        if isinstance(node, dict) and step in node:
            node = node[step]
            path.append(step)
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            path.append(step)
        elif kind in ("missing", "extra_forbidden") and isinstance(node, dict):
            path.append(step)
            break
    return tuple(path)


def _fields_at(path: Tuple[Any, ...], root: Any) -> List[str]:
    """Names of the keys the schema allows at `path` (for "did you mean")."""
    model: Any = root
    for step in path:
        if isinstance(step, int):
            continue
        field = getattr(model, "model_fields", {}).get(step)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside Optional[...], List[...] or Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
