"""Run one CDN deployment's agents as local processes on loopback addresses (127.0.0.x),
with no underlay: for the benchmark (bench/cdn.py) and the tests of the HTTP, DNS and
cache machinery, which need real sockets but not the emulated Internet. Each member gets
the same config file the experiment runner would write (overlays/README.md)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[2]


class LocalCdn:
    def __init__(self, params: Dict[str, Any], members: List[str], folder: Path,
                 seed: str = "1"):
        self.params, self.folder, self.seed = params, folder, seed
        self.hosts = [{"name": name, "ip": f"127.0.0.{i + 2}", "asn": 100 + i}
                      for i, name in enumerate(members)]
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self) -> "LocalCdn":
        self.folder.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        for host in self.hosts:
            name = host["name"]
            config = {"overlay": "cdn", "host": host, "peers": [h for h in self.hosts
                                                                if h is not host],
                      "params": self.params, "output": str(self.folder / f"{name}.jsonl"),
                      "seed": f"{self.seed}:{name}", "t0": t0, "as_hops": {}}
            path = self.folder / f"{name}.config.json"
            path.write_text(json.dumps(config))
            log = open(self.folder / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "overlays.cdn", "--config", str(path)], stdout=log,
                stderr=log, env=env, cwd=str(REPO), start_new_session=True)
            log.close()
        return self

    def ip(self, name: str) -> str:
        return next(h["ip"] for h in self.hosts if h["name"] == name)

    def stop(self) -> float:
        """SIGTERM to every agent; returns the seconds the slowest took (killed after 2)."""
        began = time.monotonic()
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(max(0.0, 2.0 - (time.monotonic() - began)))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        return time.monotonic() - began

    def records(self) -> List[Dict[str, Any]]:
        out = []
        for host in self.hosts:
            path = self.folder / f"{host['name']}.jsonl"
            if path.exists():
                out += [{**json.loads(line), "host": host["name"]}
                        for line in path.read_text().splitlines() if line.strip()]
        return out

    def __enter__(self) -> "LocalCdn":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
