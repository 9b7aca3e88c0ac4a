"""How the controllers report: one JSON line per event on stdout, with its wall-clock time
`t` (read by the harness's `process.EventProcess`)."""
from __future__ import annotations

import json
import time
from typing import Any


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"t": round(time.time(), 6), "event": event, **fields}), flush=True)
