"""Run one overlay deployment's agents as local processes on loopback addresses
(127.N.0.2: one /16 each, as members of different ASes), with no underlay: for benchmarks
(bench/cdn.py, bench/onion.py) and the tests of an overlay's protocol machinery, which
need real sockets but not the emulated Internet. Each member gets the config file the
experiment runner would write (overlays/README.md); `underlay`, when given, is the
underlay view an overlay whose spec asks for one reads (AS paths, configured RTTs), made
up by the test."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]


class LocalDeployment:
    def __init__(self, module: str, params: Dict[str, Any], members: List[str], folder: Path,
                 seed: str = "1", underlay: Optional[Dict[str, Any]] = None):
        self.module, self.params, self.folder, self.seed = module, params, folder, seed
        self.underlay = underlay
        self.hosts = [{"name": name, "ip": f"127.{i + 1}.0.2", "asn": 100 + i}
                      for i, name in enumerate(members)]
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self) -> "LocalDeployment":
        self.folder.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        view: Dict[str, Any] = {}
        if self.underlay is not None:
            (self.folder / "underlay.json").write_text(json.dumps(self.underlay))
            view = {"underlay": str(self.folder / "underlay.json")}
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        for host in self.hosts:
            name = host["name"]
            config = {"overlay": self.module.rsplit(".", 1)[-1], "host": host,
                      "peers": [h for h in self.hosts if h is not host],
                      "params": self.params, "output": str(self.folder / f"{name}.jsonl"),
                      "seed": f"{self.seed}:{name}", "t0": t0, "as_hops": {}, **view}
            path = self.folder / f"{name}.config.json"
            path.write_text(json.dumps(config))
            log = open(self.folder / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", self.module, "--config", str(path)], stdout=log,
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

    def __enter__(self) -> "LocalDeployment":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
