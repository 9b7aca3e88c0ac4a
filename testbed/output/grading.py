"""What `testbed grade` prints: progress over submissions and checks, then a table of
scores."""
from __future__ import annotations

from typing import Any, Dict, List

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class GradeProgress:
    def __init__(self, console: Console, submissions: int):
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total}"),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.task = self.progress.add_task("grading", total=submissions)
        self.current = ""

    def __enter__(self) -> "GradeProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def submission(self, name: str) -> None:
        self.current = name

    def check(self, name: str, i: int, n: int) -> None:
        self.progress.update(self.task, description=f"{self.current}: {name} ({i + 1}/{n})")

    def done(self) -> None:
        self.progress.advance(self.task)


def print_grades(console: Console, grades: List[Dict[str, Any]], out: str) -> None:
    table = Table(title="grades")
    for col in ("submission", "score", "failed checks"):
        table.add_column(col)
    for g in grades:
        failed = [c["name"] for c in g["checks"] if c["points"] < c["max"]]
        table.add_row(g["submission"] + (" (already graded)" if g.get("resumed") else ""),
                      f"{g['score']:g} / {g['max']:g}", ", ".join(failed))
    console.print(table)
    console.print(f"feedback, grade.json and junit.xml per submission, scores.csv and "
                  f"summary.html in {out}", highlight=False)


def print_audit(console: Console, audit: Any) -> None:
    """The audit's matrix (points per check and subject, the solution first) and its
    verdict."""
    table = Table(title="audit: points per check")
    table.add_column("check")
    for subject in audit.subjects:
        table.add_column(subject, justify="right", overflow="fold")
    for check in audit.checks:
        best = audit.points[(check, "solution")]
        table.add_row(check, *(_cell(audit.points[(check, s)], best) for s in audit.subjects))
    table.add_row("[bold]score[/]", *(f"[bold]{audit.scores[s]:g}[/]" for s in audit.subjects))
    console.print(table)
    for problem in audit.problems:
        console.print(f"[red]- {problem}[/]", highlight=False)
    console.print("audit: " + ("[green]ok[/]: every point rewards the student's code and "
                               "every mutant loses some" if audit.ok else "[red]failed[/]"))


def _cell(points: float, best: float) -> str:
    return f"{points:g}" if points >= best else f"[yellow]{points:g}[/]"
