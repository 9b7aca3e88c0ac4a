"""The Linux routers' controller process before any namespace exists (no root needed):
it is started first and told its routers on stdin, so its failures must surface there."""
from pathlib import Path

import pytest

from testbed.process import ProcessError
from testbed.underlay.controller import KernelControllerProcess

ROOT = Path(__file__).resolve().parents[2]


def test_a_controller_that_died_early_is_named_when_told_its_routers(tmp_path):
    broken = tmp_path / "topology.yaml"
    broken.write_text("name: [unclosed\n")
    log = tmp_path / "controller.log"
    controller = KernelControllerProcess(broken, log)
    try:
        controller.proc.wait(30)  # gone before the harness has made any namespace
        with pytest.raises(ProcessError, match="exited with code 1; its log: .*controller.log"):
            controller.routers({"as1.r1": 1})
    finally:
        controller.stop()


def test_a_controller_left_without_routers_exits_and_says_why(tmp_path):
    log = tmp_path / "controller.log"
    controller = KernelControllerProcess(ROOT / "topologies" / "line-3as.yaml", log)
    try:
        assert controller.proc.stdin is not None
        controller.proc.stdin.close()  # the harness failed before it made the namespaces
        assert controller.proc.wait(30) == 1
        assert "no routers on stdin" in log.read_text()
        assert controller.events == []
    finally:
        controller.stop()
