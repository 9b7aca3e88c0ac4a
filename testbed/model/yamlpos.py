"""Load YAML keeping the source position of every value.

PyYAML's composer gives each node a start mark; we convert the node tree to plain Python
data ourselves and record, for every path inside the document, where its value (and, for
mapping entries, its key) starts. Validation errors found later on the plain data are then
reported at `file:line:col`. Duplicate keys are an error here (PyYAML silently keeps the
last one, which hides typos).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import yaml

from .diagnostics import Diagnostic, InvalidInput, format_path

Path = Tuple[Any, ...]
Positions = Dict[Path, Tuple[int, int]]


class _Loader(yaml.SafeLoader):
    """SafeLoader: no arbitrary object construction from user files."""


def load_with_positions(text: str, filename: str) -> Tuple[Any, Positions]:
    """Parse `text`; return (data, positions). Raises InvalidInput on syntax errors."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise InvalidInput([Diagnostic(filename, line, col, "", f"YAML syntax error: {problem}",
                                       "check indentation, colons and quotes on this line")])
    except yaml.YAMLError as exc:  # e.g. reader errors on binary input
        raise InvalidInput([Diagnostic(filename, 0, 0, "", f"not readable as YAML: {exc}")])
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        raise InvalidInput([Diagnostic(filename, mark.line + 1, mark.column + 1, "",
                                       "more than one YAML document in the file",
                                       "remove the '---' separator")])
    positions: Positions = {}
    errors: List[Diagnostic] = []
    if not nodes or nodes[0] is None:
        return None, positions
    data = _convert(nodes[0], (), positions, errors, filename)
    if errors:
        raise InvalidInput(errors)
    return data, positions


def _convert(node: yaml.Node, path: Path, positions: Positions, errors: List[Diagnostic],
             filename: str) -> Any:
    positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        try:
            return _scalar(node)
        except yaml.YAMLError as exc:
            errors.append(Diagnostic(filename, *positions[path], format_path(path), f"bad value: {exc}"))
            return None
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (i,), positions, errors, filename)
                for i, child in enumerate(node.value)]
    result: Dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            errors.append(Diagnostic(filename, key_node.start_mark.line + 1,
                                     key_node.start_mark.column + 1, format_path(path),
                                     "a key must be a plain word, not a list or mapping"))
            continue
        key = _scalar(key_node)
        if key in result:
            errors.append(Diagnostic(filename, key_node.start_mark.line + 1,
                                     key_node.start_mark.column + 1, format_path(path + (key,)),
                                     f"duplicate key '{key}'", "each key may appear once"))
            continue
        positions[path + (key, "<key>")] = (key_node.start_mark.line + 1,
                                             key_node.start_mark.column + 1)
        result[key] = _convert(value_node, path + (key,), positions, errors, filename)
    return result


def _scalar(node: yaml.ScalarNode) -> Any:
    """The Python value of a scalar node, resolved by YAML's safe rules (int, bool, ...)."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def position_of(positions: Positions, path: Path) -> Tuple[int, int]:
    """Position of the deepest known prefix of `path` (pydantic may point below a scalar)."""
    for end in range(len(path), -1, -1):
        if path[:end] in positions:
            return positions[path[:end]]
    return (0, 0)
