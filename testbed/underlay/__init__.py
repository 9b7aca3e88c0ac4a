"""Model -> running Mininet network: capabilities, build, controller process, teardown."""
