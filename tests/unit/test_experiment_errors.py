"""Malformed experiment files: each gets its clear, positioned message and exit code 2."""
import json
from pathlib import Path

import pytest

from testbed.cli import main
from testbed.experiment.loader import load_experiment
from testbed.experiment.schema import json_schema
from testbed.model import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "data" / "bad_experiments"
CASES = [line.split("\t") for line in (BAD / "EXPECTED.tsv").read_text().splitlines()
         if line and not line.startswith("#")]


def test_corpus_is_complete():
    files = sorted(p.name for p in BAD.glob("*.yaml"))
    assert files == sorted(c[0] for c in CASES)
    assert len(files) >= 20


@pytest.mark.parametrize("name,line,message", CASES, ids=[c[0] for c in CASES])
def test_bad_experiment(name, line, message, capsys):
    path = BAD / name
    assert main(["run", str(path)]) == 2  # refused before anything is built
    err = capsys.readouterr().err
    assert "Traceback" not in err
    hits = [l for l in err.splitlines() if message in l]
    assert hits, f"expected {message!r} in:\n{err}"
    assert any(l.startswith(f"{path}:{line}:") for l in hits), err


def test_all_problems_reported_at_once(tmp_path):
    text = (BAD / "unknown_host.yaml").read_text().replace("rate: 10", "rate: -1") \
        .replace("metric: w1.loss", "metric: w1.lost")
    path = tmp_path / "exp.yaml"
    path.write_text(text.replace("../../../topologies", str(ROOT / "topologies")))
    with pytest.raises(InvalidInput) as exc:
        load_experiment(path)
    # schema errors come first (the network checks need a valid document)
    assert [d.path for d in exc.value.diagnostics] == ["workloads[0].rate"]
    path.write_text(path.read_text().replace("rate: -1", "rate: 10"))
    with pytest.raises(InvalidInput) as exc:
        load_experiment(path)
    assert {d.path for d in exc.value.diagnostics} == {"workloads[0].to", "expect[0].metric"}


def test_bundled_experiments_are_valid_and_schema_is_current():
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        load_experiment(path)
    committed = json.loads((ROOT / "experiments" / "experiment.schema.json").read_text())
    assert committed == json_schema(), "regenerate: testbed schema --experiment > " \
                                       "experiments/experiment.schema.json"


def test_validate_knows_experiments_from_topologies(capsys):
    assert main(["validate", str(ROOT / "experiments" / "echo-line.yaml"),
                 str(ROOT / "topologies" / "line-3as.yaml")]) == 0
    out = capsys.readouterr().out
    assert "experiment on line-3as" in out and "3 ASes" in out
