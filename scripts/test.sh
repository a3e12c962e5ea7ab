#!/usr/bin/env bash
# Runs every spherelab test, installing what the tests need when it is missing (CI's machine starts bare):
#   - Mesa's lavapipe (mesa-vulkan-drivers), so the GPU tests run on a machine without a GPU;
#   - the wasm32 target, for the wasm clippy pass and the browser build;
#   - the pinned wasm-bindgen CLI, Chromium and playwright-core, for the browser tests (when web/ has them);
#   - the aarch64 target, its cross linker and C library, and qemu-user, for the engine's tests on ARM (NEON).
# Then: formatting, clippy (native and wasm32), the whole test suite, the engine's tests on AArch64, the browser.
# Usage: ./scripts/test.sh            (everything)
#        SKIP_INSTALL=1 ./scripts/test.sh   (don't try to install anything)
#        SKIP_AARCH64=1 ./scripts/test.sh   (leave out the emulated ARM run, about four minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

install_deps() {
    local missing=()
    for p in mesa-vulkan-drivers libvulkan1 xvfb; do have_pkg "$p" || missing+=("$p"); done
    if [ "${SKIP_AARCH64:-0}" != 1 ]; then
        for p in qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do have_pkg "$p" || missing+=("$p"); done
    fi
    if [ -f web/tests/package.json ]; then have_pkg chromium || missing+=(chromium); fi
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
        step "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if [ "${SKIP_AARCH64:-0}" != 1 ] && ! rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$'; then
        step "adding the aarch64-unknown-linux-gnu target"
        rustup target add aarch64-unknown-linux-gnu
    fi
    rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
    # Web tooling (wasm-bindgen CLI, Chromium, playwright-core) only once browser tests exist.
    if [ -x web/test.sh ] && [ -x web/install-tools.sh ]; then web/install-tools.sh; fi
}

[ "${SKIP_INSTALL:-0}" = 1 ] || install_deps

step "cargo fmt --check"
cargo fmt --all -- --check

step "no import circles in spherelab-core (scripts/import-circles.py)"
python3 scripts/import-circles.py

step "cargo clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy (wasm32)"
wasm_crates=()
for c in spherelab-core spherelab-gpu spherelab-app; do
    cargo metadata --no-deps --format-version 1 --locked | grep -q "\"name\":\"$c\"" && wasm_crates+=(-p "$c")
done
cargo clippy --target wasm32-unknown-unknown --locked "${wasm_crates[@]}" -- -D warnings

step "cargo test --workspace (GPU tests on $(command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>/dev/null | grep -m1 deviceName | sed 's/.*= //' || echo 'the Vulkan driver'))"
cargo test --workspace --locked

if [ "${SKIP_AARCH64:-0}" != 1 ]; then
    step "the engine's tests on AArch64 (NEON kernels; emulated by qemu-user)"
    scripts/test-aarch64.sh
fi

if [ -x web/test.sh ]; then
    step "browser tests (headless Chromium)"
    web/test.sh
fi

step "all tests passed"
