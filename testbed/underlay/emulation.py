"""`Underlay`: a Network brought up in Mininet, routed by the controller, torn down.

Bring-up overlaps the slow parts: the controller process starts (Python + Ryu import; the
Linux routers' computes every route table) while Mininet creates hosts and links, whose
node shells start side by side and whose hosts take one command each (`nodes`); the Linux
routers' routes go in while the link emulator starts; switches are created in one OVS
transaction (`OVSSwitch(batch=True)`, as with the userspace datapath every bridge added
reconfigures all of them), and `start()` returns only once the controller reports every
route installed (flows barrier-confirmed). Teardown is ours, not Mininet's (see `teardown`).
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import threading
import time
from functools import partial
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..control.kernelplan import interface_name
from ..control.state import RoutingState
from ..measure.probes import ProbeFleet
from ..model.loader import parse_topology, replace_policy
from ..model.network import Link, LinkProps, Network
from . import capabilities, runstate, teardown
from .controller import ControllerProcess, KernelControllerProcess, event_named
from .linkemu.names import emulator_ends
from .linkemu.process import LinkEmulator, default_processes
from .linkemu.shaper import Params
from .linkemu.vnet import GSO_MAX_SEGS


class UnderlayError(RuntimeError):
    """A run could not start; the message says why and how to fix it."""


def host_intf(net: Network, host: str) -> str:
    return f"tbh{net.hosts[host].index + 1}"


def link_ends(net: Network, link: Link) -> Tuple[Tuple[str, str], Tuple[str, str]]:
    """(node, interface) at the link's a end and at its b end."""
    a = host_intf(net, link.a) if link.kind == "access" else \
        interface_name(net, link.a, link.a_port)
    return (link.a, a), (link.b, interface_name(net, link.b, link.b_port))


def tc_params(props: LinkProps) -> Dict[str, Any]:
    """Mininet TCLink parameters (netem back end: htb for rate, netem for the rest)."""
    params: Dict[str, Any] = {}
    if props.bandwidth_mbit:
        params["bw"] = props.bandwidth_mbit
    if props.delay_ms:
        params["delay"] = f"{props.delay_ms}ms"
    if props.jitter_ms:
        params["jitter"] = f"{props.jitter_ms}ms"
    if props.loss_pct:
        params["loss"] = props.loss_pct
    return params


def shaper_params(props: LinkProps) -> Dict[str, Any]:
    """Userspace emulator parameters (shaper.Params fields)."""
    return {"delay_ms": props.delay_ms or 0.0, "jitter_ms": props.jitter_ms or 0.0,
            "loss_pct": props.loss_pct or 0.0, "rate_mbit": props.bandwidth_mbit}


