#!/usr/bin/env bash
# setup.sh of the shmlab Gradescope autograder, written by `cargo grade autograder gradescope`
# (lab commit @COMMIT@). Gradescope runs it once, as root, when it builds the autograder's
# image. It needs the network; run_autograder afterwards does not.
set -euo pipefail
lab=/autograder/shmlab

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
# The toolchain already on this image, if there is one; otherwise rustup's minimal stable.
# Rust @RUST_VERSION@ or newer is needed (the workspace's rust-version).
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
missing=()
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v curl >/dev/null || command -v cargo >/dev/null || missing+=(curl ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${missing[@]}"
fi
if ! command -v cargo >/dev/null; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --default-toolchain stable
    . "$HOME/.cargo/env"
fi
cargo --version
rustc --version

step "the lab"
# A fresh copy of the lab; only a target/ left by an earlier run is kept (to rebuild faster).
mkdir -p "$lab"
find "$lab" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
cp -r /autograder/source/shmlab/. "$lab"/
cd "$lab"
# Where run_autograder finds this toolchain.
printf 'export PATH=%q\n' "$(dirname "$(command -v cargo)"):$PATH" > "$lab/.toolchain-env"

step "build the grader (the last use of the network)"
cargo fetch --locked
cargo build --release --locked --package grader

step "grade the untouched stubs, offline: this builds every dependency a submission needs"
status=0
CARGO_NET_OFFLINE=true "$lab/target/release/grader" --submission "$lab" \
    --format json --output /tmp/shmlab-stubs.json > /dev/null || status=$?
if [ "$status" -ne 1 ]; then
    echo "the grader could not grade the lab's own stubs (exit status $status, expected 1): see above"
    exit 1
fi
echo "setup done: grader at $lab/target/release/grader"
