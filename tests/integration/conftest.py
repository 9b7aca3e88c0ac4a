"""Integration tests build real networks: root, Open vSwitch and Mininet are required.

They are skipped (with the reason) where those are missing, e.g. a developer laptop without
root; CI runs as root after vagrant/provision.sh, so there they always run."""
import os
import shutil

import pytest

from testbed.underlay import capabilities


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.geteuid() != 0:
        reason = "needs root"
    elif not shutil.which("mnexec") or not capabilities.ovs_running():
        reason = "needs Mininet and a running Open vSwitch (vagrant/provision.sh)"
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
