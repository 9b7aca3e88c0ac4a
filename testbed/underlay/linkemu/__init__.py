"""Userspace link emulation for kernels without sch_netem: delay, jitter, loss and rate
per direction, in event-driven processes that each carry a share of the links (see
`emulator` and `process`)."""
