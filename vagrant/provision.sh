#!/usr/bin/env bash
# One set-up step for a fresh Debian 12 machine (developer, CI, the Vagrant VM).
# Idempotent: a second run checks, finds everything in place, and changes nothing.
#   - Debian packages: Mininet (with mnexec), Open vSwitch, network tools
#   - .venv (Debian's python3, so Debian's Mininet module is usable) with Ryu 4.34 and pins
#   - Open vSwitch started if it is not running (userspace datapath needs no kernel module)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo/.venv"
say() { printf '[setup] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "[setup] needs root (apt-get, Open vSwitch): run it with sudo" >&2
  exit 2
fi

packages=(mininet openvswitch-switch iproute2 iputils-ping traceroute tcpdump ethtool fping
          iperf3 procps psmisc python3-venv python3-dev gcc git nginx curl dnsutils tor
          transmission-cli opentracker mktorrent)
# shellcheck source=vagrant/apt.sh
. "$repo/vagrant/apt.sh"
apt_install_missing "${packages[@]}" || say "Debian packages present"
# opentracker's package starts a tracker on port 6969 of every address: the overlays run
# their own, inside the emulated hosts.
if [ -d /run/systemd/system ] && systemctl is-enabled --quiet opentracker 2>/dev/null; then
  systemctl disable --now opentracker >/dev/null 2>&1 || true
fi

# The unprivileged user student code runs as when `testbed grade` grades it.
id testbed-student >/dev/null 2>&1 ||
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin testbed-student

# The venv is rebuilt only when what it is made from changed.
stamp="$venv/.testbed-setup"
want=$(cat "$repo/setup.cfg" "$repo/pyproject.toml" "$repo/vagrant/provision.sh" "$repo/vagrant/apt.sh" |
       sha256sum | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating $venv"
  /usr/bin/python3 -m venv "$venv"
  # Ryu 4.34 builds only with setuptools<68 (it uses the removed easy_install API).
  "$venv/bin/pip" install -q 'setuptools<68' wheel
  "$venv/bin/pip" install -q --no-build-isolation -e "$repo[ryu,test]"
  # Debian's Mininet module (PyPI's has no mnexec and lags behind).
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  ln -sfn /usr/lib/python3/dist-packages/mininet "$site/mininet"
  echo "$want" > "$stamp"
else
  say "virtual environment up to date"
fi

if [ -n "${TESTBED_SETUP_NO_START:-}" ]; then
  say "not starting Open vSwitch (TESTBED_SETUP_NO_START: building an image)"
  exit 0
fi
if ovs-vsctl --timeout=3 show >/dev/null 2>&1; then
  say "Open vSwitch running"
else
  say "starting Open vSwitch"
  /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random >/dev/null 2>&1 || true
  ovs-vsctl --timeout=10 show >/dev/null || { echo "[setup] Open vSwitch did not start" >&2; exit 1; }
fi
"$venv/bin/python" -c 'import testbed.control.framework as f; import mininet.net; print("[setup] ready:", f.version())'
