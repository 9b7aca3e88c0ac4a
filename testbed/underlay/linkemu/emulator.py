"""The userspace link emulator: `python -m testbed.underlay.linkemu.emulator CONFIG.json`.

One process carries many emulated links (`process.LinkEmulator` deals a network's links
out over such processes, one per CPU less one). An emulated link A--B is two veth pairs,
A <-> a ... b <-> B, with a and b in the root namespace; the emulator reads each frame
arriving on a (raw AF_PACKET socket), asks that direction's `shaper.Direction` when to
release it, and writes it to b at that time (and the same from b to a).

Polling while frames are in flight: with frames waiting for their release time, the loop
polls its sockets (epoll with no timeout) and releases what is due, yielding the CPU to
anything else runnable at each turn; with none, it sleeps in epoll until a frame or
request comes (unless poll_idle, below). No thread per link and no timer. (Sleeping until
the next release, as a timerfd did here, leaves the release to the moment the CPU wakes up
again; a virtual CPU that halts waits for the hypervisor to run it again: on the 2-vCPU
project machine 14% of the time was stolen that way, and a 0.5 ms sleep woke up 3 ms late
at the 99th percentile, up to 20 ms; RTT medians on internet-50 were 3-14 ms off, std 5-13
ms. Polling keeps the CPU from halting: medians 0.1-0.2 ms off. The CPU time of such a
process says nothing about its load: the `busy` request answers the seconds it spent on
frames and requests, not polling, with its CPU seconds.)

Pinned where there are CPUs to spare (config "cpu"), and under a hypervisor (set by
process.LinkEmulator) polling with nothing in flight too (config "poll_idle"): polling
only while frames are in flight keeps the emulator's CPU awake only then, and a sparse
stream (20 pings/s over a 12 ms RTT) found it asleep, its frames' releases waiting for the
wake-up (RTTs of 12-93 ms, in CI). The other CPUs are left to halt. (They were kept
awake by SCHED_IDLE spinners once, when the emulator slept with nothing in flight; with
it polling, two busy virtual CPUs made the host stop the emulator's more often: on
internet-50, with catch-up, 179 of 200 pair measurements had an RTT std within 0.3 ms
with the spinners and 312 of 320 without them (polling with nothing in flight or not),
in the same hours.)

Timing (measured on internet-50 and line-3as, README "Data planes and performance"): a
frame's delay counts from its arrival, the kernel's receive timestamp, not from when this
process read it (a socket may wait while others are served, or while the process sleeps
with nothing in flight), and frames leave at their release time, never early. A frame
that left late anyway (the host stopped this process's virtual CPU: ~7 ms every few
seconds on the project machine) leaves the next links of its path that much earlier, as
far as their delays allow (`catchup`): a path's delay stays what is configured, even
where one link's was not.

Frames come with the virtio-net header before them (`vnet`): a TCP sender's 64 KB GSO
frame crosses a link that only delays whole, one frame to shape and one to send instead
of some 44 (TCP over 10 links: 600-690 Mbit/s instead of 74-87); its size on the wire,
for the rate, the policers and the class counts, is its segments' (`vnet.wire_bytes`).
The harness keeps GSO frames off links whose loss, jitter, rate or policer acts per
segment (Underlay._segment).

Traffic classes (`classes.ClassFilter`): on the links given classes, each frame is
classified by port before the shaper, counted under its class, and dropped if its class
is policed (an ISP's throttle or block); links without classes skip this.

Config: {"control": PATH, "cpu": N or null, "poll_idle": BOOL,
"kernel_threads_off": [CPU, ...] (see kernel_threads_off), "links": [{"id": N, "a":
IFNAME, "b": IFNAME, "seed": S, "params": {shaper.Params fields}}]}. Control: a Unix
stream socket taking one JSON request per connection: {"cmd": "set", "link": N, "params":
{...}}; {"cmd": "classes", "links": [N, ...], "ports": {"PORT": CLASS}}; {"cmd":
"police", "link": N, "class": C, "rate_mbit": R (0 blocks, null lifts it), "ports":
{...}}; {"cmd": "stats"}; {"cmd": "busy"}; {"cmd": "window"} (per link since the last
such request: frames released, their lateness, unrequested drops; `window`). It answers
one JSON line.
Prints {"event": "ready"} once all sockets are bound.
"""
from __future__ import annotations

import heapq
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from typing import Any, Dict, List, Set, Tuple

