"""The contract's entry point, shared by every agent: `--config FILE`, JSON in, and SIGTERM
(or Ctrl-C) setting `running = False` so the agent's loop ends, flushes and returns
within the 2 s the harness allows. Imports nothing of the harness."""
from __future__ import annotations

import argparse
import json
import signal
from typing import Any, Callable, Dict


def main(make_agent: Callable[[Dict[str, Any]], Any], description: str) -> None:
    """Build the agent from its config file and run it until SIGTERM."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="the agent's JSON config (overlays/README.md)")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        agent = make_agent(json.load(f))

    def stop(*_: Any) -> None:
        agent.running = False
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
