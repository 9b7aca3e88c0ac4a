"""Process entry point of the controller: `python -m testbed.control.launcher PLAN`.

The harness starts it (not ryu-manager) so it controls the arguments, reads the app's
JSON-line events from stdout and stops it by PID. SIGTERM exits cleanly.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys

from . import framework as fw
from .events import emit
from .router_app import RouterApp


def main() -> None:
    parser = argparse.ArgumentParser(description="testbed OpenFlow router controller")
    parser.add_argument("topology", help="topology file whose routes to install")
    parser.add_argument("--port", type=int, default=6653)
    parser.add_argument("--convergence-delay-ms", type=float,
                        help="override the topology's routing.convergence_delay")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    RouterApp.topology_path = args.topology
    RouterApp.convergence_delay_ms = args.convergence_delay_ms
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    emit("controller_started", framework=fw.version(), port=args.port)
    fw.run(RouterApp.__module__, args.host, args.port)


if __name__ == "__main__":
    main()
