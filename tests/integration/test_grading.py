"""`testbed grade` for real: each lab audited (`--audit`: its solution, starter and
instructor mutants get their exact scores, the solution all, the starter at most 10,
every mutant less, no check free), hostile submissions get zero with a reason and leave
nothing behind, tarballs are unpacked safely, grading is repeatable and resumable, and
the student bundle holds no instructor files. Needs root (the sandbox switches to the
unprivileged student user)."""
import csv
import json
import os
import pwd
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB1 = ROOT / "labs" / "policy-routing"
DATA = ROOT / "tests" / "data" / "grading"
MUTANTS1 = LAB1 / "instructor" / "mutants"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="grading needs root")

# submission -> (score, checks that lose points)
LAB1_EXPECTED = {
    "solution": (100.0, set()),
    # routes earn nothing for the paths routing by length alone gets right
    "starter": (9.0, {"public-tests", "hidden-tests", "policy-detour", "local-pref",
                      "hidden-topology"}),
    "bug-local-pref": (81.0, {"public-tests", "local-pref"}),
    "bug-valley": (81.0, {"public-tests", "local-pref"}),  # its rules oscillate there
    "bug-no-export": (91.59, {"hidden-tests", "hidden-topology"}),
    "syntax-error": (5.0, {"public-tests", "hidden-tests", "policy-detour", "local-pref",
                           "hidden-topology"}),
    "empty": (0.0, {"files", "public-tests", "hidden-tests", "policy-detour", "local-pref",
                    "hidden-topology"}),
}


def grade(rubric, subs, out, *options):
    proc = subprocess.run([sys.executable, "-m", "testbed.cli", "grade", str(rubric),
                           *map(str, subs), "--out", str(out), *options],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/grade.json")}, proc


def audit(lab, out):
    """`testbed grade --audit`: the solution, the starter and every mutant, judged."""
    grades, proc = grade(lab / "rubric.yaml", [], out, "--audit")
    assert "audit: ok" in proc.stdout, proc.stdout
    return grades


def failed(g):
    return {c["name"] for c in g["checks"] if c["points"] < c["max"]}


def nothing_left():
    uid = pwd.getpwnam("testbed-student").pw_uid
    left = subprocess.run(["pgrep", "-u", str(uid)], capture_output=True, text=True).stdout
    assert not left.strip(), left


def test_lab1_audited_its_submissions_get_their_exact_scores(tmp_path):
    grades = audit(LAB1, tmp_path / "grades")
    got = {name: (g["score"], failed(g)) for name, g in grades.items()}
    assert got == LAB1_EXPECTED
    # the class files and the per-submission ones
    rows = list(csv.DictReader(open(tmp_path / "grades" / "scores.csv")))
    assert {r["submission"]: float(r["score"]) for r in rows} == \
        {k: v[0] for k, v in LAB1_EXPECTED.items()}
    assert "<img src='data:image/png;base64," in (tmp_path / "grades" / "summary.html").read_text()
    suite = ET.parse(tmp_path / "grades" / "bug-no-export" / "junit.xml").getroot()
    assert [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None] == \
        ["hidden-tests", "hidden-topology"]
    feedback = (tmp_path / "grades" / "bug-no-export" / "feedback.md").read_text()
    assert "hidden-tests (hidden) | 10 / 15" in feedback
    assert "no_export" not in feedback and "test_no_export" not in feedback  # hidden: no details
    starter = (tmp_path / "grades" / "starter" / "feedback.md").read_text()
    assert "test_valley_free_export" in starter and "Why: 4 of 5 tests failed" in starter
    assert (LAB1 / "instructor").stat().st_mode & 0o077 == 0  # root's alone
    nothing_left()


def test_grading_is_repeatable_and_resumable(tmp_path):
    solution = LAB1 / "instructor" / "solution"
    bug = MUTANTS1 / "bug-local-pref"
    first, _ = grade(LAB1 / "rubric.yaml", [bug], tmp_path / "a")
    again, _ = grade(LAB1 / "rubric.yaml", [bug], tmp_path / "b")
    def outcome(g):
        return [(c["name"], c["points"], c["reason"], c["details"]) for c in g["checks"]]
    assert outcome(first["bug-local-pref"]) == outcome(again["bug-local-pref"])
    _, proc = grade(LAB1 / "rubric.yaml", [bug, solution], tmp_path / "a")
    assert "bug-local-pref (already graded)" in proc.stdout
    assert len(list(csv.DictReader(open(tmp_path / "a" / "scores.csv")))) == 2


def test_tarballs_are_unpacked_safely(tmp_path):
    good = tmp_path / "alice.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        tar.add(LAB1 / "instructor" / "solution" / "bgp_policy.py", arcname="bgp_policy.py")
    evil = tmp_path / "mallory.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(LAB1 / "instructor" / "solution" / "bgp_policy.py",
                arcname="../../escaped.py")
    grades, _ = grade(LAB1 / "rubric.yaml", [good, evil], tmp_path / "grades")
    assert grades["alice"]["score"] == 100
    assert grades["mallory"]["score"] == 0
    assert "points outside the submission" in grades["mallory"]["checks"][0]["reason"]
    assert not list(tmp_path.rglob("escaped.py"))


LAB2 = ROOT / "labs" / "routing-overlay"
LAB2_EXPECTED = {  # the outage experiment's measured failover decides these (see its notes)
    "solution": (100.0, set()),
    "starter": (5.0, {"public-tests", "hidden-tests", "outage", "detour"}),
    "bug-slow-detect": (61.25, {"public-tests", "outage"}),
    "bug-no-detour": (68.33, {"public-tests", "hidden-tests", "detour"}),
    "empty": (0.0, {"files", "public-tests", "hidden-tests", "outage", "detour"}),
}


