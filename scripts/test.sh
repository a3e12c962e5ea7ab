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
    local missing=() arm=() sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    for p in mesa-vulkan-drivers libvulkan1 xvfb; do have_pkg "$p" || missing+=("$p"); done
    if [ -f web/tests/package.json ]; then have_pkg chromium || missing+=(chromium); fi
    if [ "${SKIP_AARCH64:-0}" != 1 ]; then
        for p in qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross; do have_pkg "$p" || arm+=("$p"); done
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        $sudo apt-get update -qq
    elif [ ${#arm[@]} -gt 0 ]; then
        $sudo apt-get update -qq || echo "apt-get update failed: the AArch64 tools may not install"
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
        step "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    # The AArch64 step's tools: a failure to install them skips that step (it says so) rather than the whole run.
    if [ "${SKIP_AARCH64:-0}" != 1 ]; then
        if [ ${#arm[@]} -gt 0 ]; then
            step "installing ${arm[*]}"
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${arm[@]}" >/dev/null \
                || echo "could not install ${arm[*]}: the AArch64 tests will be skipped"
        fi
        if ! grep -qx aarch64-unknown-linux-gnu <<<"$(rustup target list --installed)"; then
            step "adding the aarch64-unknown-linux-gnu target"
            rustup target add aarch64-unknown-linux-gnu || echo "could not add the target: the AArch64 tests will be skipped"
        fi
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
    # Exit status 3: the tools are missing (it says which); a failing test is any other non-zero status.
    scripts/test-aarch64.sh || { rc=$?; [ "$rc" = 3 ] && echo "skipped: the AArch64 tools are missing" || exit "$rc"; }
fi

if [ -x web/test.sh ]; then
    step "browser tests (headless Chromium)"
    web/test.sh
fi

step "all tests passed"
