#!/usr/bin/env bash
# Bring the VM's results/ and grades/ back to the host's repository: `vagrant rsync` syncs
# host -> guest only, and Vagrant has no built-in way back, so this streams a tarball over
# `vagrant ssh`. Run it from anywhere: bash vagrant/fetch.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
vagrant ssh -c 'cd /testbed && sudo tar -czf - $(ls -d results grades 2>/dev/null)' \
  | tar -xzf - -C "$here/.."
echo "results/ and grades/ are in $(cd "$here/.." && pwd)"
