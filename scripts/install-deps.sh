#!/usr/bin/env bash
# Installs every Debian 12 package allscene needs to build, test and run.
# Idempotent: skips apt entirely when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-system-dev libboost-dev libssl-dev libsqlite3-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  libsodium-dev libavahi-core-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  mosquitto mosquitto-clients python3 python3-paho-mqtt openssl coreutils
  python3-zeroconf iproute2 util-linux
  apertium apertium-eng-spa apertium-eng-cat apertium-fr-es
  pocketsphinx pocketsphinx-en-us libpocketsphinx-dev libsphinxbase-dev
  espeak-ng libespeak-ng-dev sox libhowardhinnant-date-dev tzdata zlib1g-dev
  chromium fonts-dejavu-core
)

# Node.js and npm build the web console and run Microsoft's Azure IoT SDKs
# and the browser tests; the machine's own Node (>= 18) is used when there
# is one.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Microsoft's Azure IoT SDKs from npm, at the versions package-lock.json pins.
compat="$(dirname "$0")/../tests/compat"
if [ ! -f "$compat/node_modules/.package-lock.json" ] ||
  [ "$compat/package-lock.json" -nt "$compat/node_modules/.package-lock.json" ]; then
  echo "installing the Azure IoT SDKs for the compatibility tests (npm ci)"
  npm ci --prefix "$compat" --no-audit --no-fund --loglevel=error
fi

# playwright-core drives Debian's Chromium in the console's browser test.
browser="$(dirname "$0")/../tests/browser"
if [ ! -f "$browser/node_modules/.package-lock.json" ] ||
  [ "$browser/package-lock.json" -nt "$browser/node_modules/.package-lock.json" ]; then
  echo "installing playwright-core for the browser tests (npm ci)"
  npm ci --prefix "$browser" --no-audit --no-fund --loglevel=error
fi
