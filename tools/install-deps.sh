#!/usr/bin/env bash
# Installs runexp's build and test dependencies from Debian 12's packages.
# Usage: tools/install-deps.sh [--test-extras]
#   --test-extras  also install what optional tests use: Chromium (the report
#                  page opened in a browser) and python3-jsonschema + PyYAML
#                  (the JSON Schema checked by an independent validator);
#                  without them those tests are reported as skipped
# Packages already present are not reinstalled; apt-get runs only if needed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libyaml-dev          # spec parsing (libyaml)
  libsqlite3-dev sqlite3  # results store, and the CLI the tests and users query with
  libcmocka-dev        # unit tests
  zlib1g-dev           # the embedded digits data is gzip-compressed
  libplplot-dev plplot-driver-cairo libcairo2-dev  # reports: plots (PLplot + cairo)
)
if [ "${1:-}" = "--test-extras" ]; then
  pkgs+=(chromium python3-jsonschema python3-yaml)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
