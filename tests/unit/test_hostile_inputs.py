"""Hostile and odd input files, as a new user (or an attacker) would write them: every one
gets exit 2 and one located line per problem, in plain words, fast and in little memory;
no file's content is echoed beyond a short excerpt, and never a control character. Then
CI's fuzzing: 600 seeded mutations of every bundled topology and experiment."""
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed.cli import main
from testbed.experiment.loader import is_experiment, read_document, validate_experiment
from testbed.model import InvalidInput
from testbed.model.loader import validate_topology

ROOT = Path(__file__).resolve().parents[2]
LINE3 = (ROOT / "topologies" / "line-3as.yaml").read_text()
ECHO = (ROOT / "experiments" / "echo-line.yaml").read_text().replace(
    "../topologies/", str(ROOT / "topologies") + "/")
SECRET = "root:$y$j9T$Zx8secrethashvalue0123456789:19000:0:99999:7:::"
LOCATED = re.compile(r"^\S+:(\d+:\d+:)? ")


def chain(n):
    ases = "\n".join(f"  - {{asn: {i}, routers: [r1], hosts: [{{name: h1, router: r1}}]}}"
                     for i in range(1, n + 1))
    links = "\n".join(f"  - {{a: as{i}.r1, b: as{i % n + 1}.r1, relationship: provider-customer}}"
                      for i in range(1, n + 1))
    return f"name: chain\nases:\n{ases}\ninter_as_links:\n{links}\n"


TOPO = (f"topology:\n  file: {ROOT}/topologies/line-3as.yaml\n  overrides:\n"
        "    routing: {convergence_delay: 2s}")


def exp_with(replace, by):
    assert replace in ECHO
    return ECHO.replace(replace, by, 1)


