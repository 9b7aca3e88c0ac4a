import os

import testbed


def run():
    repo = os.path.dirname(os.path.dirname(testbed.__file__))
    for path in ("/etc/testbed-pwned", os.path.join(repo, "pwned")):
        open(path, "w").write("pwned")
    return 42
