"""Rubric files: every problem at file:line:col (the loader), and the pure parts of
grading (credit bands, valleys, safe unpacking) without root."""
import tarfile
import textwrap

import pytest

from testbed.grading.checks import _credit, unparsable, valley
from testbed.grading.grade import BadSubmission, unpack
from testbed.grading.loader import load_rubric
from testbed.model import InvalidInput


def problems(tmp_path, text, files=()):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    path = tmp_path / "rubric.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InvalidInput) as exc:
        load_rubric(path)
    return [str(d) for d in exc.value.diagnostics]


def test_schema_errors_are_positioned(tmp_path):
    got = problems(tmp_path, """\
        name: lab
        checks:
          - {name: a, kind: files, points: 5, require: [x.py]}
          - {name: b, kind: quiz, points: 5}
          - {name: c, kind: files, points: -1, require: [../etc/passwd]}
        """)
    assert any(":4:" in p and "quiz" in p for p in got), got
    assert any(":5:" in p and "greater than or equal to 0" in p for p in got), got
    assert any(":5:" in p and "may not go up" in p for p in got), got


def test_files_hidden_and_visible_in_their_places(tmp_path):
    got = problems(tmp_path, """\
        name: lab
        checks:
          - {name: pub, kind: unit, points: 5, tests: [instructor/t.py]}
          - {name: sec, kind: unit, points: 5, hidden: true, tests: [t.py]}
          - {name: sec, kind: unit, points: 5, tests: [missing.py]}
        """, files=["instructor/t.py", "t.py"])
    assert any(":3:" in p and "visible check's 'instructor/t.py'" in p for p in got), got
    assert any(":4:" in p and "outside the instructor directory" in p for p in got), got
    assert any(":5:" in p and "two checks are named 'sec'" in p for p in got), got
    assert any(":5:" in p and "no file 'missing.py'" in p for p in got), got


def test_the_bundled_rubric_loads_and_a_student_copy_without_hidden_checks(tmp_path):
    from pathlib import Path
    lab = Path(__file__).resolve().parents[2] / "labs" / "policy-routing" / "rubric.yaml"
    assert load_rubric(lab).total == 100
    assert load_rubric(lab, visible_only=True).total == 60


def test_trace_checks_parse_and_a_submitted_topology_is_not_looked_for(tmp_path):
    trace = """\
        name: lab
        checks:
          - {name: a, kind: trace, points: 5, topology: mine.yaml, submitted: true,
             paths: [{from: as1.h1, to: as2.h1, ases: [1, 2]}]}
          - {name: b, kind: trace, points: 5, topology: theirs.yaml,
             paths: [{from: %s, to: as2.h1, ases: %s}]}
        """
    got = problems(tmp_path, trace % ("as1", "[]"))
    assert any(":6:" in p and "node name" in p for p in got), got
    assert any(":6:" in p and "at least 1 item" in p for p in got), got
    got = problems(tmp_path, trace % ("as1.h1", "[1, 2]"))
    assert len(got) == 1 and ":5:" in got[0] and "theirs.yaml" in got[0], got  # not mine


def test_placed_python_that_does_not_parse_is_named_with_its_line(tmp_path):
    (tmp_path / "good.py").write_text("def f():\n    return 1\n")
    (tmp_path / "bad.py").write_text("x = 1\ndef f()\n    return 1\n")
    (tmp_path / "deep.py").write_text("x = " + "(" * 10_000 + ")" * 10_000 + "\n")
    (tmp_path / "data.yaml").write_text("def: [\n")
    assert unparsable([tmp_path / "good.py", tmp_path / "data.yaml"]) is None
    assert unparsable([tmp_path / "bad.py"]) == "bad.py does not parse: line 2: expected ':'"
    assert "deep.py does not" in unparsable([tmp_path / "deep.py"])


def test_partial_credit_bands():
    e = {"op": "<", "value": 2, "target": 2.0, "passed": False, "tolerance": 0}
    assert _credit({**e, "passed": True, "measured": 1.0}, 0.25, 0.5) == 1
    assert _credit({**e, "measured": 2.4}, 0.25, 0.5) == 0.5  # 20% over: within the band
    assert _credit({**e, "measured": 3.0}, 0.25, 0.5) == 0
    assert _credit({**e, "op": "==", "target": 10.0, "tolerance": 1, "measured": 12.0},
                   0.25, 0.5) == 0.5
    assert _credit({**e, "measured": None}, 0.25, 0.5) == 0


def test_valleys():
    rel = {(1, 2): "peer", (2, 1): "peer", (2, 3): "customer", (3, 2): "provider",
           (3, 4): "provider", (4, 3): "customer", (1, 5): "customer", (5, 1): "provider"}
    assert not valley([3, 2, 1, 5], rel)  # up, across, down
    assert valley([2, 3, 4], rel)  # down, then up
    assert valley([5, 1, 2, 1], rel)  # across twice
    assert valley([1, 3], rel)  # not neighbours


def test_unpacking_refuses_what_points_outside(tmp_path):
    evil = tmp_path / "evil.tar"
    (tmp_path / "f").write_text("x")
    with tarfile.open(evil, "w") as tar:
        tar.add(tmp_path / "f", arcname="../f")
    with pytest.raises(BadSubmission, match="outside"):
        unpack(evil, tmp_path / "out1")
    link = tmp_path / "linky"
    link.mkdir()
    (link / "l").symlink_to("/etc/passwd")
    with pytest.raises(BadSubmission, match="symbolic link"):
        unpack(link, tmp_path / "out2")
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.py").write_text("a")
    unpack(tmp_path / "ok", tmp_path / "out3")
    assert (tmp_path / "out3" / "a.py").read_text() == "a"


def test_the_committed_rubric_schema_is_current():
    import json
    from pathlib import Path

    from testbed.grading.schema import json_schema
    committed = Path(__file__).resolve().parents[2] / "labs" / "rubric.schema.json"
    assert json.loads(committed.read_text()) == json_schema(), \
        "regenerate: testbed schema --rubric > labs/rubric.schema.json"


def test_validate_knows_rubrics(tmp_path, capsys):
    from pathlib import Path

    from testbed.cli import main
    lab = Path(__file__).resolve().parents[2] / "labs" / "routing-overlay" / "rubric.yaml"
    assert main(["validate", str(lab)]) == 0
    assert "rubric: 5 checks, 100 points" in " ".join(capsys.readouterr().out.split())
    bad = tmp_path / "r.yaml"
    bad.write_text("name: x\nchecks: []\n")
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err