# (name, content: str or bytes, a substring of the expected message)
CASES = [
    ("tag_int", LINE3.replace("asn: 100", "asn: !!int hundred"), "explicit YAML tags"),
    ("tag_float", LINE3.replace("cost: 10", "cost: !!float 10"), "explicit YAML tags"),
    ("tag_bool", LINE3.replace("asn: 100", "asn: !!bool yes"), "explicit YAML tags"),
    ("tag_timestamp", LINE3.replace("asn: 100", "asn: !!timestamp 2024-01-01"), "explicit YAML tags"),
    ("python_tag_list", LINE3.replace("routers: [r1, r2]", "routers: !!python/tuple [r1, r2]"),
     "explicit YAML tags"),
    ("impossible_date", LINE3.replace("asn: 100", "asn: 2024-02-30"), "valid integer"),
    ("huge_int", LINE3.replace("asn: 100", "asn: " + "9" * 5000), "a number longer than"),
    ("tag_as_key", LINE3.replace("name: line-3as", "!!str name: line-3as"), "explicit YAML tags"),
    ("date_as_key", LINE3.replace("name: line-3as", "name: line-3as\n2024-01-01: x"), "unknown key '2024-01-01'"),
    ("merge_key", "d: &d {delay: 1ms}\n" + LINE3.replace("defaults:\n", "defaults:\n  <<: *d\n", 1),
     "merge keys (<<) are not supported"),
    ("deep_600", "name: x\nases: " + "[" * 600 + "]" * 600 + "\n", "nested more than"),
    ("deep_10000", "a: " + "[" * 10000 + "\n", "nested more than"),
    ("deep_blocks", "a:\n" + "".join(" " * i + "- \n" for i in range(1, 800)), "nested more than"),
    ("self_alias", "name: x\nases: &a\n  - *a\n", "refers to a value that contains it"),
    ("billion_laughs", "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
     + "name: x\nases: *i\n", "more than 100000 values"),
    ("big_file", "name: x\n# " + "y" * (2 << 20) + "\n", "larger than"),
    ("provider_cycle_1500", chain(1500), "provider-customer cycle of 1500 ASes"),
    ("pool_0_28", LINE3.replace("name: line-3as", "name: line-3as\naddressing: {pool: 0.0.0.0/0, "
                                "as_prefix_len: 28}"), None),
    ("nan_delay", LINE3.replace("delay: 2ms", "delay: .nan"), "not a finite number"),
    ("inf_bandwidth", LINE3.replace("bandwidth: 100Mbit", "bandwidth: .inf"), "not a finite number"),
    ("e999", LINE3.replace("delay: 2ms", "delay: 1.0e+999"), "not a finite number"),
    ("asn_true", LINE3.replace("asn: 100", "asn: true"), "expected a number, not the boolean"),
    ("cost_yes", LINE3.replace("cost: 10", "cost: yes"), "expected a number, not the boolean"),
    ("huge_delay", LINE3.replace("delay: 2ms", "delay: 99999999999s"), "less than or equal"),
    ("escape_key", LINE3.replace("name: line-3as", "name: line-3as\n\"\\e[31mred\\e[0m\": 1"),
     "unknown key"),
    ("nul_byte", LINE3.replace("name: line-3as", "name: line-3as\x00"), "control character"),
    ("utf16", LINE3.encode("utf-16"), "UTF-16"),
    ("binary", bytes(range(256)) * 4, "not UTF-8"),
    ("empty", "", "the file is empty"),
    # experiments
    ("exp_duration_inf", exp_with("duration: 20s", "duration: .inf"), "not a finite number"),
    ("exp_duration_zero", exp_with("duration: 20s", "duration: 0"), "greater than 0"),
    ("exp_at_nan", exp_with("at: 6s", "at: .nan"), "not a finite number"),
    ("exp_trials_yes", exp_with("trials: 2", "trials: yes"), "expected a number"),
    ("exp_module", exp_with("module: overlays.echo", "module: overlays.ronn"),
     "no overlay module 'overlays.ronn'"),
    ("exp_module_outside", exp_with("module: overlays.echo", "module: os"),
     "is not an overlay module"),
    ("exp_params_typo", exp_with("params: {interval: 0.2", "params: {intervall: 0.2"),
     "did you mean 'interval'"),
    ("exp_with_ases", exp_with("duration: 20s", "duration: 20s\nases: []"),
     "an experiment does not define ASes"),
    ("exp_shadow", exp_with(TOPO, "topology: {file: SHADOW, overrides: {}}"),
     "is not a topology file"),
    ("exp_shadow_yaml", exp_with(TOPO, "topology:\n  file: SHADOW.yaml"),
     "this is not a topology file"),
    ("exp_binary_topology", exp_with(TOPO, "topology:\n  file: BIN.yaml"),
     "not UTF-8"),
    ("exp_broken_override_base", exp_with(TOPO, "topology:\n  file: BROKEN.yaml\n  overrides: {routing: {mode: shortest}}"),
     "YAML syntax error"),
]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "SHADOW").write_text(SECRET + "\n")
    (tmp_path / "SHADOW.yaml").write_text("".join(f"{line.split(':')[0]}_{i}: '{line}'\n"
                                                  for i, line in enumerate([SECRET] * 5)))
    (tmp_path / "BIN.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    (tmp_path / "BROKEN.yaml").write_text("name: [\n")
    out = {}
    for name, content, _ in CASES:
        if isinstance(content, str):
            content = content.replace("SHADOW", str(tmp_path / "SHADOW")).replace(
                "BIN.yaml", str(tmp_path / "BIN.yaml")).replace("BROKEN.yaml", str(tmp_path / "BROKEN.yaml"))
        path = tmp_path / f"{name}.yaml"
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        out[name] = path
    return out


@pytest.mark.parametrize("name,message", [(c[0], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_file(name, message, files, capsys):
    started = time.monotonic()
    status = main(["validate", str(files[name])])
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert took < 2.0, f"{name} took {took:.1f} s"
    if message is None:  # valid, or refused: either way quickly and cleanly
        assert status in (0, 2)
        return
    assert status == 2, out + err
    lines = err.splitlines()
    assert lines[-1].endswith("problem(s)")
    for line in lines[:-1]:  # at the file, or at the topology file it names
        assert line.startswith(str(files[name].parent)) and LOCATED.match(line), line
    assert any(message in line for line in lines), err
    assert "Traceback" not in err and "\x1b" not in err + out and "\x00" not in err
    assert "secrethash" not in err + out
    assert all(len(line) < 600 for line in lines)


def test_all_hostile_files_in_one_process_stay_small(files):
    """One `testbed validate` of every hostile file: exit 2, and its own peak memory
    (wait4 gives that child's resource usage alone). Started from a small Python that
    only waits for it: at exec, Linux keeps the peak of the process image being
    replaced, so a child of the test runner itself would count the runner's memory."""
    waiter = ("import os, sys; pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ); "
              "_, status, usage = os.wait4(pid, 0); "
              "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", waiter, sys.executable, "-m", "testbed.cli",
                           "validate", *map(str, files.values())],
                          capture_output=True, text=True, timeout=120)
    code, maxrss = map(int, done.stdout.split()[-2:])
    assert code == 2 and "Traceback" not in done.stderr
    peak_mb = maxrss / 1024
    assert peak_mb < 200, f"peak RSS {peak_mb:.0f} MB"


# --- fuzzing: mutations of every bundled file ----------------------------------------------
TOKENS = [".nan", "-.inf", "1e999", "!!int x", "!!python/object:os.system", "*a", "&a x", "<<: *a",
          "yes", "null", "~", "9" * 40, "-1", "0", "[", "]", "{", "}", ": :", "'", '"', "\\e[2J",
          "\x1b[31m", "\x00", "\t", "2024-02-30", "0x1F", "1_000", "12:30:00", "é", "🙂", "- - -",
          "? x", "|", ">", "%YAML 1.1", "---", "...", "#", "ases:", "duration: 0", "as999.r1"]
BUNDLED = sorted((ROOT / "topologies").glob("*.yaml")) + sorted((ROOT / "experiments").glob("*.yaml"))


def mutate(text, rng):
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        op = rng.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2 and ":" in lines[i]:
            key, _, _ = lines[i].partition(":")
            lines[i] = f"{key}: {rng.choice(TOKENS)}"
        elif op == 3:
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rng.choice(TOKENS) + lines[i][pos:]
        elif op == 4:
            lines[i] = " " * rng.randrange(4) + lines[i]
        else:
            lines = lines[:i]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


def validate_text(text, path):
    path.write_text(text)
    _, data, positions = read_document(path)
    if is_experiment(data):
        validate_experiment(str(path), text, data, positions)
    else:
        validate_topology(data, positions, str(path))


@pytest.mark.parametrize("source", BUNDLED, ids=[p.name for p in BUNDLED])
def test_fuzz_mutations_never_crash_and_stay_fast(source, tmp_path):
    text = source.read_text()
    cases = max(1, 600 // len(BUNDLED))
    rng = random.Random(f"fuzz:{source.name}")
    path = source.parent / f".fuzz-{source.stem}.yaml"  # beside it: relative topology paths hold
    slowest = 0.0
    try:
        for k in range(cases):
            mutated = mutate(text, rng)
            started = time.monotonic()
            try:
                validate_text(mutated, path)
            except InvalidInput as exc:
                assert exc.diagnostics
                for d in exc.diagnostics:
                    assert d.message and "\x1b" not in str(d) and "\x00" not in str(d)
            took = time.monotonic() - started
            slowest = max(slowest, took)
            assert took < 2.0, f"case {k} of {source.name} took {took:.1f} s:\n{mutated[:500]}"
    finally:
        path.unlink(missing_ok=True)
