#!/usr/bin/env bash
# Installs tshark (with text2pcap and mergecap) on Debian/Ubuntu when it is missing, then prints
# its version (scripts/install-packages.sh does the installing: idempotent, sudo only when not
# root, retries while another apt/dpkg holds the lock).
#
#   scripts/install-tshark.sh            # install if missing, print `tshark --version` line
#   INSTALL_TRIES=10 scripts/install-tshark.sh
set -euo pipefail
bash "$(dirname "$0")/install-packages.sh" tshark=tshark text2pcap=wireshark-common mergecap=wireshark-common
v=$(tshark --version 2>/dev/null | head -n 1) || { echo "install-tshark: error: 'tshark --version' failed" >&2; exit 1; }
echo "$v"
