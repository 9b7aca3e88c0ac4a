"""The emulator as a child process of the harness, and its control requests."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, Dict, List

from ...process import EventProcess, ProcessError, event_named


class EmulatorProcess(EventProcess):
    name = "link emulator"

    def __init__(self, links: List[Dict[str, Any]], work_dir: Path):
        self.control_path = work_dir / "linkemu.sock"
        config = work_dir / "linkemu.json"
        config.write_text(json.dumps({"control": str(self.control_path), "links": links}))
        super().__init__("testbed.underlay.linkemu.emulator", [str(config)],
                         work_dir / "linkemu.log")

    def wait_ready(self, timeout: float = 30) -> None:
        self.wait_for(event_named("ready"), timeout)

    def request(self, **request: Any) -> Dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            try:
                sock.connect(str(self.control_path))
                sock.sendall((json.dumps(request) + "\n").encode())
                reply = json.loads(sock.makefile().readline())
            except (OSError, ValueError) as exc:
                raise ProcessError(f"the link emulator did not answer: {exc}; its log: "
                                   f"{self.log_path}") from None
        if not reply.get("ok"):
            raise ProcessError(f"the link emulator refused {request}: {reply.get('error')}")
        return reply
