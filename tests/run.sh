#!/usr/bin/env bash
# The tests, from a fresh machine: installs what the tests drive that NuGet cannot bring — MPICH (the MPI tests run
# `mpiexec -n 2`, tests/FastRcnn.Tests/Distributed) and Debian's chromium (the page's browser test drives it through
# Playwright's node driver, tests/FastRcnn.Tests/Serving) — with apt when missing, then runs `dotnet test`.
# Needs root or passwordless sudo only when something is missing. Extra arguments go to `dotnet test`.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo -n"; fi
  echo "installing $* (apt-get)"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
if ! command -v mpiexec.mpich >/dev/null 2>&1 || ! ldconfig -p | grep 'libmpich\.so\.12' >/dev/null; then missing+=(mpich); fi
if ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}" || { echo "tests: could not install ${missing[*]} (needs root or passwordless sudo)" >&2; exit 1; }
fi
mpiexec.mpich --version 2>&1 | sed -n '1p'
chromium --version 2>/dev/null || { echo "tests: chromium is not installed" >&2; exit 1; }

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
exec dotnet test FastRcnn.sln -c Release "$@"
