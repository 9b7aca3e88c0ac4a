#!/usr/bin/env bash
# A Debian 12 VM with a full kernel (netem, the OVS kernel datapath) for CI and for Linux
# users without Vagrant. Built from Debian packages with debootstrap, provisioned by the
# same vagrant/provision.sh, booted with qemu (KVM where usable, TCG otherwise).
#
#   bash vagrant/vm.sh build                 build the image (reused while its inputs match)
#   bash vagrant/vm.sh test [PYTEST ARGS]    boot it, run tests inside (default: tests/vm),
#                                            print the guest's output, exit with its code
#
# The image lives in $TESTBED_VM_CACHE (default /var/cache/testbed-vm), named by a hash of
# everything it is made from; the guest writes to a copy-on-write overlay (-snapshot), so
# the cached image stays clean. TESTBED_VM_ACCEL=kvm to use KVM (it hangs on the CI
# machines: TCG is the default there); TESTBED_VM_TIMEOUT minutes for the guest (25).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TESTBED_VM_CACHE:-/var/cache/testbed-vm}
mirror=${TESTBED_VM_MIRROR:-http://deb.debian.org/debian}
key=$(cat "$repo/vagrant/vm.sh" "$repo/vagrant/vm-init.sh" "$repo/vagrant/provision.sh" "$repo/vagrant/apt.sh" \
          "$repo/setup.cfg" "$repo/pyproject.toml" | sha256sum | cut -c1-16)
dir="$cache/$key"
say() { printf '[vm] %s\n' "$*"; }

# shellcheck source=vagrant/apt.sh
. "$repo/vagrant/apt.sh"

build() {
  if [ -f "$dir/rootfs.img" ]; then say "image $key cached"; return; fi
  apt_install_missing qemu-system-x86 debootstrap e2fsprogs rsync || true
  local started=$SECONDS root="$dir.tmp/rootfs"
  rm -rf "$dir.tmp"; mkdir -p "$root"
  say "debootstrap bookworm ($mirror)"
  debootstrap --variant=minbase --include=linux-image-amd64,initramfs-tools,kmod,udev,iproute2,rsync,ca-certificates,python3,procps \
    bookworm "$root" "$mirror" > "$dir.tmp/debootstrap.log" 2>&1 ||
    { tail -20 "$dir.tmp/debootstrap.log"; exit 1; }
  say "provisioning inside (vagrant/provision.sh)"
  rsync -a --exclude .venv --exclude .git --exclude results "$repo/" "$root/opt/testbed/"
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" 2>/dev/null || true
  [ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
  local mounts=(proc sys dev)
  for m in "${mounts[@]}"; do mkdir -p "$root/$m"; mount --rbind "/$m" "$root/$m"; done
  for m in /opt/wheels /opt/pypi /opt/pypi-more; do  # the machine's package mirrors, if any
    [ -d "$m" ] && { mkdir -p "$root$m"; mount --bind -o ro "$m" "$root$m"; mounts+=("${m#/}"); }
  done
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # this machine's CA bundle: its package registries may sit behind a TLS proxy
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/build-host-ca.crt"
  local rc=0
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_FIND_LINKS="${PIP_FIND_LINKS:-}" PIP_CERT=/etc/ssl/certs/build-host-ca.crt \
    PIP_DEFAULT_TIMEOUT=180 TESTBED_SETUP_NO_START=1 \
    bash /opt/testbed/vagrant/provision.sh > "$dir.tmp/provision.log" 2>&1 || rc=$?
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount -R "$root/${mounts[$i]}"; done
  [ $rc -eq 0 ] || { tail -30 "$dir.tmp/provision.log"; exit 1; }
  install -m 755 "$repo/vagrant/vm-init.sh" "$root/sbin/testbed-vm-init"
  echo testbed-vm > "$root/etc/hostname"
  cp "$root"/boot/vmlinuz-* "$dir.tmp/vmlinuz"; cp "$root"/boot/initrd.img-* "$dir.tmp/initrd.img"
  rm -rf "$root"/var/cache/apt/archives/*.deb
  say "making the disk image"
  truncate -s 8G "$dir.tmp/rootfs.img"
  mkfs.ext4 -q -F -L testbed -d "$root" "$dir.tmp/rootfs.img"
  rm -rf "$root"
  mv "$dir.tmp" "$dir"
  # keep only this image: older ones are for inputs that no longer exist
  find "$cache" -mindepth 1 -maxdepth 1 -not -name "$key" -exec rm -rf {} +
  say "image $key built in $((SECONDS - started)) s"
}

run_tests() {
  build
  local out accel started=$SECONDS
  out=$(mktemp -d)
  accel=${TESTBED_VM_ACCEL:-tcg}
  local args
  args=$(IFS=,; echo "$*")
  say "booting ($accel), tests: ${*:-tests/vm}"
  local qemu_rc=0
  timeout "$(( ${TESTBED_VM_TIMEOUT:-25} * 60 ))" qemu-system-x86_64 \
    -accel "$accel" -m 3072 -smp 2 -cpu max -nographic -no-reboot -snapshot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 init=/sbin/testbed-vm-init panic=-1 quiet testbed.args=$args" \
    -drive "file=$dir/rootfs.img,if=virtio,format=raw" \
    -nic user,model=virtio-net-pci \
    -device virtio-rng-pci \
    -virtfs "local,path=$repo,mount_tag=repo,security_model=none,readonly=on" \
    -virtfs "local,path=$out,mount_tag=out,security_model=none" \
    > "$out/console.log" 2>&1 || qemu_rc=$?
  if [ ! -f "$out/rc" ]; then
    echo "[vm] the guest did not finish (qemu exit $qemu_rc); its console:" >&2
    tail -40 "$out/console.log" >&2
    [ -f "$out/output.log" ] && { echo "[vm] its output so far:" >&2; tail -60 "$out/output.log" >&2; }
    exit 1
  fi
  cat "$out/output.log"
  local rc; rc=$(cat "$out/rc")
  say "guest exit code $rc after $((SECONDS - started)) s"
  rm -rf "$out"
  exit "$rc"
}

case "${1:-}" in
  build) build ;;
  test) shift; run_tests "$@" ;;
  *) echo "usage: bash vagrant/vm.sh build | test [PYTEST ARGS]" >&2; exit 2 ;;
esac
