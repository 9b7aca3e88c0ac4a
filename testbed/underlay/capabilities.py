"""What this machine can do, detected rather than assumed (docs/machines.md).

Each `Capability` says whether it is there and, if not, how to fix it; `testbed doctor`
prints them and `testbed up` refuses to start without the essential ones.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from typing import List

OVS_START = "/usr/share/openvswitch/scripts/ovs-ctl start --system-id=random"
SETUP = "sudo bash vagrant/provision.sh"


@dataclass(frozen=True)
class Capability:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = True


def _run(cmd: List[str], timeout: float = 5) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(cmd, 127, "", str(exc))


def is_root() -> bool:
    return os.geteuid() == 0


def ovs_running() -> bool:
    return _run(["ovs-vsctl", "--timeout=3", "show"]).returncode == 0


def kernel_datapath() -> bool:
    """The OVS kernel module is loaded (or loadable): then datapath=kernel works."""
    if os.path.isdir("/sys/module/openvswitch"):
        return True
    if shutil.which("modprobe"):
        _run(["modprobe", "-q", "openvswitch"])
    return os.path.isdir("/sys/module/openvswitch")


def datapath() -> str:
    """'kernel' where the OVS kernel module is there, else 'user' (userspace netdev)."""
    return "kernel" if kernel_datapath() else "user"


def dataplane(asked: str = "auto") -> "tuple[str, str]":
    """(plane, why): the OpenFlow routers (OVS under the Ryu controller) where the OVS
    kernel datapath is there, else kernel-forwarding Linux routers, whose per-hop cost does
    not grow with the size of the network as userspace OVS's does (README, Performance)."""
    if asked != "auto":
        return asked, "asked for"
    if kernel_datapath():
        return "openflow", "the OVS kernel datapath is there"
    return "linux", ("no OVS kernel datapath: userspace OVS adds about 2 ms per router on "
                     "internet-50's 118 bridges, Linux routers about 0.03 ms")


def virtual_cpus() -> bool:
    """Whether this machine runs under a hypervisor (the CPU's `hypervisor` flag): a
    virtual CPU that halts waits for the host to run it again when woken."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            return any(line.startswith("flags") and " hypervisor" in line for line in f)
    except OSError:
        return False


def netem_available() -> bool:
    """Try a netem qdisc on a throw-away veth pair: the only reliable test."""
    if not is_root() or not shutil.which("tc"):
        return False
    name = f"tbq{os.getpid() % 100000}"
    if _run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "b"]).returncode:
        return False
    try:
        return _run(["tc", "qdisc", "add", "dev", name, "root", "netem", "delay", "1ms"]).returncode == 0
    finally:
        _run(["ip", "link", "del", name])


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return True
        except OSError:
            return False


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def controller_framework() -> str:
    for module, label in (("ryu", "Ryu"), ("os_ken", "os-ken")):
        if importlib.util.find_spec(module) is not None:
            return label
    return ""


def survey(controller_port: int = 6653) -> List[Capability]:
    root = is_root()
    caps = [Capability("root", root, "running as root" if root else "not root",
                       "run with sudo: Mininet needs namespaces and veth pairs")]
    have_ovs = bool(shutil.which("ovs-vsctl"))
    running = have_ovs and ovs_running()
    caps.append(Capability("openvswitch", running,
                           "ovsdb-server and ovs-vswitchd answer" if running else
                           ("installed but not running" if have_ovs else "not installed"),
                           OVS_START if have_ovs else SETUP))
    kernel = kernel_datapath()
    caps.append(Capability("ovs datapath", True,
                           "kernel (openvswitch module loaded)" if kernel else
                           "userspace (no openvswitch kernel module; switches use datapath=user)",
                           essential=False))
    plane, why = dataplane()
    caps.append(Capability("data plane", True, f"{plane} routers by default ({why})",
                           essential=False))
    netem = netem_available()
    caps.append(Capability("netem", netem,
                           "tc netem works: link delay, jitter and loss are emulated" if netem else
                           ("kernel has no sch_netem: link delay, jitter and loss cannot be "
                            "applied (bandwidth can)" if root else "unknown (needs root to test)"),
                           "use a kernel with sch_netem (the Vagrant VM has it)", essential=False))
    framework = controller_framework()
    caps.append(Capability("controller framework", bool(framework),
                           f"{framework} importable" if framework else "neither Ryu nor os-ken",
                           SETUP))
    mininet = importlib.util.find_spec("mininet") is not None
    caps.append(Capability("mininet", mininet, "Python module importable" if mininet else
                           "Python module missing", SETUP))
    mnexec = shutil.which("mnexec")
    caps.append(Capability("mnexec", bool(mnexec), mnexec or "missing (the PyPI mininet has none)",
                           "apt-get install mininet"))
    for tool, package in (("traceroute", "traceroute"), ("ping", "iputils-ping"),
                          ("ethtool", "ethtool")):
        path = shutil.which(tool)
        caps.append(Capability(tool, bool(path), path or "missing", f"apt-get install {package}"))
    free = port_free(controller_port)
    caps.append(Capability("controller port", free,
                           f"127.0.0.1:{controller_port} is free" if free else
                           f"127.0.0.1:{controller_port} is in use",
                           "testbed picks a free port itself unless --controller-port is given; "
                           "'testbed clean' stops a controller a killed run left", essential=False))
    return caps
