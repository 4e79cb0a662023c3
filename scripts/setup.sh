#!/usr/bin/env bash
# Sets up anomalygpt-edge on Debian 12 / Ubuntu 22.04+ / Jetson Linux (Ubuntu-based):
# Debian packages (OpenCV, mosquitto), npm ci with the flags the native modules need,
# the TypeScript build, and the default model bundle. Idempotent; safe to re-run.
#
#   scripts/setup.sh                       the daemon
#   scripts/setup.sh --with-export-tools   also Debian's PyTorch, ONNX, NumPy, SentencePiece, Pillow and jsonschema
#                                          (/usr/bin/python3) for the model export scripts and their tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '==> %s\n' "$*" >&2; }

multiarch="$( (dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) | tail -n1)"
# opencv4nodejs against the distribution's OpenCV, never its own build (STACK-NOTES).
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
export OPENCV_INCLUDE_DIR=/usr/include/opencv4
export OPENCV_LIB_DIR="/usr/lib/${multiarch}"
export OPENCV_BIN_DIR=/usr/bin
export JOBS=max
# onnxruntime-node's postinstall downloads GPU libraries from the internet: skip it (CPU is bundled).
export ONNXRUNTIME_NODE_INSTALL=skip

# openssl: the tests make their own TLS certificates for the MQTT and OPC UA security tests.
# patch: npm ci's postinstall patches the OpenCV binding's source before building it (patches/).
# chromium: the console's browser tests (test/web/, driven by playwright-core; never a downloaded browser).
packages=(libopencv-dev mosquitto openssl patch chromium)
# export/ (the Python export package, models/README.md): pinned by Debian 12's versions, see export/requirements.txt.
[[ "${1:-}" == "--with-export-tools" ]] && packages+=(python3-torch python3-onnx python3-numpy python3-sentencepiece python3-pil python3-jsonschema)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "system packages present"
fi

log "npm ci (its postinstall patches and builds the OpenCV binding, ~3 min on 2 cores; patches/README.md)"
npm ci --no-audit --no-fund
log "npm run build"
npm run build
log "npm run build:models (default bundle from the MobileNetV2 that nsfwjs ships)"
npm run build:models
log "ready: start the daemon with 'npm start' (or: node dist/main.js run --config FILE)"
