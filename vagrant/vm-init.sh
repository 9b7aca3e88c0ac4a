#!/bin/bash
# PID 1 of the test VM (vagrant/vm.sh boots the kernel with init=/sbin/testbed-vm-init):
# no systemd, which would take minutes to boot under qemu's TCG. Mounts what Linux needs,
# brings up qemu's user network, copies the repository in from the host (9p, read-only),
# runs the same set-up as everywhere (vagrant/provision.sh: the image has its venv, so it
# only starts Open vSwitch, with the kernel datapath now), runs the test selection from the
# kernel command line, writes output and exit code to the host's share, and powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm; mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /tmp; mount -o remount,rw /
mkdir -p /run/lock; hostname testbed-vm; ip link set lo up
# virtio_rng: entropy from the host; without it the kernel's random pool is not ready for
# minutes under TCG and OpenSSL (Python's ssl, so aiohttp) blocks waiting for it
modprobe -a 9p 9pnet_virtio virtio_net virtio_rng
mkdir -p /mnt/repo /mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L,ro repo /mnt/repo
mount -t 9p -o trans=virtio,version=9p2000.L out /mnt/out
dev=$(ls /sys/class/net | grep -v '^lo$' | head -1)
ip link set "$dev" up; ip addr add 10.0.2.15/24 dev "$dev"; ip route add default via 10.0.2.2
echo "nameserver 10.0.2.3" > /etc/resolv.conf
args=$(sed -n 's/.*testbed\.args=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
{
  echo "[vm] kernel $(uname -r), $(nproc) CPUs, rng: $(cat /sys/devices/virtual/misc/hw_random/rng_current 2>/dev/null), args: ${args:-tests/vm}"
  rsync -a --delete --exclude .venv --exclude .git --exclude results /mnt/repo/ /opt/testbed/
  cd /opt/testbed && bash vagrant/provision.sh &&
    echo "[vm] set up, running tests $(cut -d' ' -f1 /proc/uptime) s after boot" &&
    TESTBED_VM=1 .venv/bin/python -m pytest -v -p no:cacheprovider ${args:-tests/vm}
  echo $? > /mnt/out/rc
} > /mnt/out/output.log 2>&1
sync; umount /mnt/out
echo o > /proc/sysrq-trigger   # power off now
sleep 30
