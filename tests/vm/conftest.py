"""Tests that need a full kernel (netem, the OVS kernel module): they run inside the VM
that `bash vagrant/vm.sh test` boots (it sets TESTBED_VM=1) and are skipped elsewhere."""
import os

import pytest


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/vm" in str(item.fspath) and os.environ.get("TESTBED_VM") != "1":
            item.add_marker(pytest.mark.skip(reason="runs inside the test VM: bash vagrant/vm.sh test"))