from ...process import proc_stat_fields
from .catchup import MIN_LATE, CatchUp
from .classes import ClassFilter
from .shaper import Direction, Params
from .vnet import HEADER, PACKET_VNET_HDR, wire_bytes
from .window import Window

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
PACKET_STATISTICS = 6  # struct tpacket_stats {tp_packets, tp_drops}: read and reset
BUFFER = 4 * 1024 * 1024
PF_KTHREAD, PF_NO_SETAFFINITY = 0x00200000, 0x04000000  # /proc/PID/stat flags
BATCH = 64  # frames read from one busy socket before looking at the others
SO_TIMESTAMPNS = 35  # SCM_TIMESTAMPNS: struct timespec, CLOCK_REALTIME
TIMESPEC = struct.Struct("=qq")
MAX_WAITED = 0.01  # s: a larger gap is the wall clock stepping, not a frame waiting
RECEIVE = HEADER + 65536 + 14  # the header and the largest GSO frame


def _raw_socket(ifname: str) -> socket.socket:
    # Protocol 0 at creation, ETH_P_ALL at bind: a socket created with a protocol is
    # already hooked in, and re-binding it waits for an RCU grace period (synchronize_net,
    # ~10 ms): 5 s for internet-50's 540 sockets, measured. This way the bind hooks it once.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)  # not our own transmissions
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)  # GSO frames whole (vnet)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, BUFFER)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # when the frame arrived
    sock.bind((ifname, ETH_P_ALL))  # Python converts to network order itself
    sock.setblocking(False)
    return sock


