"""A minimal rtnetlink client for the Linux routers' controller: interfaces up with their
MAC, addresses, and routes (unicast or blackhole), sent to the kernel of one router's
network namespace in batches, each message acknowledged; and the other direction, the
kernel's messages about interfaces going up or down (`watch_links`, `link_changes`).

Why not `ip -batch`: it costs a process (three, with nsenter and sysctl) per router and
change; on internet-200's 472 routers that was 21 s of the bring-up, against well under
a second for the same routes as netlink messages (README, Performance). The messages are
the kernel's own format (linux/rtnetlink.h), nothing more than what `ip` sends.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import ipaddress
import os
import socket
import struct
from typing import Iterator, List, Optional, Tuple

CLONE_NEWNET = 0x40000000
NLMSG_ERROR = 2
RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_NEWROUTE, RTM_DELROUTE = 16, 17, 20, 24, 25
RTMGRP_LINK = 1
NLM_F_REQUEST, NLM_F_ACK, NLM_F_REPLACE, NLM_F_CREATE = 0x1, 0x4, 0x100, 0x400
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000
IFLA_ADDRESS, IFLA_IFNAME = 1, 3
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
RT_TABLE_MAIN, RTPROT_STATIC = 254, 4
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
RTN_UNICAST, RTN_BLACKHOLE = 1, 6
NLMSG = struct.Struct("=IHHII")
IFINFO = struct.Struct("=BxHiII")
RTA = struct.Struct("=HH")
BATCH_BYTES = 1 << 15


@contextlib.contextmanager
def namespace_of(pid: int) -> Iterator[None]:
    """Run the block in the network namespace of `pid` (this thread only): sockets made
    there stay in it, /proc/sys/net there is its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    theirs = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(theirs, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns into the namespace of pid {pid}")
        yield
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(theirs)


def write_sysctl(key: str, value: str) -> None:
    """A sysctl of the current network namespace ("net.ipv4.ip_forward", "1")."""
    with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
        f.write(value)


def watch_links() -> socket.socket:
    """A non-blocking socket told of every interface change of the current namespace."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((0, RTMGRP_LINK))
    sock.setblocking(False)
    return sock


def link_changes(data: bytes) -> List[Tuple[str, bool]]:
    """(interface name, is down) for every link message in a netlink datagram."""
    out = []
    offset = 0
    while offset + NLMSG.size <= len(data):
        length, kind, _, _, _ = NLMSG.unpack_from(data, offset)
        if length < NLMSG.size:
            break
        if kind in (RTM_NEWLINK, RTM_DELLINK):
            body = offset + NLMSG.size
            _, _, _, flags, _ = IFINFO.unpack_from(data, body)
            attr = body + IFINFO.size
            while attr + RTA.size <= offset + length:
                rta_len, rta_type = RTA.unpack_from(data, attr)
                if rta_len < RTA.size:
                    break
                if rta_type == IFLA_IFNAME:
                    name = data[attr + RTA.size:attr + rta_len].split(b"\0")[0].decode()
                    down = kind == RTM_DELLINK or not (flags & IFF_UP and flags & IFF_LOWER_UP)
                    out.append((name, down))
                    break
                attr += (rta_len + 3) & ~3
        offset += (length + 3) & ~3
    return out


@functools.lru_cache(maxsize=1 << 14)
def _destination(prefix: str) -> Tuple[int, bytes]:
    """A prefix's length and its RTA_DST attribute (none for the default route). Cached:
    every router has a route to each of the same few hundred prefixes, and parsing them
    (ipaddress) was a third of the controller's time installing internet-200's 98,769
    routes."""
    net = ipaddress.IPv4Network(prefix)
    return net.prefixlen, _attr(RTA_DST, net.network_address.packed) if net.prefixlen else b""


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("=HH", length, kind) + data + b"\0" * (-length % 4)


class RtNetlink:
    """Requests to one namespace's kernel; `commit()` sends what was queued and returns
    the errors, as (request, message)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind((0, 0))
        self.queue: List[Tuple[bytes, str]] = []
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def _add(self, kind: int, flags: int, body: bytes, what: str) -> None:
        self.seq += 1
        header = NLMSG.pack(NLMSG.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags,
                            self.seq, 0)
        self.queue.append((header + body, what))

    def link_up(self, index: int, mac: Optional[str]) -> None:
        body = IFINFO.pack(socket.AF_UNSPEC, 0, index, IFF_UP, IFF_UP)
        if mac is not None:
            body += _attr(IFLA_ADDRESS, bytes.fromhex(mac.replace(":", "")))
        self._add(RTM_NEWLINK, 0, body, f"link {index} up")

    def address(self, index: int, ip: str, prefixlen: int) -> None:
        packed = socket.inet_aton(ip)
        body = struct.pack("=BBBBi", socket.AF_INET, prefixlen, 0, RT_SCOPE_UNIVERSE, index)
        body += _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed)
        self._add(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, body, f"address {ip}/{prefixlen}")

    def route(self, prefix: str, oif: Optional[int] = None, gateway: Optional[str] = None,
              delete: bool = False) -> None:
        """Replace (or delete) `prefix`: via `gateway` out of `oif`, straight out of `oif`
        (gateway None), or a blackhole (oif None)."""
        length, destination = _destination(prefix)
        kind = RTN_BLACKHOLE if oif is None and not delete else RTN_UNICAST
        scope = RT_SCOPE_LINK if oif is not None and gateway is None else RT_SCOPE_UNIVERSE
        body = struct.pack("=BBBBBBBBI", socket.AF_INET, length, 0, 0, RT_TABLE_MAIN,
                           RTPROT_STATIC, scope, kind, 0) + destination
        if gateway is not None:
            body += _attr(RTA_GATEWAY, socket.inet_aton(gateway))
        if oif is not None:
            body += _attr(RTA_OIF, struct.pack("=i", oif))
        if delete:
            self._add(RTM_DELROUTE, 0, body, f"delete {prefix}")
        else:
            self._add(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, body, f"route {prefix}")

    def commit(self) -> List[Tuple[str, str]]:
        """Send the queue in batches; wait for every acknowledgement."""
        errors: List[Tuple[str, str]] = []
        queue, self.queue = self.queue, []
        start = 0
        while start < len(queue):
            end, size = start, 0
            while end < len(queue) and (size == 0 or size + len(queue[end][0]) <= BATCH_BYTES):
                size += len(queue[end][0])
                end += 1
            self.sock.sendall(b"".join(m for m, _ in queue[start:end]))
            errors += self._acks({NLMSG.unpack_from(m)[3]: what for m, what in queue[start:end]})
            start = end
        return errors

    def _acks(self, waiting: "dict[int, str]") -> List[Tuple[str, str]]:
        errors = []
        while waiting:
            data = self.sock.recv(1 << 16)
            offset = 0
            while offset + NLMSG.size <= len(data):
                length, kind, _, seq, _ = NLMSG.unpack_from(data, offset)
                if kind == NLMSG_ERROR and seq in waiting:
                    code = struct.unpack_from("=i", data, offset + NLMSG.size)[0]
                    what = waiting.pop(seq)
                    if code:
                        errors.append((what, os.strerror(-code)))
                offset += max(NLMSG.size, (length + 3) & ~3)
        return errors
