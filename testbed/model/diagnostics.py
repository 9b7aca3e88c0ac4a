"""Diagnostics a user can act on: `file:line:col: path: message (hint)`.

Every error a user can cause in an input file ends up as a `Diagnostic`; all of a file's
diagnostics are collected and raised together in one `InvalidInput`, so a user fixes a
file in one pass instead of one error per run.
"""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

MAX_MESSAGE = 240  # characters of one message, path or hint: never a file's content


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int  # 1-based; 0 when the position is unknown
    col: int  # 1-based
    path: str  # dotted location inside the document, e.g. "ases[1].routers[0]"
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}" if self.line else self.file
        text = f"{printable(where)}: {printable(self.path) or '<document>'}: " \
               f"{printable(self.message)}"
        return f"{text} (hint: {printable(self.hint)})" if self.hint else text


class InvalidInput(Exception):
    """Raised with every diagnostic of one input; the CLI prints them and exits 2."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def printable(text: str, limit: int = MAX_MESSAGE) -> str:
    """`text` safe for a terminal: control and other invisible characters escaped (a file
    must not be able to move the cursor or change colours), at most `limit` characters."""
    out = "".join(ch if ch == " " or unicodedata.category(ch)[0] not in "CZ"
                  else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def excerpt(value: Any, limit: int = 32) -> str:
    """A short, printable excerpt of a value taken from a user's file, for a message."""
    return printable(str(value), limit)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint for a misspelt key or name, or "" when nothing is close."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def format_path(parts: Sequence[object]) -> str:
    """("ases", 1, "routers") -> "ases[1].routers"."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out