def test_lab2_audited_by_running_the_outage_experiment(tmp_path):
    """The experiment checks: each submission's agents run in the sandbox on a live
    network; failover time and delivery earn the points (a miss within 25% earns half),
    and a hidden detour experiment on policy-detour."""
    grades = audit(LAB2, tmp_path / "grades")
    assert {n: (g["score"], failed(g)) for n, g in grades.items()} == LAB2_EXPECTED
    nothing_left()


LAB3 = ROOT / "labs" / "cdn-routing"
LAB3_EXPECTED = {  # the routing experiment's measured TTFB and outages decide these
    "solution": (100.0, set()),
    "starter": (7.5, {"public-tests", "hidden-tests", "routing"}),
    "bug-first-edge": (47.0, {"public-tests", "hidden-tests", "routing"}),  # far edges
    "bug-no-liveness": (65.5, {"public-tests", "hidden-tests", "routing"}),  # a 15 s outage
    "bug-no-load": (91.0, {"public-tests", "hidden-tests"}),
    "syntax-error": (5.0, {"public-tests", "hidden-tests", "routing"}),
    "empty": (0.0, {"files", "public-tests", "hidden-tests", "routing"}),
}


def test_lab3_audited_by_running_their_request_router(tmp_path):
    """The CDN lab: each submission's choose() routes a live CDN's DNS answers in the
    sandbox; latency, failures and the recovery from an edge failure earn the points. A
    submission that does not parse loses the experiment without a run."""
    grades = audit(LAB3, tmp_path / "grades")
    assert {n: (g["score"], failed(g)) for n, g in grades.items()} == LAB3_EXPECTED
    routing = {c["name"]: c for c in grades["syntax-error"]["checks"]}["routing"]
    assert routing["reason"] == "cdn_policy.py does not parse: line 4: expected ':'"
    nothing_left()


def test_live_checks_build_the_submitted_topology(tmp_path):
    """reach and trace on a student's own topology: all pairs, and traceroute AS paths."""
    subs = sorted((DATA / "live" / "subs").iterdir())
    grades, _ = grade(DATA / "live" / "rubric.yaml", subs, tmp_path / "grades")
    assert {n: (g["score"], failed(g)) for n, g in grades.items()} == {
        "good": (22.0, set()),
        "no-peering": (17.0, {"paths"}),  # AS2 -> AS3 goes up through AS1
        "isolated": (13.0, {"reach", "paths"}),  # AS4 reaches only its peer AS3
        "invalid": (0.0, {"reach", "paths"}),  # no network is built
    }
    checks = {c["name"]: c for c in grades["isolated"]["checks"]}
    assert checks["reach"]["reason"] == "4 of 12 host pairs do not reach each other"
    assert "as4.h1 -> as2.h1: AS path none (not reached)" in checks["paths"]["details"][0]
    checks = {c["name"]: c for c in grades["invalid"]["checks"]}
    assert checks["reach"]["reason"] == "topology.yaml is not a valid topology"
    assert checks["reach"]["details"][0].startswith("topology.yaml:8:"), checks["reach"]


def test_an_experiment_check_over_its_timeout_is_stopped_and_torn_down(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "ron_policy.py").write_text((LAB2 / "instructor/solution/ron_policy.py").read_text())
    started = time.monotonic()
    grades, _ = grade(DATA / "live" / "overtime.yaml", [sub], tmp_path / "grades")
    check = grades["sub"]["checks"][0]
    assert (check["points"], check["reason"]) == (0, "the check ran over its timeout (15 s)")
    assert time.monotonic() - started < 60  # the outage experiment alone is 26 s
    nothing_left()
    bridges = subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout
    assert not [b for b in bridges.split() if b.startswith("as")]  # torn down
    assert not [link for link in os.listdir("/sys/class/net") if link.startswith("tb")]


HOSTILE = {  # submission -> words its reason must have
    "fork-bomb": ("processes", "did not finish"),
    "busy-loop": ("CPU time",),
    "sleeps": ("did not finish within",),
    "memory": ("ran out of memory",),
    "fills-disk": ("larger than", "disk space"),
    "writes-outside": ("tests failed",),
    "reads-hidden": ("tests failed",),
    "signals-others": ("killed", "CPU time", "tests failed"),
    "leaves-processes": ("left 1 process",),
}


def test_hostile_submissions_get_zero_with_a_reason_and_leave_nothing(tmp_path):
    subs = DATA / "sandbox" / "subs"
    order = [subs / n for n in HOSTILE] + [subs / "writes-tmp", subs / "good"]
    grades, _ = grade(DATA / "sandbox" / "rubric.yaml", order, tmp_path / "grades")
    for name, words in HOSTILE.items():
        g = grades[name]
        assert g["score"] == 0, (name, g["checks"])
        for check in g["checks"]:
            assert any(w in check["reason"] for w in words), (name, check["reason"])
    assert grades["good"]["score"] == 15  # graded normally after all of them
    assert grades["writes-tmp"]["score"] == 15  # its /tmp was its own ...
    assert not Path("/tmp/testbed-escape").exists()  # ... and is gone
    assert not Path("/etc/testbed-pwned").exists() and not (ROOT / "pwned").exists()
    nothing_left()


def test_student_bundle_leaves_the_instructor_folder_out(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "testbed.cli", "lab", "export",
                           "policy-routing", "--out", str(tmp_path)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    names = tarfile.open(tmp_path / "policy-routing.tar.gz").getnames()
    assert "policy-routing/README.md" in names and "policy-routing/starter/bgp_policy.py" in names
    assert "policy-routing/rubric.yaml" in names
    assert not [n for n in names if "instructor" in n]
