"""What transit accounting costs the userspace link emulator: forwarding capacity through
one link with traffic classes off and on (every frame classified by port and counted,
and the emulator asked for its counters every second, as a run with overlays does).

Same namespaces and senders as bench/linkemu.py; rounds alternate off/on on one chain
(the machine's noise hits both alike). Prints the medians and their ratio (target: the
classes cost at most 5%: ratio >= 0.95).

    .venv/bin/python bench/accounting.py [--rounds N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from linkemu import Chain, sh, tcp_mbit, udp_pps

from testbed.process import ProcessError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if sh("ip netns list", check=False).count("tbb"):
        sys.exit("leftover tbb* namespaces: remove them first")
    chain = Chain(True, None, Path(tempfile.mkdtemp(prefix="tbb-")))
    results = {False: {"pps": [], "tcp": []}, True: {"pps": [], "tcp": []}}
    stop = threading.Event()

    def poll() -> None:  # the runner's accounting: the counters, once a second
        while not stop.wait(1.0):
            try:
                chain.emulator.request(cmd="stats")
            except ProcessError:
                pass  # restarting between settings
    try:
        threading.Thread(target=poll, daemon=True).start()
        for k in range(args.rounds):
            for classes in (False, True):
                ports = {"5300": "bench", "5301": "bench", "9": "other"} if classes else {}
                chain.restart_emulator()  # classes are only ever added: start afresh
                if classes:
                    chain.emulator.request(cmd="classes", links=[0, 1, 2, 3], ports=ports)
                results[classes]["pps"].append(udp_pps())
                results[classes]["tcp"].append(tcp_mbit())
    finally:
        stop.set()
        chain.close()
    for key, unit in (("pps", "64-byte UDP packets/s"), ("tcp", "TCP Mbit/s")):
        off = statistics.median(results[False][key])
        on = statistics.median(results[True][key])
        print(f"{unit} through one link: classes off {off:,.0f}, on {on:,.0f} "
              f"(ratio {on / off:.3f}; target >= 0.95)  rounds: off "
              f"{[round(x) for x in results[False][key]]}, on "
              f"{[round(x) for x in results[True][key]]}")


if __name__ == "__main__":
    main()