class Underlay:
    def __init__(self, net: Network, *, controller_port: Optional[int] = None,
                 datapath: Optional[str] = None, work_dir: Optional[Path] = None,
                 convergence_delay_ms: Optional[float] = None,
                 link_backend: Optional[str] = None, dataplane: Optional[str] = None,
                 emulator_processes: Optional[int] = None):
        self.base_net = net  # as started; `net` is the network with policy changes applied
        self.controller_port = controller_port
        self.datapath = datapath
        self.work_dir = work_dir or runstate.STATE_DIR / str(os.getpid())
        self.convergence_delay_ms = convergence_delay_ms  # None: the topology's
        self.mn: Any = None
        self.controller: Optional[Any] = None  # ControllerProcess or KernelControllerProcess
        self.state: Optional[runstate.RunState] = None
        self.timings: Dict[str, float] = {}
        self.link_backend = link_backend or net.link_backend  # resolved at start
        # openflow | linux, and why (capabilities.dataplane), resolved at construction
        self.dataplane, self.dataplane_reason = capabilities.dataplane(dataplane or net.dataplane)
        self.link_props: Dict[int, LinkProps] = {l.index: l.props for l in net.links}
        self.emulator: Optional[LinkEmulator] = None
        self.emulator_processes = emulator_processes  # None: linkemu.process default
        self.fleet: Optional[ProbeFleet] = None  # started by the first prober()
        self._fleet_lock = threading.Lock()
        self._counters: Optional[Any] = None  # measure.counters.LinkCounters, on first use
        self._policy_nets: List[Network] = []  # set_policy's networks, in order
        self.classes: Dict[str, List[int]] = {}  # traffic class -> its ports (set_classes)
        self.policed: Dict[int, Set[str]] = {}  # link index -> classes policed on it (police)
        self.segmented: Set[int] = set()  # links carrying no GSO frames (_segment)

    # --- life cycle ------------------------------------------------------------------
    def __enter__(self) -> "Underlay":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def net(self) -> Network:
        """The network as the controller runs it now: each `policy_applied` event it
        reported makes the next of set_policy's networks current."""
        applied = sum(1 for e in self.controller_events() if e.get("event") == "policy_applied")
        if applied and self._policy_nets:
            return self._policy_nets[min(applied, len(self._policy_nets)) - 1]
        return self.base_net

    def preflight(self) -> None:
        """Everything a start needs that can be checked without building anything: root,
        Mininet, OVS, a free controller port, and no other run using the same names."""
        if not Path(self.net.source).is_file():
            raise UnderlayError(f"the controller loads the topology from its file, and "
                                f"'{self.net.source}' is not one; load it with load_topology()")
        if not capabilities.is_root():
            raise UnderlayError("building a network needs root (namespaces, veth pairs, OVS); "
                                "run it with sudo")
        if not shutil.which("mnexec"):
            raise UnderlayError("mnexec is missing; install it with: apt-get install mininet "
                                f"(or run {capabilities.SETUP})")
        if self.dataplane == "openflow" and not capabilities.ovs_running():
            raise UnderlayError("Open vSwitch is not running; start it with: "
                                f"{capabilities.OVS_START}")
        if self.controller_port and not capabilities.port_free(self.controller_port):
            raise UnderlayError(f"controller port {self.controller_port} is in use; "
                                "leave --controller-port out to pick a free one, or run "
                                "'testbed clean' if a killed run left a controller")
        self._check_names_free(*self._names())

    def _names(self) -> "tuple[List[str], List[str]]":
        """The bridges and the interfaces a run of this network creates (names are global
        to the machine)."""
        net = self.base_net
        bridges = sorted(net.routers) if self.dataplane == "openflow" else []
        if self._choose_backend() == "userspace":
            # deleting the emulator's root-side end of each veth pair removes the pair, so
            # these names alone reach every interface of the run
            interfaces = [end for link in net.links for end in emulator_ends(link.index)]
        elif self.dataplane == "openflow":
            interfaces = [interface_name(net, i.router, i.port) for i in net.interfaces.values()] + \
                         [host_intf(net, h) for h in net.hosts]
        else:  # every interface is inside a router's or a host's namespace
            interfaces = []
        return bridges, interfaces

    def start(self, timeout: float = 180) -> None:
        """Bring everything up; on any failure (Ctrl-C included) undo what was done, keeping
        the controller's log for the error message that points to it."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop(keep_logs=True)
            raise

    def _start(self, timeout: float) -> None:
        started = time.monotonic()
        self.preflight()
        self.datapath = self.datapath or capabilities.datapath()
        self.link_backend = self._choose_backend()
        net = self.base_net
        bridges, interfaces = self._names()
        self.state = runstate.RunState(net.name, bridges, interfaces,
                                       {"datapath": self.datapath, "links": self.link_backend,
                                        "dataplane": self.dataplane})
        self.work_dir.mkdir(parents=True, exist_ok=True)
        # the controller loads a copy: a policy change rewrites it, never the user's file
        self.topology_file = self.work_dir / "topology.yaml"
        shutil.copyfile(net.source, self.topology_file)
        log = self.work_dir / "controller.log"
        if self.dataplane == "openflow":
            port = self.controller_port or capabilities.free_port()
            self.controller = ControllerProcess(self.topology_file, port, log,
                                                self.convergence_delay_ms)
            self.state.add_pids(self.controller.pid)
            self._build(port)
            self.timings["build"] = time.monotonic() - started
            self.controller.wait_listening(timeout=30)
        else:
            self.controller = KernelControllerProcess(self.topology_file, log,
                                                      self.convergence_delay_ms)
            self.state.add_pids(self.controller.pid)
            self._build(None)
            self.timings["build"] = time.monotonic() - started
        self.mn.start()
        self.timings["switches_started"] = time.monotonic() - started
        self.controller.wait_for(event_named("routes_installed"), timeout)
        self.timings["routes_installed"] = time.monotonic() - started

    def _build(self, port: Optional[int]) -> None:
        """Mininet nodes and links: routers are OVS switches under the controller at
        `port` (openflow), or hosts whose namespaces forward (linux, `port` None)."""
        from mininet.link import TCLink
        from mininet.net import Mininet
        from mininet.node import OVSSwitch, RemoteController

        from .linkemu.link import EmulatedLink
        from .nodes import EndHost, LinuxRouter

        class Controller(RemoteController):
            """Our controller is started by us; skip Mininet's telnet-based probe."""

            def checkListening(self) -> None:
                return

        net = self.net
        self.mn = Mininet(topo=None, build=False, controller=None, autoSetMacs=False,
                          switch=partial(OVSSwitch, batch=True, datapath=self.datapath,
                                         protocols="OpenFlow13", failMode="secure"),
                          listenPort=None, waitConnected=False)
        if port is not None:
            self.mn.addController("c0", controller=Controller, ip="127.0.0.1", port=port)
            for name, router in net.routers.items():
                self.mn.addSwitch(name, dpid=router.dpid_hex)
        else:
            for name in net.routers:
                self.mn.addHost(name, cls=LinuxRouter)
        # veth TX checksum offload breaks TCP through a userspace OVS (docs/machines.md);
        # Linux routers and the emulator (linkemu.vnet) carry it, and with it TCP's
        # segmentation offload, which the emulator needs to reach 100 Mbit/s over 10 links.
        # netem would lose or delay a 64 KB GSO frame as one packet: off there too.
        userspace = self.link_backend == "userspace"
        gso = userspace and self.dataplane == "linux"
        for name, host in net.hosts.items():
            self.mn.addHost(name, cls=EndHost, ip=f"{host.ip}/{host.prefixlen}", mac=host.mac,
                            defaultRoute=f"via {host.gateway}", tx_offload=gso)
        for node in self.mn.hosts:  # every shell started: now their prompts
            node.wait_ready()
        if userspace:
            self._make_emulated_pairs()
        # a Linux router's interfaces are brought up by its controller (netlink), not one
        # shell command each: 1,900 commands, about 5 s, on internet-200; a host's by its
        # one configuring command (EndHost)
        router_end = {"up": None} if port is None and userspace else {}
        host_end = {"up": None}
        for link in net.links:
            if userspace:
                cls, params = EmulatedLink, {}
            else:
                # TCLink even without parameters: only its interfaces can take delay, loss
                # or a rate later (set_link_params); with none it adds no qdisc
                cls, params = TCLink, tc_params(link.props)
            if link.kind == "access":
                self.mn.addLink(link.a, link.b, port1=0, port2=link.b_port, cls=cls,
                                intfName1=host_intf(net, link.a),
                                intfName2=interface_name(net, link.b, link.b_port),
                                # emulated pairs get the host's MAC when they are made
                                addr1=None if userspace else net.hosts[link.a].mac,
                                params1=host_end, params2=router_end, **params)
            else:
                self.mn.addLink(link.a, link.b, port1=link.a_port, port2=link.b_port, cls=cls,
                                intfName1=interface_name(net, link.a, link.a_port),
                                intfName2=interface_name(net, link.b, link.b_port),
                                params1=router_end, params2=router_end, **params)
        self.mn.build()
        assert self.state is not None
        self.state.add_pids(*(node.pid for node in self.mn.hosts + self.mn.switches))
        if port is None:  # its routes go in while the emulator starts
            self.controller.routers({r: self.mn[r].pid for r in net.routers})
        if userspace:
            self._start_emulator()
        outputs = {host.name: host.wait_configured() for host in self.mn.hosts
                   if isinstance(host, EndHost)}
        failed = {name: out for name, out in outputs.items() if out}
        if failed:
            name, out = next(iter(failed.items()))
            raise UnderlayError(f"configuring {len(failed)} host(s) failed, e.g. {name}: "
                                f"{out[:200]}")

    @staticmethod
    def _check_names_free(bridges: List[str], interfaces: List[str]) -> None:
        """Bridge and interface names are global: a second run would collide with the first."""
        taken = set(os.listdir("/sys/class/net")) & (set(bridges) | set(interfaces))
        if not taken:
            return
        owners = [d for d in runstate.leftovers(include_live=True)
                  if taken & (set(d["bridges"]) | set(d["interfaces"]))]
        live = [d for d in owners if runstate.pid_alive(int(d["pid"]))]
        example = sorted(taken)[0]
        if live:
            raise UnderlayError(f"another run (pid {live[0]['pid']}, {live[0]['topology']}) uses "
                                f"the same router and interface names (e.g. {example}); stop it "
                                "first: one network at a time")
        raise UnderlayError(f"{len(taken)} interfaces or bridges of ours already exist "
                            f"(e.g. {example}), left by a killed run; remove them with "
                            "'testbed clean'")

    def _choose_backend(self) -> str:
        """netem where the kernel has it (auto), else the userspace emulator."""
        netem = capabilities.netem_available()
        if self.link_backend == "netem" and not netem:
            raise UnderlayError("links: netem was asked for, but this kernel has no sch_netem; "
                                "use 'userspace' (or 'auto'), e.g. --links userspace")
        if self.link_backend == "auto":
            return "netem" if netem else "userspace"
        return self.link_backend

    def _make_emulated_pairs(self) -> None:
        """Every emulated link's veth pairs in one `ip -batch` (see linkemu.link)."""
        from .linkemu.link import batch_commands
        net, lines = self.net, []
        self.segmented = {link.index for link in net.links if self._per_segment(link)}

        def netns(node: str) -> Optional[int]:
            """Where a node's end goes: a host's and a Linux router's interfaces in its own
            namespace, OVS ports in the root one."""
            return self.mn[node].pid if node in net.hosts or self.dataplane == "linux" else None
        for link in net.links:
            (a, intf_a), (b, intf_b) = link_ends(net, link)
            mac = net.hosts[a].mac if link.kind == "access" else None
            lines += batch_commands(link.index, intf_a, netns(a), intf_b, netns(b),
                                    link.index in self.segmented, mac)
        done = subprocess.run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", text=True,
                              capture_output=True)
        if done.returncode:
            raise UnderlayError(f"creating the links failed: {done.stderr.strip()[:300]}")

    def _start_emulator(self) -> None:
        specs = [{"id": link.index, "a": emulator_ends(link.index)[0],
                  "b": emulator_ends(link.index)[1], "params": shaper_params(link.props)}
                 for link in self.net.links]
        # The emulator processes poll while frames are in flight: leave a CPU to everything
        # else (hosts' programs, the kernel's forwarding; 2 polling processes on 2 CPUs
        # spread line-3as's RTTs by an IQR of 4-20 ms, 1 by under 1 ms), and another to
        # ovs-vswitchd's userspace datapath, which forwards every frame of the OpenFlow
        # plane in one busy thread (2 emulator processes beside it on 2 CPUs took TCP on
        # line-3as from 75-80 to 67-72 Mbit/s)
        ovs_busy = self.dataplane == "openflow" and self.datapath == "user"
        processes = self.emulator_processes or default_processes(reserved=2 if ovs_busy else 1)
        self.emulator = LinkEmulator(specs, self.work_dir, processes,
                                     poll_idle=capabilities.virtual_cpus())
        assert self.state is not None
        self.state.add_pids(*self.emulator.pids)
        self.emulator.wait_ready()

    def stop(self, keep_logs: bool = False) -> None:
        """Idempotent; safe after a partial start. keep_logs leaves the controller's log."""
        started = time.monotonic()
        if self.fleet is not None:
            self.fleet.stop()
            self.fleet = None
        if self.controller is not None:
            self.controller.stop()
        if self.state is not None:
            data = self.state.data
            teardown.remove_all(data["bridges"], data["interfaces"], data["pids"])
            if self.mn is not None:
                for node in self.mn.hosts + self.mn.switches + self.mn.controllers:
                    _close_shell(node)
            self.state.remove()
            self.state = None
            if not keep_logs:
                shutil.rmtree(self.work_dir, ignore_errors=True)
        self.mn = None
        self.timings["teardown"] = time.monotonic() - started

    # --- access and runtime changes -----------------------------------------------------
    def spawn(self, host: str, argv: Sequence[str], *, stdout: IO[Any], stderr: IO[Any],
              env: Dict[str, str], cwd: str) -> subprocess.Popen:
        """A process in the host's namespace (Mininet's popen: mnexec, its own session),
        recorded for `testbed clean`."""
        proc = self.mn[host].popen(list(argv), stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        assert self.state is not None
        self.state.add_pids(proc.pid)
        return proc

    def run(self, host: str, command: str) -> str:
        return self.mn[host].cmd(command)

    def controller_events(self) -> List[Dict[str, Any]]:
        return list(self.controller.events) if self.controller is not None else []

    def link_counters(self) -> Dict[int, Any]:
        """The interfaces' counters; over the userspace emulator, the bytes are the ones it
        passed, as the wire carries them: an interface counts a GSO frame's headers once,
        not once per segment (linkemu.vnet; 4.3% fewer bytes for a bulk TCP transfer)."""
        from ..measure.counters import LinkCounters
        if self._counters is None:
            self._counters = LinkCounters(self.net, lambda node: self.mn[node].pid)
        counts = self._counters.sample()
        if self.emulator is None:
            return counts
        links = self.emulator.request(cmd="stats")["links"]
        return {index: dataclasses.replace(c, tx_bytes=links[str(index)]["a_to_b"]["bytes"],
                                           rx_bytes=links[str(index)]["b_to_a"]["bytes"])
                for index, c in counts.items()}

    def emulator_seconds(self) -> Optional[List[Tuple[float, float]]]:
        if self.emulator is None:
            return None
        return [tuple(p) for p in self.emulator.request(cmd="busy")["processes"]]

    def dataplane_window(self) -> Optional[Dict[str, Any]]:
        if self.emulator is None:
            return None
        reply = self.emulator.request(cmd="window")
        return {"links": reply["links"], "processes": [tuple(p) for p in reply["processes"]]}

    def prober(self, host: str) -> Any:
        """The probe process of a host (measure.probes.Prober), started on first use."""
        if host not in self.net.hosts:
            raise UnderlayError(f"no host '{host}'")
        with self._fleet_lock:
            if self.fleet is None:
                self.fleet = ProbeFleet(self.work_dir)
                assert self.state is not None
                self.state.add_pids(self.fleet.pid)
        return self.fleet.prober(host, self.mn[host].pid)

    def set_policy(self, asn: int, policy: Dict[str, Any]) -> None:
        """Replace AS `asn`'s routing policy while the network runs; the controller applies
        it the convergence delay later (event `policy_applied`), like a BGP update."""
        assert self.controller is not None
        text = replace_policy(self.topology_file.read_text(), asn, policy)
        new_net = parse_topology(text, self.net.source)  # InvalidInput if it is not valid
        tmp = self.topology_file.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.topology_file)
        self._policy_nets.append(new_net)
        os.kill(self.controller.pid, signal.SIGUSR1)

    def routing_state(self) -> RoutingState:
        """The controller's current view (links down now, and as BGP has converged, under
        the policies it has applied), from the last events it reported; the tables and
        looking glass of the moment."""
        net = self.net
        for event in reversed(self.controller_events()):
            if "bgp_down" in event:
                return RoutingState(net, frozenset(event["down"]), frozenset(event["bgp_down"]))
        return RoutingState(net)

    def set_link(self, a: str, b: str, up: bool) -> None:
        """Bring every link between nodes a and b up or down (both interfaces); routers
        see it as port status, the controller reroutes (IGP now, BGP after the delay)."""
        self.mn.configLinkStatus(a, b, "up" if up else "down")

    def set_link_params(self, a: str, b: str, **changes: Optional[float]) -> LinkProps:
        """Change delay_ms, jitter_ms, loss_pct or bandwidth_mbit of the links between a and
        b while the network runs (0 removes a property), on either back end."""
        links = [l for l in self.net.links if {l.a, l.b} == {a, b}]
        if not links:
            raise UnderlayError(f"no link between '{a}' and '{b}'")
        unknown = set(changes) - set(LinkProps.__dataclass_fields__)
        if unknown:
            raise UnderlayError(f"unknown link properties {sorted(unknown)}")
        for link in links:
            props = dataclasses.replace(self.link_props[link.index], **changes)
            self.link_props[link.index] = props
            if self.emulator is not None:
                self._segment([link])
                self.emulator.request(cmd="set", link=link.index, params=shaper_params(props))
            else:
                params = tc_params(props)
                for mn_link in self.mn.linksBetween(self.mn[a], self.mn[b]):
                    for intf in (mn_link.intf1, mn_link.intf2):
                        if params:
                            intf.config(**params)
                        else:  # TCIntf.config() with nothing to set leaves the old qdiscs
                            intf.tc("%s qdisc del dev %s root")
        return props

    def set_classes(self, classes: Dict[str, Sequence[int]]) -> None:
        """The traffic classes (overlay deployment -> its ports, linkemu.classes) that
        `police` acts on; the userspace emulator also counts every inter-AS link's bytes
        per class from now on (class_counters)."""
        self.classes = {name: sorted(set(ports)) for name, ports in sorted(classes.items())}
        inter = [l for l in self.net.links if l.kind == "inter"]
        if not self.classes or not inter:
            return
        if self.emulator is not None:
            self.emulator.request(cmd="classes", links=[l.index for l in inter],
                                  ports=self._port_map())
        else:
            # tc loads its modules (clsact, u32, police, gact) on first use: seconds under
            # qemu's TCG. One throttle put on and lifted now keeps that out of the timeline.
            cls = next(iter(self.classes))
            self.police(inter[0].a, inter[0].b, cls, 1.0)
            self.police(inter[0].a, inter[0].b, cls, None)

    def _port_map(self) -> Dict[str, str]:
        return {str(port): name for name, ports in self.classes.items() for port in ports}

    def police(self, a: str, b: str, cls: str, rate_mbit: Optional[float]) -> None:
        """An ISP's reaction on the links between a and b, both directions: class `cls`
        throttled to rate_mbit (0: blocked), or let through again (None)."""
        links = [l for l in self.net.links if {l.a, l.b} == {a, b}]
        if not links:
            raise UnderlayError(f"no link between '{a}' and '{b}'")
        if cls not in self.classes:
            raise UnderlayError(f"no traffic class '{cls}' (classes: "
                                f"{', '.join(self.classes) or 'none'})")
        if self.emulator is not None:
            for link in links:
                policed = self.policed.setdefault(link.index, set())
                if rate_mbit is None:
                    policed.discard(cls)
                else:
                    policed.add(cls)
                self._segment([link])
                self.emulator.request(cmd="police", link=link.index, rate_mbit=rate_mbit,
                                      ports=self._port_map(), **{"class": cls})
            return
        from .tcpolice import failures, police_script
        index = list(self.classes).index(cls)
        for mn_link in self.mn.linksBetween(self.mn[a], self.mn[b]):
            for intf in (mn_link.intf1, mn_link.intf2):
                problem = failures(intf.node.cmd(police_script(
                    intf.name, index, self.classes[cls], rate_mbit)))
                if problem:
                    raise UnderlayError(f"tc refused to police {cls} on {intf.name}: "
                                        f"{problem[:300]}")

    def _per_segment(self, link: Link) -> bool:
        """Whether GSO frames must stay off an emulated link (linkemu.vnet): its shaping
        (loss, jitter, a rate) or an ISP's policer acts on each segment."""
        return (Params(**shaper_params(self.link_props[link.index])).per_segment or
                bool(self.policed.get(link.index)))

    def _segment(self, links: Iterable[Link]) -> None:
        """Each link's node ends take GSO frames of one segment at most, or of any size
        again, as `_per_segment` says now: the kernel sending into a link that needs
        segments cuts its GSO frames first."""
        for link in links:
            want = self._per_segment(link)
            if want == (link.index in self.segmented):
                continue
            for node, intf in link_ends(self.net, link):
                self.mn[node].cmd(f"ip link set dev {intf} gso_max_segs "
                                  f"{1 if want else GSO_MAX_SEGS}")
            if want:
                self.segmented.add(link.index)
            else:
                self.segmented.discard(link.index)

    def class_counters(self) -> Dict[int, Dict[str, Any]]:
        """Inter-AS link index -> {class: [bytes a -> b, bytes b -> a]} that crossed it,
        counted by the userspace emulator since set_classes; empty with netem (not
        measured there: the share metrics are absent)."""
        if self.emulator is None or not self.classes:
            return {}
        out: Dict[int, Dict[str, Any]] = {}
        for index, stats in self.emulator.request(cmd="stats")["links"].items():
            ab, ba = stats["a_to_b"].get("class_bytes"), stats["b_to_a"].get("class_bytes")
            if ab is None:
                continue
            out[int(index)] = {c: [ab.get(c, 0), ba.get(c, 0)] for c in set(ab) | set(ba)}
        return out

    def set_router(self, name: str, up: bool) -> None:
        """Fail or recover a router: all of its links go down or up, as its neighbours
        would see a crashed router (its own flows stay, like a box that lost power)."""
        if name not in self.net.routers:
            raise UnderlayError(f"no router '{name}'")
        for link in self.net.links:
            if name in (link.a, link.b):
                self.set_link(link.a, link.b, up)


def _close_shell(node: Any) -> None:
    """Close a Mininet node's pty (its shell is already killed by the teardown). Mininet
    closes it in `Node.cleanup`, which our teardown does not call; without this a process
    that builds networks one after another (the grader) leaks two descriptors per node
    and per network, and after ~10 experiments on tiered-8as select() fails."""
    if node.shell is None:
        return
    for close in (node.stdin.close, lambda: os.close(node.slave)):
        try:
            close()
        except OSError:
            pass
    node.shell = None  # keeps Mininet's __del__ quiet
