"""An experiment file run end to end, as a user runs it: `testbed run` in a child process
(its exit code says whether every expectation passed), then the run directory and its
metrics.json."""
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple


def run_experiment(path: Path, out: Path, *options: str,
                   timeout: float = 400) -> Tuple[Path, Dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(path), "--out",
                           str(out), *options], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr  # every expectation passed
    run = next(out.glob("*/*/metrics.json")).parent
    return run, json.loads((run / "metrics.json").read_text())
