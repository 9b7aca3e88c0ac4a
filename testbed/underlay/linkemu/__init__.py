"""Userspace link emulation for kernels without sch_netem: delay, jitter, loss and rate
per direction, in one event-driven process for all links (see `emulator`)."""
