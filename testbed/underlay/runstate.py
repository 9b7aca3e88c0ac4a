"""A registry of what each run created, so `testbed clean` removes exactly that.

Before creating anything a run writes /run/testbed/<pid>.json with the names it is about
to create (bridges, interfaces) and, as they start, the PIDs of its processes. A run
that ends normally deletes its file; a killed run leaves it, and `clean` undoes it.
(Not /tmp: `mn -c` wipes files there.)
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

from ..process import proc_stat_fields

STATE_DIR = Path(os.environ.get("TESTBED_STATE_DIR", "/run/testbed"))


class RunState:
    def __init__(self, topology: str, bridges: List[str], interfaces: List[str],
                 setup: Dict[str, Any]):
        self.path = STATE_DIR / f"{os.getpid()}.json"
        self.data: Dict[str, Any] = {"pid": os.getpid(), "started": time.time(),
                                     "topology": topology, "setup": setup, "bridges": bridges,
                                     "interfaces": interfaces, "pids": []}
        self._write()

    def add_pids(self, *pids: int) -> None:
        self.data["pids"].extend(p for p in pids if p)
        self._write()

    def _write(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        os.replace(tmp, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """Running, not just an unreaped zombie (a killed run's children wait for PID 1)."""
    fields = proc_stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def leftovers(include_live: bool = False) -> Iterator[Dict[str, Any]]:
    """State of runs whose owner process is gone (or all runs with include_live)."""
    if not STATE_DIR.is_dir():
        return
    for path in sorted(STATE_DIR.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if include_live or not pid_alive(int(data.get("pid", 0))):
            data["_path"] = str(path)
            yield data


def stale_work_dirs() -> List[Path]:
    """Work directories (the controller's log) of runs that are gone."""
    if not STATE_DIR.is_dir():
        return []
    return [p for p in sorted(STATE_DIR.iterdir())
            if p.is_dir() and p.name.isdigit() and not pid_alive(int(p.name))]
