# Sourced by provision.sh and vm.sh: install the Debian packages that are missing, quietly.
apt_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 1
  echo "[setup] installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # No daemon starts on install (nginx would listen on port 80 of the machine): the
  # testbed starts what it needs, in the namespaces that need it.
  local guard=/usr/sbin/policy-rc.d made="" rc=0
  [ -e "$guard" ] || { printf '#!/bin/sh\nexit 101\n' > "$guard"; chmod +x "$guard"; made=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ -z "$made" ] || rm -f "$guard"
  return $rc
}