class Link:
    def __init__(self, spec: Dict[str, Any]):
        self.id = int(spec["id"])
        params = Params(**spec.get("params", {}))
        seed = int(spec.get("seed", self.id))
        self.sock_a = _raw_socket(spec["a"])
        self.sock_b = _raw_socket(spec["b"])
        self.a_to_b = Direction(params, seed * 2)
        self.b_to_a = Direction(params, seed * 2 + 1)
        self.classes_ab, self.classes_ba = ClassFilter(), ClassFilter()
        self.window = Window()  # both directions, since the last `window` request

    def kernel_drops(self) -> int:
        """Frames the kernel dropped for want of room in this link's receive buffers since
        the last call (the emulator did not read them in time)."""
        return sum(struct.unpack("II", sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
                   for sock in (self.sock_a, self.sock_b))

    def set(self, changes: Dict[str, Any]) -> None:
        for direction in (self.a_to_b, self.b_to_a):
            direction.params = direction.params.updated(**changes)

    def set_ports(self, ports: Dict[str, str]) -> None:
        for f in (self.classes_ab, self.classes_ba):
            f.ports.update({int(port): cls for port, cls in ports.items()})

    def police(self, cls: str, rate_mbit: Any) -> None:
        for f in (self.classes_ab, self.classes_ba):
            f.police(cls, None if rate_mbit is None else float(rate_mbit))

    def stats(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for name, d, f in (("a_to_b", self.a_to_b, self.classes_ab),
                           ("b_to_a", self.b_to_a, self.classes_ba)):
            out[name] = {"sent": d.sent, "bytes": d.bytes, "lost": d.dropped_loss, "queue_drops": d.dropped_queue,
                         "down_drops": d.dropped_down}
            if f.active:
                out[name].update(class_bytes=f.bytes, class_drops=dict(f.dropped))
        return out


class Emulator:
    def __init__(self, config: Dict[str, Any]):
        self.links = {int(spec["id"]): Link(spec) for spec in config["links"]}
        self.epoll = select.epoll()
        # fd -> (receiving socket, direction, its classes, sending socket, link window)
        self.routes: Dict[int, Tuple[socket.socket, Direction, ClassFilter, socket.socket,
                                     Window]] = {}
        for link in self.links.values():
            self.routes[link.sock_a.fileno()] = (link.sock_a, link.a_to_b, link.classes_ab,
                                                 link.sock_b, link.window)
            self.routes[link.sock_b.fileno()] = (link.sock_b, link.b_to_a, link.classes_ba,
                                                 link.sock_a, link.window)
        for fd in self.routes:
            self.epoll.register(fd, select.EPOLLIN)
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(config["control"]):
            os.unlink(config["control"])
        self.control.bind(config["control"])
        self.control.listen(8)
        self.control.setblocking(False)
        self.epoll.register(self.control.fileno(), select.EPOLLIN)
        self.heap: List[Tuple[float, int, socket.socket, bytes, Window]] = []
        self.seq = 0
        self.send_errors = self.receive_errors = 0
        self.late_sum = self.late_max = 0.0
        self.late_count = 0
        self.catch_up = CatchUp(HEADER)
        # seconds spent on frames and requests, not polling for them (the CPU time of a
        # polling process says nothing about its load)
        self.busy = 0.0
        self.poll_idle = bool(config.get("poll_idle"))

    def run(self) -> None:
        heap, routes, control_fd = self.heap, self.routes, self.control.fileno()
        catch_up = self.catch_up
        poll_idle = self.poll_idle
        polls, last = 0, {}  # wake-ups so far; socket -> the last one that found it ready
        clock = time.monotonic
        worked, polled = False, clock()
        while True:
            now = clock()
            while heap and heap[0][0] <= now:
                release, _, out, frame, window = heapq.heappop(heap)
                late = now - release
                self.late_sum += late
                self.late_count += 1
                if late > self.late_max:
                    self.late_max = late
                if late >= MIN_LATE:
                    catch_up.late(frame, late, now, window)
                else:
                    window.lates.append(late)
                self._send(out, frame, window)
                worked = True
            if worked:
                self.busy += clock() - polled
            if heap or poll_idle:
                # frames in flight (or a VM's CPU to keep from halting): poll, giving the
                # CPU to whatever else is runnable (a ping, the kernel's forwarding), and
                # never sleep; see the docstring
                os.sched_yield()
                events = self.epoll.poll(0)
            else:
                events = self.epoll.poll(1.0)
            now = polled = clock()
            worked = bool(events)
            polls += 1
            # wall clock minus monotonic clock, once per wake-up: the receive timestamps
            # are wall-clock times, the release heap is monotonic
            offset = time.time() - now
            for fd, _ in events:
                if fd == control_fd:
                    self._control()
                    continue
                sock, direction, classes, out, window = routes[fd]
                # A socket that was ready at the previous wake-up too is busy (a bulk
                # transfer): read on until it is empty, BATCH frames at most. Others give
                # one frame (epoll is level-triggered and returns them again if they hold
                # more): reading every socket until it is empty cost an exception per
                # socket, ~1/8 of the CPU under probe load.
                busy = last.get(fd) == polls - 1
                last[fd] = polls
                for _ in range(BATCH if busy else 1):
                    try:
                        frame, anc, _, _ = sock.recvmsg(RECEIVE, 64)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # a GSO frame the header cannot describe: lost
                        self.receive_errors += 1
                        window.drops += 1
                        break
                    now = clock()
                    # the delay counts from the frame's arrival, not from when this
                    # process woke up to read it (a sleeping CPU wakes ~0.1 ms late)
                    arrived = now
                    if anc and len(anc[0][2]) >= TIMESPEC.size:
                        sec, nsec = TIMESPEC.unpack_from(anc[0][2])
                        waited = now + offset - (sec + nsec * 1e-9)
                        arrived = now - min(max(waited, 0.0), MAX_WAITED)
                    # late on its previous link: it takes the credit to this one (catchup)
                    credit = catch_up.take(frame, now) if catch_up.credits else 0.0
                    key, size = None, wire_bytes(frame)
                    if classes.ports:
                        key = classes.admit(arrived, frame, size, HEADER)
                        if key is None:
                            continue  # its class is policed
                    release = direction.admit(arrived - credit, size)
                    if release is None:
                        continue
                    if key is not None:
                        classes.count(key, size)
                    if release <= now:
                        if now - release >= MIN_LATE:
                            catch_up.late(frame, now - release, now, window)
                        else:
                            window.lates.append(now - release)
                        self._send(out, frame, window)
                    else:
                        self.seq += 1
                        heapq.heappush(heap, (release, self.seq, out, frame, window))

    def _send(self, out: socket.socket, frame: bytes, window: Window) -> None:
        try:
            out.send(frame)
        except OSError:  # ENOBUFS/ENETDOWN: the frame is lost, as on a full or down NIC
            self.send_errors += 1
            window.drops += 1

    def _control(self) -> None:
        try:
            conn, _ = self.control.accept()
        except BlockingIOError:
            return
        with conn:
            conn.settimeout(2.0)
            try:
                request = json.loads(conn.makefile().readline())
                reply = self._handle(request)
            except Exception as exc:  # a bad request must not stop the emulator
                reply = {"ok": False, "error": str(exc)}
            conn.sendall((json.dumps(reply) + "\n").encode())

    def _handle(self, request: Dict[str, Any]) -> Dict[str, Any]:
        if request.get("cmd") == "set":
            link = self.links[int(request["link"])]
            link.set(request.get("params", {}))
            return {"ok": True}
        if request.get("cmd") == "classes":
            for index in request["links"]:
                self.links[int(index)].set_ports(request["ports"])
            return {"ok": True}
        if request.get("cmd") == "police":
            link = self.links[int(request["link"])]
            link.set_ports(request.get("ports", {}))
            link.police(str(request["class"]), request.get("rate_mbit"))
            return {"ok": True}
        if request.get("cmd") == "busy":
            return {"ok": True, "busy_s": self.busy,
                    "cpu_s": time.process_time()}
        if request.get("cmd") == "window":
            return {"ok": True, "links": self.window(), "busy_s": self.busy,
                    "cpu_s": time.process_time()}
        if request.get("cmd") == "stats":
            return {"ok": True, "links": {str(i): l.stats() for i, l in self.links.items()},
                    "send_errors": self.send_errors, "receive_errors": self.receive_errors,
                    "queued": len(self.heap), "caught_up": self.catch_up.frames,
                    "late_ms": {"mean": 1000 * self.late_sum / max(self.late_count, 1),
                                "max": 1000 * self.late_max, "releases": self.late_count}}
        return {"ok": False, "error": f"unknown request {request!r}"}


    def window(self) -> Dict[str, Dict[str, Any]]:
        """Link id -> what it did since the last call (window.Window.summary), for the
        links that forwarded or lost a frame; every window starts anew."""
        self.catch_up.expire(time.monotonic())
        out = {}
        for index, link in self.links.items():
            link.window.drops += link.kernel_drops()
            if not link.window.idle:
                out[str(index)] = link.window.summary()
        return out


def kernel_threads_off(cpus: List[int]) -> Dict[int, Set[int]]:
    """Moves the kernel threads that may be moved (unbound housekeeping: kdamond,
    kcompactd, kswapd, rcu's) off `cpus`, the emulator processes' own; the CPUs each was
    allowed before, to give back at exit (restore_kernel_threads). On the project machine
    kdamond ran every 0.54 s for 3-13 ms: while it ran on the emulator's CPU the emulator
    waited (it yields to anything runnable), and pings crossing then came back 4-20 ms late
    (RTT std 1.6-3.8 ms on internet-200 pairs); on the other CPU it delayed nothing
    measurable. Hosts' programs stay where the scheduler puts them: keeping them off the
    emulator's CPU too made the RTT spread under load worse (8 of 20 pairs within 0.3 ms
    on internet-200, against 16)."""
    off, moved = set(cpus), {}
    for pid in movable_kernel_threads():
        try:
            allowed = os.sched_getaffinity(pid)
            if allowed & off and allowed - off:
                os.sched_setaffinity(pid, allowed - off)
                moved[pid] = allowed
        except OSError:
            continue  # gone, or bound after all
    return moved


def movable_kernel_threads() -> List[int]:
    """The kernel threads whose CPUs may be changed (PF_NO_SETAFFINITY marks the per-CPU
    ones and the workqueues' workers)."""
    pids = []
    for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit()):
        fields = proc_stat_fields(pid)
        flags = int(fields[6]) if fields else 0  # gone: 0
        if flags & PF_KTHREAD and not flags & PF_NO_SETAFFINITY:
            pids.append(pid)
    return pids


def restore_kernel_threads(moved: Dict[int, Set[int]]) -> None:
    for pid, allowed in moved.items():
        try:
            os.sched_setaffinity(pid, allowed)
        except OSError:
            pass  # gone meanwhile


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
    if config.get("cpu") is not None:
        os.sched_setaffinity(0, {int(config["cpu"])})
    moved = kernel_threads_off([int(c) for c in config.get("kernel_threads_off", [])])
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the harness's stop, its teardown's
        signal.signal(sig, lambda *_: sys.exit(0))
    try:
        emulator = Emulator(config)
        print(json.dumps({"t": time.time(), "event": "ready", "links": len(emulator.links)}),
              flush=True)
        emulator.run()
    except KeyboardInterrupt:
        pass
    finally:  # nothing outlives the emulator, and a second signal cuts no cleanup short
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        restore_kernel_threads(moved)


if __name__ == "__main__":
    main()
