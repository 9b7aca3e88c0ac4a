"""One run's directory, `results/<experiment>/<timestamp>/`, written as the run goes so that
a crash, Ctrl-C or kill -9 leaves a readable partial run:

    manifest.json     inputs (copies + sha256), resolved configuration, seed, versions,
                      capabilities, link back end, fidelity, times, status, complete
    inputs/           the experiment file, its topology, the topology as run
    events.jsonl      every action (planned and actual time) and what the harness saw
    measurements/     trial-<k>/<workload>.jsonl, one probe per line, flushed per line
    overlays/         trial-<k>/<overlay>/<host>.jsonl (the agents write these) and logs
    metrics.json      per trial and across trials, expectations checked
    plots/*.png, report.md, report.html

The manifest is written first with `complete: false, status: running` and rewritten at the
end; a run killed with -9 keeps `running` (readers treat any non-complete run as partial).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Dict, Optional

PACKAGES = ("testbed", "ryu", "os-ken", "eventlet", "scapy", "pydantic", "pyyaml", "numpy",
            "matplotlib", "rich")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _first_line(cmd: list) -> Optional[str]:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.splitlines()[0].strip() if out.strip() else None


def versions() -> Dict[str, Any]:
    try:
        from mininet.net import VERSION as mininet_version
    except ImportError:
        mininet_version = None
    repo = Path(__file__).resolve().parents[2]
    return {"kernel": platform.release(), "os": _first_line(["sh", "-c", ". /etc/os-release; "
                                                                       "echo $PRETTY_NAME"]),
            "python": platform.python_version(), "ovs": _first_line(["ovs-vswitchd", "--version"]),
            "mininet": mininet_version,
            "git_commit": _first_line(["git", "-C", str(repo), "rev-parse", "HEAD"]),
            "git_dirty": bool(_first_line(["git", "-C", str(repo), "status", "--porcelain"])),
            "packages": {p: v for p in PACKAGES if (v := _version(p))}}


class RunDir:
    def __init__(self, root: Path, experiment: str, started: Optional[datetime] = None):
        started = started or datetime.now(timezone.utc)
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        path = root / experiment / stamp
        n = 1
        while path.exists():  # two runs in one second
            n += 1
            path = root / experiment / f"{stamp}-{n}"
        self.path = path
        (path / "inputs").mkdir(parents=True)
        self.manifest: Dict[str, Any] = {"experiment": experiment, "complete": False,
                                         "status": "running", "started": started.isoformat(),
                                         "ended": None, "pid": os.getpid()}
        self._lock = threading.Lock()
        self._events = open(path / "events.jsonl", "a", encoding="utf-8")
        self._files: Dict[Path, IO[str]] = {}

    def add_input(self, role: str, name: str, data: bytes, source: Optional[str] = None) -> None:
        (self.path / "inputs" / name).write_bytes(data)
        self.manifest.setdefault("inputs", {})[role] = {
            "file": f"inputs/{name}", "source": source, "sha256": sha256(data)}

    def write_manifest(self, **fields: Any) -> None:
        """Update fields and rewrite manifest.json atomically."""
        self.manifest.update(fields)
        tmp = self.path / "manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=2, default=str) + "\n")
        os.replace(tmp, self.path / "manifest.json")

    def event(self, **fields: Any) -> Dict[str, Any]:
        record = {"wall": round(time.time(), 6), **fields}
        with self._lock:
            self._events.write(json.dumps(record, default=str) + "\n")
            self._events.flush()
        return record

    def append(self, relative: str, record: Dict[str, Any]) -> None:
        """One JSON line to a measurement file, flushed (a crash loses nothing)."""
        path = self.path / relative
        with self._lock:
            out = self._files.get(path)
            if out is None:
                path.parent.mkdir(parents=True, exist_ok=True)
                out = self._files[path] = open(path, "a", encoding="utf-8")
            out.write(json.dumps(record) + "\n")
            out.flush()

    def mark_ended(self) -> None:
        """The trials are over (the report, made next, shows this time)."""
        self.write_manifest(ended=datetime.now(timezone.utc).isoformat())

    def finish(self, status: str) -> None:
        with self._lock:
            for out in self._files.values():
                out.close()
            self._files.clear()
        if not self.manifest.get("ended"):
            self.mark_ended()
        self.write_manifest(status=status, complete=status == "complete")
        self._events.close()


def read_jsonl(path: Path) -> list:
    """Records of a JSON-lines file; a last line cut by a crash is skipped."""
    out = []
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out

