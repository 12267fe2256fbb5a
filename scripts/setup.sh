#!/usr/bin/env bash
# Installs what Veritrail needs, and only what is missing: Debian packages for
# the browser tests, the Python virtual environment, the front-end assets.
# Quick when nothing changed (each step keeps a stamp of its inputs).
set -euo pipefail
cd "$(dirname "$0")/.."

stamps=.setup-stamps
mkdir -p "$stamps"
say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
changed() {  # changed NAME FILE...: true when the files differ from the last run
  local sum
  sum=$(cat "${@:2}" 2>/dev/null | sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamps/$1" 2>/dev/null)" != "$sum" ] && echo "$sum" > "$stamps/$1.next"
}
stamp() { mv "$stamps/$1.next" "$stamps/$1"; }

# 1. Debian packages: Chromium for the browser tests, fonts for Chinese and Arabic,
#    Tesseract and its models for the six UN languages (OCR of scanned archive files),
#    Go and golang.org/x/mod for the independent checks of the log (tests/interop).
debs=(chromium fonts-noto-cjk fonts-noto-core golang-go golang-golang-x-mod-dev
      tesseract-ocr tesseract-ocr-ara tesseract-ocr-chi-sim tesseract-ocr-chi-tra
      tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-rus tesseract-ocr-spa)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "install ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ]; then
    say "cannot install ${missing[*]} (not root, no sudo); browser and Go interop tests will be skipped"
  else
    say "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# 2. Python virtual environment with Veritrail and its development tools.
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  rm -f "$stamps/python"
fi
if changed python pyproject.toml; then
  say "installing Python packages (pyproject.toml changed)"
  .venv/bin/python -m pip install -q -e ".[dev]"
  stamp python
fi

# 3. Front-end assets from the npm registry, built into static files.
if changed npm package.json package-lock.json scripts/build-assets.mjs \
   || [ ! -f src/veritrail/web/static/vendor/htmx.min.js ]; then
  say "installing front-end packages"
  if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi
  npm run --silent build
  [ -f "$stamps/npm.next" ] && stamp npm
fi
say "ready"
