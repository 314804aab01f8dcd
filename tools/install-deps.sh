#!/usr/bin/env bash
# Installs runexp's build and test dependencies from Debian 12's packages.
# Usage: tools/install-deps.sh [--test-extras]
#   --test-extras  also install what optional tests use: Chromium (the report
#                  page opened in a browser), python3-jsonschema + PyYAML
#                  (the JSON Schema checked by an independent validator) and
#                  python3-onnx + numpy (exported ONNX / .npz models checked
#                  by onnx.checker and a numpy forward pass) and OpenMPI
#                  (openmpi-bin + libopenmpi-dev: CMake then builds
#                  runexp-mpi, the MPI runner, and its test runs); without
#                  them those tests are reported as skipped (cmake says which)
# Packages already present are not reinstalled; apt-get runs only if needed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  libyaml-dev          # spec parsing (libyaml)
  libsqlite3-dev sqlite3  # results store, and the CLI the tests and users query with
  libcmocka-dev        # unit tests
  zlib1g-dev           # the embedded digits data is gzip-compressed
  libplplot-dev plplot-driver-cairo libcairo2-dev  # reports: plots (PLplot + cairo)
  python3              # runs the schema test (a CTest test fails, not skips, without
                       # /usr/bin/python3) and tools/update-cookbook.py
)
if [ "${1:-}" = "--test-extras" ]; then
  pkgs+=(chromium python3-jsonschema python3-yaml python3-onnx python3-numpy)
  pkgs+=(openmpi-bin libopenmpi-dev)  # runexp-mpi and e2e.cluster_mpi
fi

missing=()
for p in "${pkgs[@]}"; do
  # (captured, not piped into grep -q: under pipefail that can fail by SIGPIPE)
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

# As root, apt-get directly; otherwise through sudo. `sudo env` passes
# DEBIAN_FRONTEND on: sudo resets the environment, and without it a package
# could stop to ask a question.
as_root=(env DEBIAN_FRONTEND=noninteractive)
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: not root and sudo is not installed: run this script as root, or install sudo" >&2
    exit 1
  fi
  as_root=(sudo "${as_root[@]}")
fi
echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
