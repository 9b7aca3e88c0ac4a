"""overlays.agent.Daemon: a program an agent runs, in its own process group, ready when
its port answers, and gone with everything it forked within the 2 s an agent has."""
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from overlays.agent import Daemon, DaemonError


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for its parent counts as gone
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def gone_soon(pid, seconds=1.0):
    """Signals are delivered asynchronously: allow the kernel a moment."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_ready_by_port_and_the_whole_group_stops_in_time(tmp_path):
    port = free_port()
    child = tmp_path / "child.pid"
    # a daemon that forks a helper which ignores SIGTERM, then serves on the port
    script = textwrap.dedent(f"""
        import os, signal, socket, time
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            open({str(child)!r}, "w").write(str(os.getpid()))
            time.sleep(60)
            os._exit(0)
        time.sleep(0.3)
        s = socket.socket(); s.bind(("127.0.0.1", {port})); s.listen()
        while True:
            s.accept()[0].close()
    """)
    with open(tmp_path / "log", "wb") as log:
        started = time.monotonic()
        daemon = Daemon([sys.executable, "-c", script], log, ready_port=port, grace=0.5).start()
        assert time.monotonic() - started >= 0.25  # it waited for the port
        assert daemon.running
        helper = int(child.read_text())
        stop_started = time.monotonic()
        daemon.stop()
        assert time.monotonic() - stop_started < 2.0
    assert not daemon.running and gone_soon(helper)


def test_a_daemon_that_never_listens_is_an_error_and_is_stopped(tmp_path):
    with open(tmp_path / "log", "wb") as log:
        daemon = Daemon([sys.executable, "-c", "import time; time.sleep(30)"], log,
                        ready_port=free_port(), timeout=0.5)
        with pytest.raises(DaemonError, match="did not listen"):
            daemon.start()
    assert not daemon.running


def test_a_daemon_dies_with_its_agent(tmp_path):
    """PR_SET_PDEATHSIG: an agent killed with SIGKILL leaves no daemon behind."""
    pid_file = tmp_path / "daemon.pid"
    agent = textwrap.dedent(f"""
        import sys, time
        from overlays.agent import Daemon
        d = Daemon([sys.executable, "-c", "import time; time.sleep(60)"], open({str(tmp_path / 'log')!r}, "wb")).start()
        open({str(pid_file)!r}, "w").write(str(d.proc.pid))
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", agent])
    for _ in range(100):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    daemon_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert gone_soon(daemon_pid, 2.0)
