"""What only a full kernel can show: netem's delay fidelity, the OVS kernel datapath, and a
bundled experiment end to end on them."""
import json
import subprocess
import sys
from pathlib import Path

from testbed.measure import fidelity
from testbed.model import load_topology
from testbed.underlay import capabilities
from testbed.underlay.emulation import Underlay
from testbed.underlay.reachability import host_matrix

ROOT = Path(__file__).resolve().parents[2]


def test_the_vm_has_what_ci_lacks():
    assert capabilities.netem_available()
    assert capabilities.kernel_datapath()


def test_kernel_datapath_bring_up_reaches_every_pair():
    net = load_topology(ROOT / "topologies" / "tiered-8as.yaml")
    with Underlay(net, link_backend="netem") as u:
        assert u.datapath == "kernel" and u.link_backend == "netem"
        matrix = host_matrix(u)
        assert len(matrix) == 90 and all(matrix.values())


def test_netem_delay_fidelity():
    """RTT within max(0.3 ms, 2%) of configured + the path's own base (the link-emulation
    target) over a 50 ms netem link. Under qemu's TCG every crossing of a rate-limited
    link (htb) comes ~0.4 ms late (measured on line-3as, 100 Mbit/s everywhere: +4.0 ms
    over 10 crossings, +6.2 ms over 14), so such paths miss 2%; a pure-delay link shows
    netem itself. CPU headroom is not judged (TCG keeps the guest's CPUs busy by itself)."""
    net = load_topology(ROOT / "tests" / "data" / "netem-long.yaml")
    with Underlay(net, link_backend="netem") as u:
        verdict = fidelity.check(u, pairs=[("as1.h1", "as2.h1")], throughput=False)
    rtt_problems = [p for s in verdict.samples for p in s.problems
                    if p.startswith(("median RTT", "no reply"))]
    assert verdict.samples and not rtt_problems, json.dumps(verdict.as_dict(), indent=1)


def test_bundled_experiment_end_to_end(tmp_path):
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run",
                           str(ROOT / "experiments" / "echo-line.yaml"), "--trials", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    run = next((tmp_path / "echo-line").glob("*"))
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["complete"] and manifest["link_backend"] == "netem", done.stdout + done.stderr
    assert manifest["datapath"] == "kernel"
    # exit 1 = an expectation missed: under TCG the repair's outage runs ~1 s long (9.1 s
    # against 8 +- 1 measured), which says more about qemu than about the testbed
    assert done.returncode in (0, 1), done.stdout + done.stderr
    metrics = json.loads((run / "metrics.json").read_text())["across_trials"]
    assert metrics["west-east.outage_s"]["mean"] > 6 and metrics["echo.rtt_ms"]["mean"] > 20
    assert (run / "report.html").is_file()


def test_ron_fails_over_on_netem_links(tmp_path):
    """ron-outage in small on the netem back end and the kernel datapath (the host CI
    runs it on the userspace back end: tests/integration/test_experiments.py)."""
    path = ROOT / "tests" / "data" / "ron-short.yaml"
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run", str(path), "--out",
                           str(tmp_path / "results")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    run = next((tmp_path / "results" / "ron-short").glob("*"))
    assert json.loads((run / "manifest.json").read_text())["link_backend"] == "netem"
    across = json.loads((run / "metrics.json").read_text())["across_trials"]
    print("direct outage", across["app.direct.outage_s"]["mean"],
          "ron outage", across["app.ron.outage_s"]["mean"])
    # the underlay waits for BGP: 4 s, plus the slow controller under qemu's TCG (5.4 s
    # measured); RON's failover does not wait (1.0 s measured)
    assert across["app.direct.outage_s"]["mean"] >= 3.6
    assert across["app.ron.outage_s"]["mean"] < 2.5


def test_a_small_cdn_on_netem_links(tmp_path):
    """tests/data/cdn-small.yaml on the netem back end (the host CI runs it on the
    userspace back end, both data planes: tests/integration/test_cdn.py)."""
    done = subprocess.run([sys.executable, "-m", "testbed.cli", "run",
                           str(ROOT / "tests" / "data" / "cdn-small.yaml"), "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=600)
    run = next((tmp_path / "cdn-small").glob("*"))
    assert json.loads((run / "manifest.json").read_text())["link_backend"] == "netem"
    assert done.returncode == 0, done.stdout + done.stderr
    across = json.loads((run / "metrics.json").read_text())["across_trials"]
    print("hit ratio", across["cdn.hit_ratio"]["mean"], "ttfb median",
          across["cdn.ttfb_median_ms"]["mean"])
    assert across["cdn.requests"]["mean"] > 300 and across["cdn.offload"]["mean"] > 0.1

