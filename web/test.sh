#!/usr/bin/env bash
# The browser tests: builds web/dist (incremental), serves it on a free local port and runs web/tests/e2e.mjs
# in headless Chromium, once with WebGPU and once without. Exits non-zero when a check fails.
# Screenshots land in web/tests/out/; SPHERELAB_UPDATE_SCREENSHOTS=1 also copies them to docs/screenshots/.
# Usage: ./web/test.sh   (after web/install-tools.sh; scripts/test.sh runs both)
set -euo pipefail
cd "$(dirname "$0")/.."

web/build.sh
[ -d web/tests/node_modules/playwright-core ] || web/install-tools.sh

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory web/dist "$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null && break
    sleep 0.1
done

echo "==> headless Chromium on http://127.0.0.1:$port/"
node web/tests/e2e.mjs "http://127.0.0.1:$port/"

if [ "${SPHERELAB_UPDATE_SCREENSHOTS:-0}" = 1 ]; then
    mkdir -p docs/screenshots
    cp web/tests/out/web-*.png docs/screenshots/
    echo "==> copied the screenshots to docs/screenshots/"
fi
