"""Malformed topology files: each gets its clear, positioned message and exit code 2."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testbed.cli import main
from testbed.model import InvalidInput, parse_topology

BAD = Path(__file__).resolve().parent.parent / "data" / "bad"
CASES = [line.split("\t") for line in (BAD / "EXPECTED.tsv").read_text().splitlines()
         if line and not line.startswith("#")]
GOOD = (Path(__file__).resolve().parents[2] / "topologies" / "line-3as.yaml").read_text()


def test_corpus_is_complete():
    files = sorted(p.name for p in BAD.glob("*.yaml"))
    assert files == sorted(c[0] for c in CASES)
    assert len(files) >= 30


@pytest.mark.parametrize("name,line,message", CASES, ids=[c[0] for c in CASES])
def test_bad_file(name, line, message, capsys):
    path = BAD / name
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    hits = [l for l in err.splitlines() if message in l]
    assert hits, f"expected {message!r} in:\n{err}"
    assert any(l.startswith(f"{path}:{line}:") for l in hits), err


def test_all_problems_reported_at_once():
    text = GOOD.replace("name: stub-west", "nmae: stub-west").replace("cost: 10", "cost: ten")
    with pytest.raises(InvalidInput) as exc:
        parse_topology(text, "t.yaml")
    messages = [d.message for d in exc.value.diagnostics]
    assert any("unknown key 'nmae'" in m for m in messages)
    assert any("valid integer" in m for m in messages)
    hint = next(d.hint for d in exc.value.diagnostics if "nmae" in d.message)
    assert hint == "did you mean 'name'?"


def test_missing_file_is_a_clear_error(capsys):
    assert main(["validate", "/nonexistent/x.yaml"]) == 2
    assert "no such file" in capsys.readouterr().err


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_fuzz_random_text_never_crashes(text):
    try:
        parse_topology(text, "fuzz.yaml")
    except InvalidInput as exc:
        assert exc.diagnostics and all(d.message for d in exc.diagnostics)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(GOOD) - 1), st.integers(0, 20),
       st.text(alphabet=" :-[]{},#\n\tabcr0123456789.%'\"/", max_size=8))
def test_fuzz_mutated_valid_file_never_crashes(pos, cut, insert):
    text = GOOD[:pos] + insert + GOOD[pos + cut:]
    try:
        parse_topology(text, "fuzz.yaml")
    except InvalidInput as exc:
        for diag in exc.diagnostics:
            assert diag.line >= 0 and diag.message
