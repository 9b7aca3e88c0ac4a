import subprocess


def run():
    subprocess.Popen(["sleep", "600"], start_new_session=True)
    return 42
