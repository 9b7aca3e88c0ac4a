"""Running student code: never as root, always within limits, nothing left behind.

`run()` starts `python -m testbed.grading.jail` (root) which confines itself and becomes
the student user before it executes the student's program (jail.py says how); here, the
parent side: the wall-clock timeout, output capture with a cap, the inner runner's report
on file descriptor 3, a plain-words reason when a limit was hit, and afterwards every
process of the student user killed, counted as left behind.

The student user (`testbed-student`, created by vagrant/provision.sh) owns nothing and
can read only what every user can: never the instructor's directories (made 0700 by the
grader before anything runs).
"""
from __future__ import annotations

import json
import os
import pwd
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .jail import STUDENT

REPO = Path(__file__).resolve().parents[2]
MAX_OUTPUT = 64 * 1024  # bytes of stdout/stderr kept per check
MAX_REPORT = 4 * 1024 * 1024


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Outcome:
    returncode: Optional[int]
    output: str  # stdout and stderr, interleaved, at most MAX_OUTPUT
    report: Optional[Any]  # what the inner runner wrote to fd 3 (JSON), if anything
    wall_s: float
    reason: Optional[str] = None  # why it earns nothing regardless of its report
    left_behind: int = 0
    notes: List[str] = field(default_factory=list)


def student_uid() -> int:
    try:
        return pwd.getpwnam(STUDENT).pw_uid
    except KeyError:
        raise SandboxUnavailable(f"no user '{STUDENT}': run vagrant/provision.sh (it creates "
                                 "the unprivileged user student code runs as)") from None


def jail_argv(limits: Dict[str, Any], argv: Sequence[str], net: bool = False,
              pythonpath: str = "", stage: Optional[Path] = None,
              binds: Sequence[Path] = (), report_fd: Optional[int] = None) -> List[str]:
    out = [sys.executable, "-m", "testbed.grading.jail", "--limits", json.dumps(limits)]
    if net:
        out.append("--net")
    if pythonpath:
        out += ["--pythonpath", pythonpath]
    if stage is not None:
        out += ["--stage", str(stage)]
    for path in [REPO, *binds]:  # the repository (and its venv) may live under /tmp
        out += ["--bind", str(path)]
    if report_fd is not None:
        out += ["--report-fd", str(report_fd)]
    return out + ["--", *argv]


def run(argv: Sequence[str], limits: Dict[str, Any], timeout: float, stage: Path,
        pythonpath: str = "") -> Outcome:
    """Run `argv` in the sandbox with the files of `stage` as its work directory."""
    uid = student_uid()
    read_report, write_report = os.pipe()
    began = time.monotonic()
    proc = subprocess.Popen(jail_argv(limits, argv, pythonpath=pythonpath, stage=stage,
                                      report_fd=write_report),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, pass_fds=(write_report,),
                            start_new_session=True,
                            cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                          "PYTHONPATH": str(Path(__file__).parents[2])})
    os.close(write_report)
    assert proc.stdout is not None
    output, report = bytearray(), bytearray()
    timed_out = False
    # a selector, not select(): the grader's own descriptors may number above 1024
    with selectors.DefaultSelector() as streams:
        streams.register(proc.stdout.fileno(), selectors.EVENT_READ, output)
        streams.register(read_report, selectors.EVENT_READ, report)
        while streams.get_map():
            left = timeout - (time.monotonic() - began)
            if left <= 0:
                timed_out = True
                break
            for key, _ in streams.select(min(left, 0.5)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    streams.unregister(key.fd)
                    continue
                buf = key.data
                cap = MAX_OUTPUT if buf is output else MAX_REPORT
                buf.extend(chunk[:max(0, cap - len(buf))])
    if timed_out:
        _kill_group(proc.pid)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
    os.close(read_report)
    proc.stdout.close()
    wall = time.monotonic() - began
    left = kill_user(uid)
    text = output.decode("utf-8", "replace")
    outcome = Outcome(proc.returncode, text, _parse(report), wall, left_behind=left)
    outcome.reason = _reason(outcome, limits, timeout, timed_out)
    return outcome


def _parse(report: bytearray) -> Optional[Any]:
    try:
        return json.loads(report.decode("utf-8")) if report else None
    except ValueError:
        return None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_user(uid: int) -> int:
    """SIGKILL every process of `uid` until none is left; how many there were."""
    seen = set()
    for _ in range(50):
        pids = [p for p in _pids_of(uid)]
        if not pids:
            break
        for pid in pids:
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)
    return len(seen)


def _pids_of(uid: int) -> List[int]:
    """The live processes of `uid`: a zombie has already exited (its parent, the
    sandbox's own, has not reaped it yet), so it is nothing left running."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                state = ""
                for line in f:
                    if line.startswith("State:"):
                        state = line.split()[1]
                    elif line.startswith("Uid:"):
                        if int(line.split()[1]) == uid and state not in ("Z", "X"):
                            out.append(int(entry))
                        break
        except OSError:
            continue
    return out


SIGNALS = {signal.SIGXCPU: "used more than its CPU time ({cpu_s} s)",
           signal.SIGXFSZ: "wrote a file larger than {file_mb} MB",
           signal.SIGSEGV: "crashed (segmentation fault)"}
SYMPTOMS = (("MemoryError", "ran out of memory (limit {memory_mb} MB)"),
            ("Cannot allocate memory", "ran out of memory (limit {memory_mb} MB)"),
            ("Resource temporarily unavailable", "started too many processes (limit "
                                                 "{processes})"),
            ("BlockingIOError: [Errno 11]", "started too many processes (limit {processes})"),
            ("No space left on device", "filled its disk space ({disk_mb} MB)"),
            ("File too large", "wrote a file larger than {file_mb} MB"),
            ("Too many open files", "opened too many files (limit {open_files})"))


def _reason(o: Outcome, limits: Dict[str, Any], timeout: float, timed_out: bool) -> Optional[str]:
    if o.output.startswith("sandbox:") or o.returncode == 125:
        return f"the sandbox could not start: {o.output.strip()[:200]}"
    if timed_out:
        return f"did not finish within {timeout:g} s (wall clock)"
    if o.returncode is not None and o.returncode < 0:
        sig = -o.returncode
        if sig in SIGNALS:
            return SIGNALS[signal.Signals(sig)].format(**limits)
        if sig == signal.SIGKILL:
            return "was killed (a limit was exceeded)"
    for symptom, reason in SYMPTOMS:
        if symptom in o.output:
            if o.report is None or o.returncode:
                return reason.format(**limits)
            o.notes.append(reason.format(**limits))
    if o.left_behind and o.returncode is not None:
        return f"left {o.left_behind} process(es) running after it ended"
    return None
