"""Overlay deployments: agent processes in host namespaces (one per member host, or
`instances` of them), started and stopped by the contract in overlays/README.md.

Each agent runs `python -m <module> --config <file>` in its host (the underlay's
`spawn`: in the host's namespace, in its own session), with the repository on
PYTHONPATH. Its config file says who it is, who its peers are, its parameters (validated
by the overlay's spec, defaults filled in), where to write its JSON lines, its seed and
T=0. Stopping sends SIGTERM and waits 2 s (the
contract); an agent still alive then is killed and the breach is logged. Stopping is two
steps so the timeline never waits for agents to exit: `signal()` sends SIGTERM and
returns, `reap()` (at the end of the trial, or before the overlay starts again) waits
out the 2 s and reports how long the agents took; what is left then is killed with its
whole process group (daemons an agent started included).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from ..control import policy
from ..control.routes import forwarding_tables
from ..measure.paths import one_way
from ..model.network import Network
from .overlays import agents, members, params_of, spec_of
from .schema import Overlay

STOP_GRACE_S = 2.0
# (agent argv, its config file, its output file) -> the argv to run instead
AgentWrap = Callable[[List[str], Path, Path], List[str]]
REPO = Path(__file__).resolve().parents[2]


def agent_record(net: Network, agent: Any) -> Dict[str, Any]:
    """An agent as the config names it (itself and its peers): its host, and which of
    the host's agents it is, with the shift of its ports."""
    host = net.hosts[agent.host]
    return {"name": agent.host, "ip": host.ip, "asn": host.asn,
            "instance": agent.instance, "port_shift": agent.port_shift}


def as_hops(net: Network, names: List[str]) -> Dict[str, Dict[str, int]]:
    """AS hops of the underlay's policy route from each member's AS to each other's (the
    topology with every link up): what an AS-aware overlay would learn from BGP."""
    return {a: {b: len(path) - 1 for b, path in row.items()}
            for a, row in as_paths(net, names).items()}


def as_paths(net: Network, names: List[str]) -> Dict[str, Dict[str, List[int]]]:
    """The underlay's policy AS paths (ASNs, both ends included) between the members'
    ASes, with every link up."""
    routes = policy.compute(policy.ASGraph.from_network(net))
    asns = sorted({net.hosts[n].asn for n in names})
    out: Dict[str, Dict[str, List[int]]] = {}
    for a in asns:
        row = out[str(a)] = {}
        for b in asns:
            path = routes.path(routes.graph.index(a), routes.graph.index(b))
            if path is not None:
                row[str(b)] = path
    return out


def underlay_view(net: Network, names: List[str]) -> Dict[str, Any]:
    """What a spec with `underlay_view` gets (a file named by `underlay` in the config):
    the AS paths between members' ASes and the configured RTT between members (the
    one-way delays of the links there and back, routes as with every link up) — the
    delays a model of the overlay's latency starts from."""
    tables = forwarding_tables(net)
    rtt: Dict[str, Dict[str, float]] = {}
    for a in names:
        row = rtt[a] = {}
        for b in names:
            there, back = one_way(net, tables, a, b), one_way(net, tables, b, a)
            if a != b and there is not None and back is not None:
                row[b] = round(there.delay_ms + back.delay_ms, 3)
    return {"as_paths": as_paths(net, names), "rtt_ms": rtt}


class Deployment:
    """One overlay's agents in one trial."""

    def __init__(self, overlay: Overlay, net: Network, directory: Path, seed: str, t0: float):
        self.overlay, self.net, self.dir = overlay, net, directory
        self.seed, self.t0 = seed, t0
        self.procs: Dict[str, subprocess.Popen] = {}
        self.signalled: Optional[float] = None

    @property
    def running(self) -> bool:
        return bool(self.procs) and self.signalled is None

    def start(self, spawn: Callable[..., subprocess.Popen],
              wrap: Optional["AgentWrap"] = None) -> List[int]:
        """Start every member's agent with `spawn` (UnderlayAPI.spawn); returns the PIDs.
        `wrap` (the grader's sandbox) turns each agent's command into a confined one."""
        self.dir.mkdir(parents=True, exist_ok=True)
        names = members(self.overlay, self.net)
        params = params_of(self.overlay).model_dump(mode="json")
        hops = as_hops(self.net, names)
        view: Dict[str, Any] = {}
        if spec_of(self.overlay.module).underlay_view:
            view_path = self.dir / "underlay.json"
            view_path.write_text(json.dumps(underlay_view(self.net, names)))
            view = {"underlay": str(view_path)}
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]), "PYTHONUNBUFFERED": "1"}
        everyone = agents(self.overlay, self.net)
        records = {a.label: agent_record(self.net, a) for a in everyone}
        for agent in everyone:
            name = agent.label
            config = {"overlay": self.overlay.name, "host": records[name],
                      "peers": [r for label, r in records.items() if label != name],
                      "params": params, "output": str(self.dir / f"{name}.jsonl"),
                      "seed": f"{self.seed}:{name}", "t0": self.t0, "as_hops": hops, **view}
            config_path = self.dir / f"{name}.config.json"
            config_path.write_text(json.dumps(config, indent=2))
            log = open(self.dir / f"{name}.log", "ab")
            argv = [sys.executable, "-m", self.overlay.module, "--config", str(config_path)]
            if wrap is not None:
                argv = wrap(argv, config_path, Path(config["output"]))
            self.procs[name] = spawn(agent.host, argv, stdout=log, stderr=log, env=env,
                                     cwd=str(REPO))
            log.close()
        return [p.pid for p in self.procs.values()]

    def exited_early(self) -> Dict[str, int]:
        """Agents that have exited while they should run: host -> exit code."""
        return {h: p.returncode for h, p in self.procs.items() if p.poll() is not None}

    def signal(self) -> None:
        """SIGTERM to every agent; returns at once."""
        self.signalled = time.monotonic()
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def reap(self) -> Dict[str, Any]:
        """Wait until 2 s after the SIGTERM, kill what is left; returns {took_s: when the
        last agent was gone after the signal, killed: [hosts]}."""
        if self.signalled is None:
            self.signal()
        assert self.signalled is not None
        killed, last = [], 0.0
        for host, proc in self.procs.items():
            try:
                proc.wait(max(0.0, STOP_GRACE_S - (time.monotonic() - self.signalled)))
                last = max(last, time.monotonic() - self.signalled)
            except subprocess.TimeoutExpired:
                try:  # the agent leads its own session: its group holds what it started
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    proc.kill()
                proc.wait()
                killed.append(host)
                last = STOP_GRACE_S
        self.procs.clear()
        self.signalled = None
        return {"took_s": round(last, 3), "killed": killed}
