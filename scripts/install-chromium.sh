#!/usr/bin/env bash
# Installs Debian's Chromium, the headless browser the report tests open the HTML reports in,
# when it is missing, then prints its version.
set -euo pipefail
bash "$(dirname "$0")/install-packages.sh" chromium=chromium
chromium --version 2>/dev/null | head -n 1
