"""The inner runners: what runs *inside* the sandbox as the student user, next to the
student's code, reporting one JSON document on file descriptor 3 (the parent reads it;
the student's own prints go to the check's output).

    python -m testbed.grading.inside unit TESTS...      # pytest over the work directory
    python -m testbed.grading.inside routes TOPOLOGY MODULE

Code that runs in the student's process can, in principle, forge what it reports: the
sandbox keeps such a submission from harming the machine or other submissions, not from
lying about its own tests (no in-process grader can).
"""
from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict


def _report(data: Dict[str, Any]) -> None:
    try:
        with os.fdopen(3, "w") as f:
            json.dump(data, f)
    except OSError:
        print(json.dumps(data))


def unit(tests: list) -> int:
    import pytest
    junit = os.path.join(os.getcwd(), ".grading-junit.xml")
    code = pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", os.getcwd(),
                        f"--junitxml={junit}", *tests])
    cases = []
    try:
        for case in ET.parse(junit).getroot().iter("testcase"):
            failure = next(iter(case.findall("failure") + case.findall("error")), None)
            cases.append({"name": case.get("name", "?"), "passed": failure is None,
                          "message": (failure.get("message", "") if failure is not None
                                      else "")[:300]})
    except (OSError, ET.ParseError):
        pass
    _report({"exit": int(code), "cases": cases})
    return 0


def routes(topology: str, module: str) -> int:
    from .bgp import simulate_file
    _report(simulate_file(topology, module))
    return 0


def main() -> int:
    kind, args = sys.argv[1], sys.argv[2:]
    sys.path.insert(0, os.getcwd())
    if kind == "unit":
        return unit(args)
    if kind == "routes":
        return routes(*args)
    raise SystemExit(f"unknown runner {kind}")


if __name__ == "__main__":
    raise SystemExit(main())
