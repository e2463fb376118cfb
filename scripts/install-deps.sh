#!/usr/bin/env bash
# Installs what the project needs and the machine lacks (Debian packages). Idempotent and
# quiet when everything is there already; run as root (CI and these machines are).
set -euo pipefail

packages=(nats-server libssl-dev openssl)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The services API tests validate replies against JSON Schemas with Python's jsonschema.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema rfc3339-validator
command -v swift >/dev/null || { echo "swift is not on PATH (expected the 6.3 toolchain at /opt/swift)" >&2; exit 1; }
