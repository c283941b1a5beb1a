#!/usr/bin/env bash
# Installs the TLS stacks the TLS profile runs as implementations under test, each when its
# programs are missing (Debian packages, through scripts/install-packages.sh).
#
#   bash scripts/install-tls-stacks.sh              # every stack
#   bash scripts/install-tls-stacks.sh openssl      # only these: openssl gnutls nss botan
#
# rustls needs no package: its adapter is built from this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
stacks=("$@")
[ ${#stacks[@]} -gt 0 ] || stacks=(openssl gnutls nss botan)
pairs=()
for s in "${stacks[@]}"; do
    case $s in
    openssl) pairs+=(openssl=openssl) ;;
    gnutls) pairs+=(gnutls-serv=gnutls-bin gnutls-cli=gnutls-bin) ;;
    nss) pairs+=(selfserv=libnss3-tools tstclnt=libnss3-tools) ;;
    botan) pairs+=(botan=botan) ;;
    *) echo "install-tls-stacks: unknown stack '$s' (openssl gnutls nss botan)" >&2; exit 2 ;;
    esac
done
bash scripts/install-packages.sh "${pairs[@]}"
