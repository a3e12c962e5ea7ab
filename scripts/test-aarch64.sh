#!/usr/bin/env bash
# Runs the engine crate's tests (spherelab-core) built for 64-bit ARM, under qemu-user: the matrix products'
# NEON kernels and the row loops compiled for NEON are the path an ARM machine (a Mac, a Raspberry Pi, a Graviton
# VM) runs, and no x86 test reaches them. qemu emulates the instructions, so this checks results, never speed.
# Needs: the aarch64-unknown-linux-gnu target (rustup), gcc-aarch64-linux-gnu and libc6-dev-arm64-cross (the
# linker and the C library to link against) and qemu-user (qemu-aarch64); ./scripts/test.sh installs them.
# Usage: ./scripts/test-aarch64.sh [extra cargo test arguments, e.g. a test name filter]
# Exit status: 0 when every test passes, 3 when a tool is missing (named on stderr), else the failing step's.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# (The list is read whole before grep: under pipefail an early-exiting grep -q could fail the pipe.)
installed=$(rustup target list --installed)
grep -qx aarch64-unknown-linux-gnu <<<"$installed" || missing+=("rustup target aarch64-unknown-linux-gnu")
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=("gcc-aarch64-linux-gnu (apt)")
command -v qemu-aarch64 >/dev/null || missing+=("qemu-user (apt)")
[ -d /usr/aarch64-linux-gnu/lib ] || missing+=("libc6-dev-arm64-cross (apt)")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'cannot run the AArch64 tests: missing %s\n' "${missing[*]}" >&2
    printf '(./scripts/test.sh installs them; SKIP_AARCH64=1 ./scripts/test.sh skips this step)\n' >&2
    exit 3
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
# The code under cfg(target_arch = "aarch64") is linted only here.
cargo clippy -p spherelab-core --all-targets --locked --target aarch64-unknown-linux-gnu -- -D warnings
# Release: the tests run emulated, about ten times slower than natively; optimised code keeps that to minutes.
cargo test -p spherelab-core --release --locked --target aarch64-unknown-linux-gnu "$@"
