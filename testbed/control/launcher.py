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
from .router_app import RouterApp, emit


def main() -> None:
    parser = argparse.ArgumentParser(description="testbed OpenFlow router controller")
    parser.add_argument("plan", help="controller plan (JSON) to install")
    parser.add_argument("--port", type=int, default=6653)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    RouterApp.plan_path = args.plan
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    emit("controller_started", framework=fw.version(), port=args.port)
    fw.run(RouterApp.__module__, args.host, args.port)


if __name__ == "__main__":
    main()
