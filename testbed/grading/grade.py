"""`testbed grade RUBRIC SUBMISSION...`: each submission (a directory or a tarball) graded
check by check, one after another, one network at a time; resumable.

Per submission, in `<out>/<name>/`: `grade.json` (every check's points, reason, details;
the rubric's and the submission's sha256), `feedback.md` (for the student: what passed,
what failed and why; a hidden check shows its name and points only) and `junit.xml` (one
test case per check). For the class: `<out>/scores.csv` and `<out>/summary.html`.
A submission whose `grade.json` matches the rubric and the submission (same sha256) is
not graded again, so an interrupted run picks up where it stopped.

Submissions are copied (directories) or extracted (tarballs) into a private directory
first: regular files and directories only (no links, devices, absolute or '..' paths), at
most MAX_FILES files and MAX_BYTES bytes; anything else is refused with a reason and the
submission gets zero.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tarfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Dict, List, Optional

from . import report
from .checks import Context, Result, grade_check
from .schema import Rubric

MAX_FILES = 2000
MAX_BYTES = 50 * 1024 * 1024


class BadSubmission(Exception):
    pass


def submission_name(path: Path) -> str:
    name = path.name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def digest(path: Path) -> str:
    h = hashlib.sha256()
    if path.is_file():
        h.update(path.read_bytes())
        return h.hexdigest()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        h.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def unpack(src: Path, dst: Path) -> None:
    """The submission's regular files into `dst`, or BadSubmission."""
    dst.mkdir(parents=True)
    count, size = 0, 0
    if src.is_dir():
        for f in sorted(src.rglob("*")):
            rel = f.relative_to(src)
            if f.is_symlink():
                raise BadSubmission(f"{rel} is a symbolic link")
            if f.is_dir():
                continue
            if not f.is_file():
                raise BadSubmission(f"{rel} is not a regular file")
            count, size = count + 1, size + f.stat().st_size
            if count > MAX_FILES or size > MAX_BYTES:
                raise BadSubmission(f"more than {MAX_FILES} files or {MAX_BYTES >> 20} MB")
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dst / rel)
        return
    try:
        with tarfile.open(src) as tar:
            for member in tar:
                name = member.name
                if name.startswith("/") or ".." in Path(name).parts:
                    raise BadSubmission(f"'{name[:80]}' points outside the submission")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise BadSubmission(f"'{name[:80]}' is not a regular file")
                count, size = count + 1, size + member.size
                if count > MAX_FILES or size > MAX_BYTES:
                    raise BadSubmission(f"more than {MAX_FILES} files or {MAX_BYTES >> 20} MB")
                target = dst / name
                target.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member)
                if data is not None:
                    with open(target, "wb") as out:
                        shutil.copyfileobj(data, out)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BadSubmission(f"not a readable tarball: {exc}") from None


def protect(directory: Path) -> None:
    """The instructor's directory: root's alone, before any student code runs."""
    if directory.exists():
        os.chown(directory, 0, 0)
        os.chmod(directory, stat.S_IRWXU)


class Grader:
    def __init__(self, rubric: Rubric, rubric_path: Path, out: Path,
                 on_check: Optional[Callable[[str, int, int], None]] = None):
        self.rubric, self.base, self.out = rubric, rubric_path.parent.resolve(), out
        self.rubric_sha = digest(rubric_path)
        self.on_check = on_check or (lambda name, i, n: None)
        protect(self.base / rubric.instructor)

    def grade(self, submission: Path, name: Optional[str] = None) -> Dict:
        """Grade one submission into `<out>/<name>` (default: its file or folder name)."""
        name = name or submission_name(submission)
        folder = self.out / name
        sha = digest(submission) if submission.exists() else ""
        done = folder / "grade.json"
        if done.exists():
            try:
                old = json.loads(done.read_text())
                if old.get("rubric_sha256") == self.rubric_sha and old.get("sha256") == sha:
                    old["resumed"] = True
                    return old
            except ValueError:
                pass
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        work = folder / "work"
        files = work / "submission"
        results: List[Result] = []
        problem = ""
        try:
            unpack(submission, files)
        except (BadSubmission, FileNotFoundError) as exc:
            problem = str(exc) or "no such submission"
        for i, check in enumerate(self.rubric.checks):
            self.on_check(check.name, i, len(self.rubric.checks))
            if problem:
                results.append(Result(check.name, check.title, check.kind, check.hidden,
                                      check.points, reason=f"the submission was refused: "
                                                           f"{problem}"))
                continue
            ctx = Context(self.base, files, work, self.rubric.limits)
            results.append(grade_check(check, ctx))
        grade = {"submission": name, "sha256": sha, "rubric": self.rubric.name,
                 "rubric_sha256": self.rubric_sha,
                 "score": round(sum(r.points for r in results), 2),
                 "max": self.rubric.total, "checks": [asdict(r) for r in results]}
        shutil.rmtree(work / "submission", ignore_errors=True)
        report.submission_files(folder, grade, self.rubric)
        done.write_text(json.dumps(grade, indent=2) + "\n")
        return grade

    def finish(self, grades: List[Dict]) -> None:
        """The class files, over every submission graded into `out` with this rubric."""
        self.out.mkdir(parents=True, exist_ok=True)
        report.class_files(self.out, grades, self.rubric)
