"""The VPN agent: one site's end of the tunnels to every other member, and its own
overhead measurement (params: VpnParams, __init__.py).

    python -m overlays.vpn --config CONFIG.json   (the contract: overlays/README.md)

- Creates the TUN device `vpn0` in the host's namespace (/dev/net/tun, no packet
  information), gives it this site's tunnel address and the network's route, sets its
  MTU, brings it up. It vanishes with the agent's file descriptor.
- Packets read from `vpn0` go, sealed (tunnel.py), in UDP to the site that owns their
  destination; datagrams from a site are opened and written to `vpn0`; anything that
  does not authenticate is dropped and counted (`dropped` in the `stopped` record).
- Echo: every `interval` until the bulk transfers start, a UDP echo to each peer straight
  (its underlay address) and through the tunnel (its tunnel address): `rtt_direct_ms`,
  `rtt_tunnel_ms`.
- Bulk: every site runs an iperf3 server on `tcp_port`; after `tcp_after` seconds the
  first member runs iperf3 to each peer for `tcp_seconds`, straight then tunnelled
  (separate processes: the tunnel's agent is not also the application):
  `tcp_direct_mbit`, `tcp_tunnel_mbit` (what the server received).
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import os
import socket
import struct
import subprocess
import time
from typing import Any, Dict, Optional, Tuple

from ..agent import AsyncAgent, Daemon
from . import VpnParams
from .tunnel import Receiver, Sender, deployment_secret, direction_key

TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
DEVICE = "vpn0"


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class VpnAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = VpnParams.model_validate(config["params"])
        order = sorted(m["name"] for m in self.members)
        self.inner = {name: self.params.address(i) for i, name in enumerate(order)}
        self.outer = {m["name"]: m["ip"] for m in self.members}
        secret = deployment_secret(config["overlay"], config["t0"])
        me = self.me["name"]
        peers = [n for n in order if n != me]
        self.senders = {self.inner[p]: (self.outer[p], Sender(direction_key(secret, me, p)))
                        for p in peers}
        self.receivers = {self.outer[p]: Receiver(direction_key(secret, p, me)) for p in peers}
        self.by_ip = {ip: name for table in (self.inner, self.outer)
                      for name, ip in table.items()}
        self.first = order[0] == me
        self.dropped = 0
        self.pending: Dict[Tuple[str, int], float] = {}
        self.iperf_log = open(config["output"] + ".iperf3.log", "ab")

    async def main(self) -> None:
        p, loop = self.params, asyncio.get_running_loop()
        self.tun = open_tun(DEVICE)
        prefix = p.network.split("/")[1]
        for command in (["ip", "addr", "add", f"{self.inner[self.me['name']]}/{prefix}",
                         "dev", DEVICE],
                        ["ip", "link", "set", DEVICE, "mtu", str(p.mtu), "up"]):
            subprocess.run(command, check=True, capture_output=True)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((self.me["ip"], p.port))
        self.udp.setblocking(False)
        loop.add_reader(self.tun, self._from_tun)
        loop.add_reader(self.udp, self._from_peer)
        echo_transport, _ = await loop.create_datagram_endpoint(
            lambda: Echo(self), local_addr=("0.0.0.0", p.echo_port))
        self.echo = echo_transport
        sink = Daemon(["iperf3", "-s", "-p", str(p.tcp_port)], self.iperf_log,
                      ready_port=p.tcp_port, ready_host=self.me["ip"])
        await asyncio.to_thread(sink.start)
        tasks = [loop.create_task(self._echo_rounds())]
        if self.first and p.tcp_seconds > 0:
            tasks.append(loop.create_task(self._bulk()))
        self.report({"event": "started", "address": self.inner[self.me["name"]]})
        await self.until_stopped()
        for task in tasks:
            task.cancel()
        await asyncio.to_thread(sink.stop)
        echo_transport.close()
        loop.remove_reader(self.tun)
        loop.remove_reader(self.udp)
        self.udp.close()
        os.close(self.tun)
        self.report({"event": "stopped", "dropped": self.dropped})

    # --- the tunnel ---------------------------------------------------------------------
    def _from_tun(self) -> None:
        for _ in range(64):
            try:
                packet = os.read(self.tun, 65535)
            except BlockingIOError:
                return
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue
            peer = self.senders.get(socket.inet_ntoa(packet[16:20]))
            if peer is None:
                continue
            try:
                self.udp.sendto(peer[1].seal(packet), (peer[0], self.params.port))
            except (BlockingIOError, OSError):
                pass  # a full socket buffer drops it, as a router would

    def _from_peer(self) -> None:
        for _ in range(64):
            try:
                datagram, (ip, _) = self.udp.recvfrom(65535)
            except BlockingIOError:
                return
            receiver = self.receivers.get(ip)
            packet = receiver.open(datagram) if receiver is not None else None
            if packet is None:
                self.dropped += 1
                continue
            try:
                os.write(self.tun, packet)
            except (BlockingIOError, OSError):
                pass

    # --- measurements -------------------------------------------------------------------
    async def _echo_rounds(self) -> None:
        """Until the bulk transfers start (their queues would be measured, not the
        tunnel), or all along when there are none."""
        seq, began = 0, time.monotonic()
        p = self.params
        while p.tcp_seconds == 0 or time.monotonic() - began < p.tcp_after:
            for inner, (outer, _) in self.senders.items():
                for ip in (outer, inner):
                    seq += 1
                    self.pending[(ip, seq)] = time.monotonic()
                    self.echo.sendto(json.dumps({"seq": seq}).encode(),
                                     (ip, self.params.echo_port))
            cutoff = time.monotonic() - 2.0
            self.pending = {k: v for k, v in self.pending.items() if v > cutoff}
            await asyncio.sleep(self.params.interval)

    def answered(self, ip: str, seq: int) -> None:
        sent = self.pending.pop((ip, seq), None)
        if sent is None:
            return
        kind = "tunnel" if ip in self.senders else "direct"
        self.report({"metric": f"rtt_{kind}_ms", "value": round((time.monotonic() - sent) * 1e3, 3),
                     "peer": self.by_ip.get(ip)})

    async def _bulk(self) -> None:
        await asyncio.sleep(self.params.tcp_after)
        for inner, (outer, _) in self.senders.items():
            for kind, ip in (("direct", outer), ("tunnel", inner)):
                mbit = await self._iperf(ip)
                if mbit is not None:
                    self.report({"metric": f"tcp_{kind}_mbit", "value": round(mbit, 3),
                                 "peer": self.by_ip.get(ip)})

    async def _iperf(self, ip: str) -> Optional[float]:
        """Goodput the peer's iperf3 server received in `tcp_seconds`, Mbit/s."""
        p = self.params
        proc = await asyncio.create_subprocess_exec(
            "iperf3", "-c", ip, "-p", str(p.tcp_port), "-t", str(p.tcp_seconds), "-J",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), p.tcp_seconds + 15)
            return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6
        except (asyncio.TimeoutError, ValueError, KeyError, TypeError) as e:
            if proc.returncode is None:
                proc.kill()
            self.report({"event": "bulk_failed", "to": ip, "why": str(e) or type(e).__name__})
            return None


class Echo(asyncio.DatagramProtocol):
    """Answers echo requests and hands answers to the agent."""

    def __init__(self, agent: VpnAgent):
        self.agent = agent
        self.transport: Optional[asyncio.DatagramTransport] = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
        try:
            msg = json.loads(data)
            seq = int(msg["seq"])
        except (ValueError, KeyError, TypeError):
            return
        if msg.get("answer"):
            self.agent.answered(addr[0], seq)
        elif self.transport is not None:
            self.transport.sendto(json.dumps({"seq": seq, "answer": 1}).encode(), addr)


if __name__ == "__main__":
    from overlays.agent import main
    main(VpnAgent, "VPN site agent")
