#!/usr/bin/env bash
# Installs what the project needs and the machine lacks (Debian packages). Idempotent and
# quiet when everything is there already; run as root (CI and these machines are).
#   --tests  also the tools only the tests use (promtool, chromium, kubernetes-validate,
#            opentelemetry-proto), so
#            bringing the system up (scripts/up.sh) does not download a browser.
set -euo pipefail

packages=(nats-server libssl-dev openssl libmongoc-dev libbson-dev pkg-config curl)
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
# Test tools, without their recommended extras: promtool (Debian's prometheus package) checks
# every metrics endpoint; headless chromium opens the gateway's /docs page.
extras=()
if [ "${1:-}" = --tests ]; then
    command -v promtool >/dev/null || extras+=(prometheus)
    command -v chromium >/dev/null || extras+=(chromium)
fi
if ((${#extras[@]})); then
    echo "installing: ${extras[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${extras[@]}" >/dev/null
fi
# The services API tests validate replies against JSON Schemas with Python's jsonschema.
python3 -c 'import jsonschema' 2>/dev/null || python3 -m pip install -q jsonschema rfc3339-validator
# The gateway's OpenAPI document is checked with openapi-spec-validator.
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q openapi-spec-validator
# The document store for the auth service (SecantusDB, MongoDB wire protocol) lives in a
# venv inside the project's ignored state folder.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/.state/venv"
if [ ! -x "$VENV/bin/secantusd-py" ]; then
    echo "installing secantusdb into $VENV" >&2
    mkdir -p "$ROOT/.state"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q secantusdb==0.7.0b3
fi
# nats-py, an independent client, for the JetStream interoperability tests.
"$VENV/bin/python" -c 'import nats' 2>/dev/null || "$VENV/bin/pip" install -q nats-py==2.16.0
# The Kubernetes manifests are checked against the API's schemas with kubernetes-validate.
if [ "${1:-}" = --tests ] && [ ! -x "$VENV/bin/kubernetes-validate" ]; then
    "$VENV/bin/pip" install -q kubernetes-validate==1.37.0
fi
# The tracing test's OTLP receiver decodes spans with OpenTelemetry's own protobuf classes.
if [ "${1:-}" = --tests ]; then
    "$VENV/bin/python" -c 'import opentelemetry.proto' 2>/dev/null ||
        "$VENV/bin/pip" install -q opentelemetry-proto==1.45.2
fi
command -v swift >/dev/null || { echo "swift is not on PATH (expected the 6.3 toolchain at /opt/swift)" >&2; exit 1; }
