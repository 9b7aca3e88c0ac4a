"""The sandbox's inside, run as root and ending as the student: `python -m
testbed.grading.jail --limits JSON [--net] [--pythonpath P] [--stage DIR] -- ARGV...`.

In order, before the student's program starts:
1. a mount namespace of its own (and, without --net, a network namespace with nothing in
   it), so what follows touches nothing outside;
2. fresh size-limited tmpfs over every place the student user could write (/tmp,
   /var/tmp, /dev/shm, /run/lock): its writes vanish with it and cannot fill the disk;
3. the work directory /tmp/work, a copy of `--stage` (the files for this check), owned
   by the student user; each `--bind` path (a file or directory the program needs, e.g.
   an agent's config and output in a run directory) mounted back where it was, in case a
   tmpfs now covers it;
4. resource limits: CPU seconds, address space, processes (per user: a fork bomb stops
   there), open files, file size;
5. the student user's uid and gid, no supplementary groups, no capabilities left;
6. exec ARGV in /tmp/work, with a minimal environment.
With --report-fd, that descriptor becomes 3: the check's inner runner reports on it.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import pwd
import resource
import shutil
import sys
from typing import Optional

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
STUDENT = "testbed-student"
WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
WORK = "/tmp/work"


def _unshare(flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare failed")


def _mount(source: Optional[str], target: str, fstype: Optional[str], flags: int,
           data: Optional[str] = None) -> None:
    """mount(2) itself: mount(8) would resolve a bind source like /proc/self/fd/N to its
    path name, which a tmpfs may cover by then."""
    libc = ctypes.CDLL(None, use_errno=True)
    enc = [x.encode() if x is not None else None for x in (source, target, fstype, data)]
    if libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        raise OSError(ctypes.get_errno(), f"cannot mount {target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limits", required=True)
    parser.add_argument("--net", action="store_true", help="keep the network namespace")
    parser.add_argument("--pythonpath", default="")
    parser.add_argument("--stage", default="")
    parser.add_argument("--bind", action="append", default=[])
    parser.add_argument("--report-fd", type=int, help="becomes descriptor 3 of the program")
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    limits = json.loads(args.limits)
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    user = pwd.getpwnam(STUDENT)
    _unshare(CLONE_NEWNS | (0 if args.net else CLONE_NEWNET))
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    kept = [(path, os.open(path, os.O_PATH)) for path in args.bind]
    stage = os.open(args.stage, os.O_RDONLY | os.O_DIRECTORY) if args.stage else None
    for place in WRITABLE:
        if os.path.isdir(place):
            _mount("tmpfs", place, "tmpfs", MS_NOSUID | MS_NODEV,
                   f"size={limits['disk_mb']}m,mode=1777")
    for path, fd in kept:
        if not os.path.exists(path):
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
        os.close(fd)
    os.makedirs(WORK)
    if stage is not None:  # through the descriptor: a tmpfs may cover its path now
        shutil.copytree(f"/proc/self/fd/{stage}", WORK, dirs_exist_ok=True, symlinks=True)
        os.close(stage)
    for root, dirs, files in os.walk(WORK):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.lchown(name, user.pw_uid, user.pw_gid)
    mib = 1 << 20
    for what, value in ((resource.RLIMIT_AS, limits["memory_mb"] * mib),
                        (resource.RLIMIT_NPROC, limits["processes"]),
                        (resource.RLIMIT_NOFILE, limits["open_files"]),
                        (resource.RLIMIT_FSIZE, limits["file_mb"] * mib),
                        (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(what, (int(value), int(value)))
    # SIGXCPU at the limit (a reason the grader can name), SIGKILL a second later
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.chdir(WORK)
    if args.report_fd is not None and args.report_fd != 3:
        os.dup2(args.report_fd, 3)  # inheritable
        os.close(args.report_fd)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": WORK, "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", "TMPDIR": "/tmp"}
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    os.execvpe(argv[0], argv, env)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # the jail failed to close: say so, never run the student
        print(f"sandbox: {exc}", file=sys.stderr)
        raise SystemExit(125)
