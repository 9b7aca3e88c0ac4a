"""The Mininet nodes of a network, made for a fast bring-up: routers of the Linux data
plane (`LinuxRouter`) and end hosts (`EndHost`).

Mininet spends most of a bring-up waiting on its node shells, one at a time: each node's
bash is started and its prompt awaited before the next is started (9 ms a node here,
8 s of internet-200's 872), and each host is configured by five shell commands, each
awaited (MAC, address, interface up, lo up, default route: 5.5 s of internet-200's 400
hosts). So here a node's shell is started without waiting (`QuickShell`), all of them
are awaited together once every node is made (`QuickShell.wait_ready`), and a host is
configured by one command, sent to every host before any is awaited (`EndHost.config`,
`wait_configured`).
What Mininet keeps about an interface (its IP and MAC, which the CLI uses to turn
`as1.h1 ping as2.h1` into addresses) is set as Mininet would set it.
"""
from __future__ import annotations

import pty
import select
from typing import Any, Dict, Optional

from mininet.node import Host

PROMPT = chr(127)  # Mininet's shell prompt: it reads a command's output up to it
# a host's kernel settings: no IPv6 (router solicitations and DAD on every interface),
# ICMP errors unthrottled (per destination, and the namespace's budget of 1000/s in bursts
# of 50), or UDP probes see a fraction of their port-unreachables
HOST_SYSCTLS = ("net.ipv6.conf.all.disable_ipv6=1 net.ipv4.icmp_ratelimit=0 "
                "net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=10000")


class QuickShell(Host):
    """A node whose shell is started by `startShell` (from Mininet's `Node.__init__`)
    without waiting for its prompt: Mininet's own launch, less that wait."""

    def startShell(self, mnopts: Optional[str] = None) -> None:
        # mnexec: close descriptors, detach from the tty, in a new network namespace;
        # bash interactive, its prompt the sentinel
        cmd = ["mnexec", "-cdn", "env", "PS1=" + PROMPT, "bash", "--norc", "--noediting",
               "-is", "mininet:" + self.name]
        self.master, self.slave = pty.openpty()
        self.shell = self._popen(cmd, stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                 close_fds=False)
        self.stdin = self.stdout = open(self.master, "r")
        self.pid = self.shell.pid
        self.pollOut = select.poll()
        self.pollOut.register(self.stdout)
        self.outToNode[self.stdout.fileno()] = self
        self.inToNode[self.stdin.fileno()] = self
        self.execed, self.lastCmd, self.lastPid, self.readbuf = False, None, None, ""
        self.waiting = True  # until the prompt: no command may be sent before

    def wait_ready(self) -> None:
        """The rest of Mininet's start: the prompt, then the shell's settings."""
        while not self.read(1024).endswith(PROMPT):
            self.pollOut.poll()
        self.waiting = False
        self.cmd("unset HISTFILE; stty -echo; set +m")


class LinuxRouter(QuickShell):
    """A router namespace: its controller configures it over netlink (addresses, lo,
    routes), so Mininet's per-host shell commands are skipped."""

    def config(self, **params: Any) -> Dict[str, Any]:
        return {}


class EndHost(QuickShell):
    """A host: its interface's MAC is set when the interface is made; address, interface
    and lo up, default route and `HOST_SYSCTLS` in one command, sent now and awaited by
    `wait_configured`. `tx_offload=False` turns the interface's TX checksum offload off
    (needed through a userspace OVS and for netem: the caller knows)."""

    def config(self, ip: str, mac: str, defaultRoute: str, tx_offload: bool = True,
               **params: Any) -> Dict[str, Any]:
        intf = self.defaultIntf()
        (intf.ip, intf.prefixLen), intf.mac = ip.split("/"), mac
        offload = "" if tx_offload else f"ethtool -K {intf} tx off >/dev/null 2>&1; "
        # the sysctls first: no IPv6 address, DAD or router solicitation when it comes up
        self.sendCmd(f"sysctl -qw {HOST_SYSCTLS} 2>/dev/null; {offload}"
                     f"ip addr add {ip} dev {intf} && ip link set {intf} up && "
                     f"ip link set lo up && ip route replace default {defaultRoute}")
        return {}

    def wait_configured(self) -> str:
        """What the command printed: nothing unless it failed."""
        return self.waitOutput().strip()
