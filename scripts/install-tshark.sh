#!/usr/bin/env bash
# Installs tshark (with text2pcap and mergecap) on Debian/Ubuntu when it is missing, then prints
# its version. Idempotent: when tshark and text2pcap are already on PATH it only prints the
# version. Uses sudo only when not root. Retries when another apt/dpkg holds the lock.
#
#   scripts/install-tshark.sh            # install if missing, print `tshark --version` line
#   TSHARK_INSTALL_TRIES=10 scripts/install-tshark.sh
set -euo pipefail

tries=${TSHARK_INSTALL_TRIES:-5}
delay=${TSHARK_INSTALL_DELAY:-5}

die() {
    echo "install-tshark: error: $*" >&2
    exit 1
}

print_version() {
    local v
    v=$(tshark --version 2>/dev/null | head -n 1) || die "tshark is installed but 'tshark --version' failed"
    echo "$v"
}

if command -v tshark >/dev/null 2>&1 && command -v text2pcap >/dev/null 2>&1; then
    print_version
    exit 0
fi

command -v apt-get >/dev/null 2>&1 ||
    die "tshark is missing and apt-get is not available: install tshark with your system's package manager (Debian/Ubuntu: apt-get install tshark)"

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
    ${SUDO[@]+"${SUDO[@]}"} true 2>/dev/null ||
        die "tshark is missing; installing it needs root and 'sudo -n' cannot run without a password (run this script as root, or 'sudo $0')"
else
    die "tshark is missing; installing it needs root and sudo is not installed (run this script as root)"
fi

export DEBIAN_FRONTEND=noninteractive

# Runs "$@" (as root), retrying while the dpkg/apt lock is held or the mirror is flaky.
retry() {
    local n=1 out
    while true; do
        if out=$(${SUDO[@]+"${SUDO[@]}"} "$@" 2>&1); then
            return 0
        fi
        if [ "$n" -ge "$tries" ]; then
            echo "$out" | tail -n 20 >&2
            return 1
        fi
        if echo "$out" | grep -qiE 'could not get lock|dpkg.*lock|unable to acquire|is another process using it'; then
            echo "install-tshark: the dpkg lock is held; retry $n/$tries in ${delay}s" >&2
        else
            echo "install-tshark: '$*' failed (attempt $n/$tries); retrying in ${delay}s" >&2
            echo "$out" | tail -n 3 >&2
        fi
        sleep "$delay"
        n=$((n + 1))
    done
}

# Answer the "should non-superusers be able to capture packets?" question with no.
if command -v debconf-set-selections >/dev/null 2>&1; then
    echo "wireshark-common wireshark-common/install-setuid boolean false" |
        ${SUDO[@]+"${SUDO[@]}"} debconf-set-selections ||
        die "debconf-set-selections failed"
fi

echo "install-tshark: running apt-get update" >&2
retry apt-get update -q || die "apt-get update failed (is the package mirror reachable?)"
echo "install-tshark: running apt-get install -y tshark" >&2
retry env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends tshark ||
    die "apt-get install tshark failed"

command -v tshark >/dev/null 2>&1 || die "apt-get reported success but tshark is not on PATH"
command -v text2pcap >/dev/null 2>&1 || die "tshark is installed but text2pcap is missing (package wireshark-common)"
print_version
