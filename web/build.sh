#!/usr/bin/env bash
# Builds the browser lab into web/dist: index.html, spherelab.js (wasm-bindgen's loader) and
# spherelab_bg.wasm, from crates/app compiled for wasm32 with the `web` profile (fat LTO; the engine optimised
# for speed — the page may train on its CPU engine — and the UI crates for size), then wasm-opt -Os.
# Serve web/dist with any static server, e.g. `python3 -m http.server -d web/dist 8080`.
# Usage: ./web/build.sh   (installs the wasm32 target and the matching wasm-bindgen CLI when missing)
#   SPHERELAB_WASM_NAMES=1 ./web/build.sh keeps the functions' names in the module (larger), so a browser
#   profile names them: web/tests/profile.mjs reads where the page's training step goes.
set -euo pipefail
cd "$(dirname "$0")/.."

web/install-tools.sh --build-only
target_dir=${CARGO_TARGET_DIR:-target}

echo "==> cargo build (wasm32, profile web)"
cargo build -p spherelab-app --lib --target wasm32-unknown-unknown --profile web --locked

echo "==> wasm-bindgen"
rm -rf web/dist
mkdir -p web/dist
strip_names=--remove-name-section
keep_names=
if [ "${SPHERELAB_WASM_NAMES:-0}" = 1 ]; then
    strip_names=
    keep_names=-g
    echo "    keeping the name section (SPHERELAB_WASM_NAMES=1)"
fi
wasm-bindgen --target web --no-typescript $strip_names --remove-producers-section --out-dir web/dist --out-name spherelab \
    "$target_dir/wasm32-unknown-unknown/web/spherelab_app.wasm"
# wasm-opt (binaryen, from npm: web/install-tools.sh puts it in web/tools) shrinks the module; a system wasm-opt
# does too. The build still works without either, larger.
wasm_opt=web/tools/node_modules/.bin/wasm-opt
[ -x "$wasm_opt" ] || wasm_opt=$(command -v wasm-opt || true)
if [ -n "$wasm_opt" ]; then
    echo "==> wasm-opt -Os ($("$wasm_opt" --version))"
    before=$(stat -c %s web/dist/spherelab_bg.wasm)
    "$wasm_opt" -Os $keep_names --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-simd --enable-reference-types --enable-multivalue \
        -o web/dist/spherelab_bg.wasm web/dist/spherelab_bg.wasm
    printf '    %s -> %s bytes\n' "$before" "$(stat -c %s web/dist/spherelab_bg.wasm)"
else
    echo "==> no wasm-opt (run web/install-tools.sh --build-only): the module stays unoptimised"
fi
cp web/index.html web/dist/

wasm=web/dist/spherelab_bg.wasm
printf '==> web/dist: %s bytes of wasm (%s gzipped)\n' "$(stat -c %s "$wasm")" "$(gzip -9c "$wasm" | wc -c)"
