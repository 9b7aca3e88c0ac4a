"""Mutation testing of the pure core: would the unit tests notice a bug in these modules?

mutmut (PyPI) changes one thing at a time in a module (an operator, a constant, a
comparison, a return value) and runs the module's unit tests against each such mutant; a
mutant the tests do not fail "survived". The score is killed / (killed + survived) per
module (mutants that time out count as killed: the tests noticed something; those no
test reaches count as survived). Each module is mutated in a scratch copy of the
repository (mutmut works in `mutants/` beside its config), so the work tree is untouched.

    .venv/bin/python bench/mutation.py [--module testbed/measure/billing.py ...]
        [--json F] [--survivors]

Slow (minutes per module on two cores): not part of CI. `--survivors` lists each
surviving mutant's diff, to write the test that kills it.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
# module -> the unit tests that judge it
MODULES: Dict[str, List[str]] = {
    "testbed/control/policy.py": ["tests/unit/test_policy.py"],
    "testbed/measure/billing.py": ["tests/unit/test_billing.py"],
    "testbed/measure/metrics.py": ["tests/unit/test_metrics.py"],
    "overlays/cdn/cache.py": ["tests/unit/test_cdn_parts.py"],
    "overlays/dht/ring.py": ["tests/unit/test_dht_parts.py"],
    "overlays/onion/cells.py": ["tests/unit/test_onion_parts.py"],
    "overlays/onion/crypto.py": ["tests/unit/test_onion_parts.py"],
}
TARGET = 0.85


def run_module(module: str, tests: List[str], survivors: bool) -> Dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="mutation-"))
    try:
        for part in ("testbed", "overlays", "tests", "topologies"):
            shutil.copytree(ROOT / part, scratch / part,
                            ignore=shutil.ignore_patterns("__pycache__"))
        package = module.split("/")[0]
        others = [p for p in ("testbed", "overlays") if p != package]
        (scratch / "pyproject.toml").write_text(
            "[tool.pytest.ini_options]\nnorecursedirs = [\"data\"]\n\n[tool.mutmut]\n"
            f"source_paths = [\"{package}\"]\n"
            f"only_mutate = [\"{module}\"]\n"
            f"also_copy = {json.dumps(others + ['tests', 'topologies'])}\n"
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
            "pytest_add_cli_args = [\"-x\", \"-q\", \"-p\", \"no:cacheprovider\"]\n")
        mutmut = [sys.executable, "-m", "mutmut"]
        subprocess.run(mutmut + ["run"], cwd=scratch, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(mutmut + ["export-cicd-stats"], cwd=scratch, capture_output=True)
        stats = json.loads((scratch / "mutants" / "mutmut-cicd-stats.json").read_text())
        killed = stats.get("killed", 0) + stats.get("timeout", 0)
        survived = stats.get("survived", 0) + stats.get("no_tests", 0)
        out: Dict[str, object] = {"module": module, "killed": killed, "survived": survived,
                                  "score": round(killed / max(killed + survived, 1), 3)}
        if survivors:
            listing = subprocess.run(mutmut + ["results"], cwd=scratch, capture_output=True,
                                     text=True).stdout
            names = [line.split(":")[0].strip() for line in listing.splitlines()
                     if line.strip().endswith(("survived", "no tests"))]
            out["survivors"] = [subprocess.run(mutmut + ["show", name], cwd=scratch,
                                               capture_output=True, text=True).stdout
                                for name in names]
        return out
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", choices=sorted(MODULES),
                        help="only this module (repeatable); default: all")
    parser.add_argument("--json", metavar="F", help="also write the results as JSON")
    parser.add_argument("--survivors", action="store_true",
                        help="print each surviving mutant's diff")
    args = parser.parse_args()
    results = []
    for module in args.module or list(MODULES):
        r = run_module(module, MODULES[module], args.survivors)
        results.append(r)
        mark = "ok" if float(r["score"]) >= TARGET else f"below {TARGET}"
        print(f"{module:32} killed {r['killed']:4} survived {r['survived']:4} "
              f"score {r['score']:.3f} ({mark})", flush=True)
        for diff in r.get("survivors", []):
            print(diff)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(float(r["score"]) >= TARGET for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
