#!/usr/bin/env bash
# Installs the browsers `npm test` drives, from Debian, when they are missing: Chromium (Playwright),
# Firefox ESR (puppeteer-core over WebDriver BiDi) and WebKitGTK (WebKitWebDriver + MiniBrowser, under
# Xvfb: xvfb-run needs xauth). One apt-get update, and only when something is missing: a machine that
# has them all returns at once. Run by .ci/run, and by `npm test` (scripts/ensure-deps.mjs) as root.
set -euo pipefail
missing=()
if [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ -z "${FIREFOX_PATH:-}" ] && [ ! -x /usr/bin/firefox-esr ]; then missing+=(firefox-esr); fi
if [ -z "${WEBKIT_DRIVER_PATH:-}" ] && [ ! -x /usr/bin/WebKitWebDriver ]; then missing+=(webkit2gtk-driver); fi
if ! command -v xvfb-run >/dev/null 2>&1; then missing+=(xvfb); fi
if ! command -v xauth >/dev/null 2>&1; then missing+=(xauth); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "labvault: installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
