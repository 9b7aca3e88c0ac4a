"""Load YAML keeping the source position of every value, within explicit limits.

PyYAML's composer gives each node a start mark; we convert the node tree to plain Python
data ourselves and record, for every path inside the document, where its value (and, for
mapping entries, its key) starts. Validation errors found later on the plain data are then
reported at `file:line:col`.

Input files are untrusted (a student's submission, a file from the web), so this is the
one place that bounds what a file can cost and what it can mean:
- size (`MAX_BYTES`), nesting (`MAX_DEPTH`) and values after alias expansion
  (`MAX_VALUES`: a "billion laughs" alias bomb stops here, in milliseconds); an alias
  that contains itself is refused;
- only plain data: null, booleans, finite numbers of at most `MAX_NUMBER_CHARS`
  characters, strings, lists and mappings with scalar keys. Explicit tags (`!!int`,
  `!!python/...`), dates (YAML 1.1 reads `2024-02-30` as a timestamp), merge keys (`<<`)
  and `.nan`/`.inf` are refused with a message, never guessed at;
- duplicate keys are an error (PyYAML silently keeps the last one, which hides typos).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

import yaml

from .diagnostics import Diagnostic, InvalidInput, excerpt, format_path

Path = Tuple[Any, ...]
Positions = Dict[Path, Tuple[int, int]]

MAX_BYTES = 1 << 20  # 1 MiB: internet-50 is 16 kB
MAX_DEPTH = 24  # a topology needs 6
MAX_VALUES = 100_000  # values after alias expansion
MAX_NUMBER_CHARS = 24


class _Refused(Exception):
    def __init__(self, mark: Any, message: str, hint: str = ""):
        super().__init__(message)
        self.mark, self.message, self.hint = mark, message, hint


class _Loader(yaml.SafeLoader):
    """SafeLoader with a depth limit, no explicit tags, and no timestamp or merge types."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise _Refused(event.start_mark, f"explicit YAML tags are not allowed "
                                             f"('{excerpt(tag)}')",
                           "write the plain value: 100, 5ms, true, 'text'")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(event.start_mark, f"nested more than {MAX_DEPTH} levels deep",
                           "a topology or experiment needs fewer than 10 levels")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_with_positions(text: str, filename: str) -> Tuple[Any, Positions]:
    """Parse `text`; return (data, positions). Raises InvalidInput on syntax errors and on
    anything beyond the limits above."""
    if len(text) > MAX_BYTES:
        raise InvalidInput([Diagnostic(filename, 0, 0, "", f"the file is larger than "
                                       f"{MAX_BYTES // 1024} kB", "is this the right file?")])
    loader = None
    try:
        loader = _Loader(text)  # the reader checks the characters here
        nodes = []
        while loader.check_node():
            nodes.append(loader.get_node())
            if len(nodes) > 1:
                mark = nodes[1].start_mark
                raise InvalidInput([Diagnostic(filename, mark.line + 1, mark.column + 1, "",
                                               "more than one YAML document in the file",
                                               "remove the '---' separator")])
    except _Refused as exc:
        raise InvalidInput([Diagnostic(filename, exc.mark.line + 1, exc.mark.column + 1, "",
                                       exc.message, exc.hint)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(str(exc.problem or "unreadable").split())
        if exc.context:
            problem = f"{' '.join(exc.context.split())}, {problem}"
        raise InvalidInput([Diagnostic(filename, line, col, "", f"YAML syntax error: {problem}",
                                       "check indentation, colons and quotes on this line")]) from None
    except yaml.reader.ReaderError as exc:
        line, col = _line_col(text, exc.position)
        raise InvalidInput([Diagnostic(filename, line, col, "",
                                       f"the file contains a control character "
                                       f"(U+{exc.character:04X}), which YAML does not allow",
                                       "save it as plain UTF-8 text")]) from None
    except yaml.YAMLError as exc:
        raise InvalidInput([Diagnostic(filename, 0, 0, "", "not readable as YAML: "
                                       + excerpt(" ".join(str(exc).split()), 80))]) from None
    finally:
        if loader is not None:
            loader.dispose()
    positions: Positions = {}
    if not nodes:
        return None, positions
    converter = _Converter(filename, positions)
    data = converter.convert(nodes[0], ())
    if converter.errors:
        raise InvalidInput(converter.errors)
    return data, positions


def _line_col(text: str, position: int) -> Tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1


class _Converter:
    """Node tree -> plain data and positions; counts values so aliases cannot multiply
    a small file into a huge document, and refuses an alias that contains itself."""

    def __init__(self, filename: str, positions: Positions):
        self.filename, self.positions = filename, positions
        self.errors: List[Diagnostic] = []
        self.values = 0
        self.open: set = set()  # ids of the collection nodes being converted (cycles)

    def error(self, node: yaml.Node, path: Path, message: str, hint: str = "") -> None:
        self.errors.append(Diagnostic(self.filename, node.start_mark.line + 1,
                                      node.start_mark.column + 1, format_path(path), message,
                                      hint))

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            if self.values == MAX_VALUES + 1:
                self.error(node, path, f"more than {MAX_VALUES} values (with aliases "
                                       "expanded)", "is an alias (*name) repeated many times?")
            return None
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            self.error(node, path, "an alias refers to a value that contains it",
                       "an anchored value cannot include itself")
            return None
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.convert(child, path + (i,)) for i, child in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, path: Path) -> Dict[Any, Any]:
        result: Dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, path, "a key must be a plain word, not a list or mapping")
                continue
            if key_node.tag == "tag:yaml.org,2002:str" and key_node.value == "<<" \
                    and key_node.style is None:
                self.error(key_node, path, "merge keys (<<) are not supported",
                           "write the keys out where they are needed")
                continue
            reported = len(self.errors)
            key = self.scalar(key_node, path)
            if len(self.errors) > reported:
                continue  # a refused key, already reported
            if key in result:
                self.error(key_node, path + (key,), f"duplicate key '{excerpt(key)}'",
                           "each key may appear once")
                continue
            self.positions[path + (key, "<key>")] = (key_node.start_mark.line + 1,
                                                     key_node.start_mark.column + 1)
            result[key] = self.convert(value_node, path + (key,))
        return result

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        """The value of a plain scalar by YAML's safe rules (int, float, bool, null, str)."""
        tag = node.tag
        if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            if len(node.value) > MAX_NUMBER_CHARS:
                self.error(node, path, f"a number longer than {MAX_NUMBER_CHARS} characters",
                           "write a smaller number")
                return None
            value = _CONSTRUCTOR.construct_object(node)
            if isinstance(value, float) and not math.isfinite(value):
                self.error(node, path, f"'{excerpt(node.value)}' is not a finite number",
                           ".nan and .inf are not allowed; write a number")
                return None
            return value
        if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"):
            return _CONSTRUCTOR.construct_object(node)
        return node.value  # str (and anything a resolver might add: kept as text)


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def position_of(positions: Positions, path: Path) -> Tuple[int, int]:
    """Position of the deepest known prefix of `path` (pydantic may point below a scalar)."""
    for end in range(len(path), -1, -1):
        if path[:end] in positions:
            return positions[path[:end]]
    return (0, 0)
