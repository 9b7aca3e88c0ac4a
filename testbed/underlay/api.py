"""The underlay as the layers above it see it: one typed interface.

The experiment runner, workloads, overlay deployments and the measurements use a running
network only through these calls, never through its parts (Mininet, the controller, the
link emulator, the run-state file). `emulation.Underlay` implements it on real Mininet;
tests/unit/fake_underlay.py implements it without root, so the runner's logic is tested
in seconds.
"""
from __future__ import annotations

import subprocess
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

from typing_extensions import Protocol

from ..control.state import RoutingState
from ..model.network import LinkProps, Network


class UnderlayAPI(Protocol):
    link_backend: str  # netem | userspace (resolved at start)
    datapath: Optional[str]  # OVS's: user | kernel (resolved at start)
    dataplane: str  # openflow | linux
    dataplane_reason: str  # why that one
    timings: Dict[str, float]  # seconds: build, switches_started, routes_installed, teardown
    link_props: Dict[int, LinkProps]  # link index -> its properties now

    @property
    def net(self) -> Network:
        """The network as the controller runs it now (policy changes applied)."""

    def start(self) -> None:
        """Bring it up; returns once every route is installed (T=0 of a trial)."""

    def stop(self) -> None:
        """Tear everything down; idempotent, safe after a partial start."""

    def preflight(self) -> None:
        """Raise UnderlayError (one clear message) if this machine cannot run it now."""

    # --- hosts ---------------------------------------------------------------------------
    def spawn(self, host: str, argv: Sequence[str], *, stdout: IO[Any], stderr: IO[Any],
              env: Dict[str, str], cwd: str) -> subprocess.Popen:
        """Start a process in the host's namespace, in its own session; its PID is
        recorded so that `testbed clean` can end it after a kill -9 of the harness."""

    def run(self, host: str, command: str) -> str:
        """Run a shell command in the host's namespace; its output."""

    def prober(self, host: str) -> Any:
        """The host's probe process (measure.probes.Prober), started on first use."""

    # --- changes while it runs -----------------------------------------------------------
    def set_link(self, a: str, b: str, up: bool) -> None: ...

    def set_link_params(self, a: str, b: str, **changes: Optional[float]) -> LinkProps: ...

    def set_router(self, name: str, up: bool) -> None: ...

    def set_policy(self, asn: int, policy: Dict[str, Any]) -> None: ...

    def set_classes(self, classes: Dict[str, Sequence[int]]) -> None:
        """Traffic classes: overlay deployment -> its ports (linkemu.classes)."""

    def police(self, a: str, b: str, cls: str, rate_mbit: Optional[float]) -> None:
        """Throttle class `cls` on the links between a and b (0: block; None: lift)."""

    # --- what it knows -------------------------------------------------------------------
    def routing_state(self) -> RoutingState:
        """The controller's current view: links down, BGP's converged choice, tables."""

    def controller_events(self) -> List[Dict[str, Any]]:
        """What the controller reported so far (`t` wall-clock seconds, `event`, ...)."""

    def emulator_seconds(self) -> Optional[List[Tuple[float, float]]]:
        """(busy, CPU) seconds of each process of the userspace link emulator so far: busy
        is the time spent on frames, not polling for them (None: no emulator; see
        fidelity.emulator_shares)."""

    def dataplane_window(self) -> Optional[Dict[str, Any]]:
        """What the link emulator did since the last call: {"links": {id: its
        linkemu.window summary, for links that forwarded or lost frames}, "processes":
        [(busy, CPU) seconds so far, per emulator process]}; None where the back end
        cannot tell (netem)."""

    def link_counters(self) -> Dict[int, Any]:
        """Link index -> the kernel's counters of what crossed it (measure.counters.Count:
        tx is a -> b, rx b -> a), for every link whose interfaces are up."""

    def class_counters(self) -> Dict[int, Dict[str, Any]]:
        """Inter-AS link index -> {class: [bytes a -> b, bytes b -> a]} (userspace
        emulator only; empty where not measured)."""
