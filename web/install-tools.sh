#!/usr/bin/env bash
# Installs what the web build and the browser tests need, when missing:
#   - the wasm32 target;
#   - the wasm-bindgen CLI at exactly the version of the wasm-bindgen crate in Cargo.lock (they must match);
#   - binaryen's wasm-opt from npm (web/tools), when npm is there;
#   - Debian's chromium and playwright-core from npm (no browser download: we drive /usr/bin/chromium).
# Usage: web/install-tools.sh [--build-only]   (--build-only: what web/build.sh needs, no browser)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0; [ "${1:-}" = --build-only ] && build_only=1

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -n "$want" ]; then
    have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
    if [ "$have" != "$want" ]; then
        echo "==> installing wasm-bindgen-cli $want (have: ${have:-none}; takes a few minutes)"
        # Not --locked: the CLI's own lock file pins a webpki-roots prerelease that no longer resolves; the
        # versions cargo picks today build (checked with 0.2.130).
        cargo install wasm-bindgen-cli --version "$want" --quiet
    fi
fi

# binaryen's wasm-opt for web/build.sh, from the npm registry (web/tools/package.json pins it).
if [ ! -x web/tools/node_modules/.bin/wasm-opt ]; then
    if command -v npm >/dev/null; then
        echo "==> npm ci (binaryen's wasm-opt)"
        (cd web/tools && npm ci --no-audit --no-fund --silent) || echo "warning: binaryen did not install; the wasm stays unoptimised"
    else
        echo "note: no npm, so no wasm-opt: the wasm stays unoptimised"
    fi
fi

if [ "$build_only" = 0 ] && [ -f web/tests/package.json ]; then
    if ! command -v chromium >/dev/null; then
        sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
    fi
    if [ ! -d web/tests/node_modules/playwright-core ]; then
        echo "==> npm ci (playwright-core, no browser download)"
        (cd web/tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
    fi
fi
