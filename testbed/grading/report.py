"""What grading writes: for the student `feedback.md`, for an LMS or CI `junit.xml`, for
the instructor `scores.csv` and `summary.html` (score histogram and a table). A hidden
check appears by name and points only: never its reason, details or output."""
from __future__ import annotations

import base64
import csv
import html
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List

from ..experiment.report import fmt
from ..model.diagnostics import printable
from .schema import Rubric

MAX_SHOWN = 3000  # characters of a check's output in the feedback


def feedback(grade: Dict[str, Any], rubric: Rubric) -> str:
    lines = [f"# {rubric.title or rubric.name}: {grade['submission']}", "",
             f"**Score: {fmt(grade['score'])} / {fmt(grade['max'])}**", "",
             "| check | points | |", "|---|---|---|"]
    for c in grade["checks"]:
        mark = "passed" if c["points"] >= c["max"] else "failed"
        label = c["name"] + (" (hidden)" if c["hidden"] else "")
        lines.append(f"| {label} | {fmt(c['points'])} / {fmt(c['max'])} | {mark} |")
    for c, check in zip(grade["checks"], rubric.checks):
        if c["points"] >= c["max"] or c["hidden"]:
            continue
        lines += ["", f"## {c['name']}: {fmt(c['points'])} / {fmt(c['max'])}", ""]
        if c["title"]:
            lines.append(f"*{c['title']}*")
        lines.append(f"Why: {printable(c['reason'], 500) or 'points lost'}")
        if check.feedback:
            lines += ["", check.feedback]
        if c["details"]:
            lines += [""] + [f"- {printable(d, 300)}" for d in c["details"][:20]]
        if c["output"].strip():
            out = c["output"][-MAX_SHOWN:]
            lines += ["", "Output (last lines):", "", "```", out.replace("```", "'''"), "```"]
    hidden = [c for c in grade["checks"] if c["hidden"] and c["points"] < c["max"]]
    if hidden:
        lines += ["", "Hidden checks are graded on material you do not see; they are listed "
                      "above by name and points."]
    return "\n".join(lines) + "\n"


def junit(grade: Dict[str, Any]) -> bytes:
    checks = grade["checks"]
    suite = ET.Element("testsuite", name=grade["rubric"], tests=str(len(checks)),
                       failures=str(sum(c["points"] < c["max"] for c in checks)))
    for c in checks:
        case = ET.SubElement(suite, "testcase", classname=grade["submission"], name=c["name"],
                             time=f"{c['wall_s']:.2f}")
        ET.SubElement(case, "properties").extend(
            [ET.Element("property", name="points", value=fmt(c["points"])),
             ET.Element("property", name="max", value=fmt(c["max"]))])
        if c["points"] < c["max"]:
            message = "hidden check" if c["hidden"] else printable(c["reason"], 500)
            ET.SubElement(case, "failure", message=message)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)


def submission_files(folder: Path, grade: Dict[str, Any], rubric: Rubric) -> None:
    (folder / "feedback.md").write_text(feedback(grade, rubric))
    (folder / "junit.xml").write_bytes(junit(grade))


def class_files(out: Path, grades: List[Dict[str, Any]], rubric: Rubric) -> None:
    """scores.csv and summary.html over every graded submission in `out`."""
    everyone = {}
    for path in sorted(out.glob("*/grade.json")):
        try:
            g = json.loads(path.read_text())
        except ValueError:
            continue
        if g.get("rubric") == rubric.name:
            everyone[g["submission"]] = g
    for g in grades:
        everyone[g["submission"]] = g
    rows = sorted(everyone.values(), key=lambda g: g["submission"])
    with open(out / "scores.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["submission", "score", "max", *(c.name for c in rubric.checks)])
        for g in rows:
            points = {c["name"]: c["points"] for c in g["checks"]}
            w.writerow([g["submission"], g["score"], g["max"],
                        *(points.get(c.name, "") for c in rubric.checks)])
    (out / "summary.html").write_text(_summary_html(rows, rubric))


def _histogram(scores: List[float], top: float) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(scores, bins=min(20, max(5, len(scores))), range=(0, top or 1))
    ax.set_xlabel("score")
    ax.set_ylabel("submissions")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _summary_html(rows: List[Dict[str, Any]], rubric: Rubric) -> str:
    scores = [g["score"] for g in rows]
    mean = sum(scores) / len(scores) if scores else 0.0
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in rubric.checks)
    body = []
    for g in rows:
        points = {c["name"]: c["points"] for c in g["checks"]}
        cells = "".join(f"<td>{fmt(points.get(c.name, 0))}</td>" for c in rubric.checks)
        body.append(f"<tr><td>{html.escape(g['submission'])}</td><td><b>{fmt(g['score'])}"
                    f"</b></td>{cells}</tr>")
    img = _histogram(scores, rubric.total) if scores else ""
    return (f"<!doctype html><meta charset='utf-8'><title>{html.escape(rubric.name)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
            "border-bottom:1px solid #ddd}</style>"
            f"<h1>{html.escape(rubric.title or rubric.name)}</h1>"
            f"<p>{len(rows)} submissions, mean {mean:.1f} of {fmt(rubric.total)}</p>"
            + (f"<img src='data:image/png;base64,{img}'>" if img else "") +
            f"<table><tr><th>submission</th><th>score</th>{head}</tr>{''.join(body)}</table>")
