#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent: a second run only checks and returns.
#   - Debian packages: redis-server, kcat (plain-client checks) and chromium (the flows page
#     test drives it headless), via apt when missing
#   - .venv with the locked Python packages (requirements.lock) and this project, editable
#   - the Kafka broker's jars from Maven Central (devstack/kafka/pom.xml)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_missing=()
command -v redis-server >/dev/null 2>&1 || apt_missing+=(redis-server)
command -v kcat >/dev/null 2>&1 || apt_missing+=(kcat)
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
command -v java >/dev/null 2>&1 || apt_missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_missing+=(maven)
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
stamp=.venv/.requirements.sha256
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating .venv and installing the locked packages (a few minutes the first time)"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi

.venv/bin/python -c "from stack.settings import Settings; from devstack.kafka_jars import ensure_kafka_jars; \
ensure_kafka_jars(Settings().kafka_jars_dir)" || { say "could not fetch the Kafka jars"; exit 1; }
say "ready"
