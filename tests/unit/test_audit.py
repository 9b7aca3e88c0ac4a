"""The rubric audit's judgement (`testbed grade --audit`), on hand-made grades: a rubric
that grades what students write passes; one with free points, a mutant its checks miss, a
starter that scores, or a solution that loses points fails, each with its reason."""
from testbed.grading.audit import judge

MAX = {"files": 5, "tests": 20, "routes": 75}


def grades(**subjects):
    """subject -> (files, tests, routes) points."""
    return {name: {"submission": name, "max": 100, "score": sum(points),
                   "checks": [{"name": c, "kind": c if c == "files" else "unit",
                               "points": p, "max": MAX[c]}
                              for c, p in zip(MAX, points)]}
            for name, points in subjects.items()}


GOOD = dict(solution=(5, 20, 75), starter=(5, 4, 0), bug_valley=(5, 16, 40),
            empty=(0, 0, 0))


def test_a_rubric_that_grades_the_students_code_passes():
    audit = judge(grades(**GOOD))
    assert audit.ok, audit.problems
    assert audit.subjects == ["solution", "starter", "bug_valley", "empty"]
    assert audit.points[("routes", "bug_valley")] == 40 and audit.scores["starter"] == 9


def test_free_points_a_missed_bug_a_scoring_starter_and_a_losing_solution_fail():
    # routes gives the starter everything and no mutant loses there: free points
    free = judge(grades(**{**GOOD, "starter": (5, 0, 75), "bug_valley": (5, 10, 75)}))
    assert any("check routes catches no mutant" in p for p in free.problems)
    assert any("the starter scores 80" in p for p in free.problems)
    missed = judge(grades(**{**GOOD, "bug_valley": (5, 20, 75)}))
    assert missed.problems == ["mutant bug_valley scores 100, the solution 100: its bug "
                               "costs nothing"]
    losing = judge(grades(**{**GOOD, "solution": (5, 20, 70)}))
    assert any("the solution loses points on routes (70 of 75)" in p for p in losing.problems)
