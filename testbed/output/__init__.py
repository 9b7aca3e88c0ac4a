"""Everything the `testbed` command shows a person, in one layer above the others: the
layers below return data; this layer prints it on the consoles it is given.

`Output` is made once per command from its arguments. `out` is what the command was asked
for (tables, or with `--json` the JSON alone, so a program can read stdout); `err` takes
errors, progress and status lines.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console


@dataclass
class Output:
    out: Console
    err: Console
    json: bool = False

    @classmethod
    def make(cls, json_mode: bool = False) -> "Output":
        err = Console(stderr=True)
        # with --json, everything a person reads goes to stderr
        return cls(err if json_mode else Console(), err, json_mode)

    def emit(self, data: Any) -> None:
        """One JSON document (or line) on stdout, unformatted."""
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    def error(self, message: str, hint: str = "") -> None:
        self.err.print(f"[bold red]error:[/] {message}" + (f"\n  hint: {hint}" if hint else ""),
                       highlight=False)
