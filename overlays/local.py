"""Run one overlay deployment's agents as local processes on loopback addresses
(127.N.0.2: one /16 each, as members of different ASes), with no underlay: for benchmarks
(bench/cdn.py, bench/onion.py) and the tests of an overlay's protocol machinery, which
need real sockets but not the emulated Internet. Each member gets the config file the
experiment runner would write (overlays/README.md); `underlay`, when given, is the
underlay view an overlay whose spec asks for one reads (AS paths, configured RTTs), made
up by the test. `instances` runs several agents per member (the overlay's spec must allow
it), named and shifted as the runner does: `member@k`, ports + k × the spec's stride."""
from __future__ import annotations

import importlib
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
                 seed: str = "1", underlay: Optional[Dict[str, Any]] = None,
                 instances: int = 1):
        self.module, self.params, self.folder, self.seed = module, params, folder, seed
        self.underlay = underlay
        stride = importlib.import_module(module).SPEC.instance_stride
        assert instances == 1 or stride, f"{module} runs one agent per host"
        self.labels: List[str] = []
        self.hosts: List[Dict[str, Any]] = []
        for i, name in enumerate(members):
            for k in range(instances):
                self.labels.append(name if instances == 1 else f"{name}@{k}")
                self.hosts.append({"name": name, "ip": f"127.{i + 1}.0.2", "asn": 100 + i,
                                   "instance": k, "port_shift": k * stride})
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self) -> "LocalDeployment":
        self.folder.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        view: Dict[str, Any] = {}
        if self.underlay is not None:
            (self.folder / "underlay.json").write_text(json.dumps(self.underlay))
            view = {"underlay": str(self.folder / "underlay.json")}
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        for name, host in zip(self.labels, self.hosts):
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
        for name, host in zip(self.labels, self.hosts):
            path = self.folder / f"{name}.jsonl"
            if path.exists():
                who = {"host": host["name"], **({"instance": host["instance"]}
                                                 if "@" in name else {})}
                out += [{**json.loads(line), **who}
                        for line in path.read_text().splitlines() if line.strip()]
        return out

    def __enter__(self) -> "LocalDeployment":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
