"""`testbed lab export NAME`: the student bundle of labs/NAME, a tarball of everything in
the lab's folder but its instructor directory (the rubric's `instructor`, default
instructor/): handout, starter code, public tests, rubric, topologies."""
from __future__ import annotations

import tarfile
from pathlib import Path

from .loader import load_rubric

LABS = Path(__file__).resolve().parents[2] / "labs"


class LabError(Exception):
    pass


def export(name: str, out: Path) -> Path:
    folder = LABS / name
    if not name.replace("-", "").isalnum() or not (folder / "rubric.yaml").is_file():
        known = sorted(p.name for p in LABS.iterdir() if (p / "rubric.yaml").is_file())
        raise LabError(f"no lab '{name[:40]}' (there are: {', '.join(known)})")
    hidden = (folder / load_rubric(folder / "rubric.yaml").instructor).resolve()
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", dereference=True) as tar:  # starters may be links
        for path in sorted(folder.rglob("*")):
            resolved = path.resolve()
            if resolved == hidden or hidden in resolved.parents or "__pycache__" in path.parts:
                continue
            if path.is_file():
                tar.add(path, arcname=f"{name}/{path.relative_to(folder)}")
    return target
