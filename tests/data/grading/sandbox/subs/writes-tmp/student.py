def run():
    open("/tmp/testbed-escape", "w").write("left")
    return 42
