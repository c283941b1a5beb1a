#!/usr/bin/env bash
# Installs Graphviz's `dot` (Debian's graphviz), which draws the machines of `btls-harness learn`,
# when it is missing, then prints its version.
set -euo pipefail
bash "$(dirname "$0")/install-packages.sh" dot=graphviz
dot -V 2>&1 | head -n 1
