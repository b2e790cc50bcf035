#!/bin/sh
# Installs the Debian 12 packages ContrastLab needs, only those missing.
#   tools/install-deps.sh          what `make run` needs (build the app and run it)
#   tools/install-deps.sh test     + what `make test` and CI need (Xvfb, xdotool, clang's libFuzzer,
#                                    GNU parallel, a single-node Slurm with munge)
#   tools/install-deps.sh bench    + what `make bench` needs (PyTorch, the speed reference)
#   tools/install-deps.sh dev      + what regenerating the oracle fixtures needs (numpy, PyTorch,
#                                    scikit-learn)
set -eu
BASE="build-essential pkg-config meson ninja-build libglib2.0-dev libgtk-4-dev libopenblas-dev
libpng-dev zlib1g-dev libglib2.0-bin dataset-fashion-mnist"
TEST="xvfb xauth imagemagick xdotool desktop-file-utils appstream clang libclang-rt-14-dev parallel
slurm-wlm munge"
BENCH="python3-torch python3-numpy"
DEV="python3-torch python3-numpy python3-sklearn"
PACKAGES="$BASE"
for group in "$@"; do
  case "$group" in
    test) PACKAGES="$PACKAGES $TEST" ;;
    bench) PACKAGES="$PACKAGES $TEST $BENCH" ;;
    dev) PACKAGES="$PACKAGES $TEST $DEV" ;;
    *) echo "install-deps.sh: unknown group '$group' (expected test, bench or dev)" >&2; exit 2 ;;
  esac
done
missing=""
for p in $PACKAGES; do
  case " $missing " in *" $p "*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
