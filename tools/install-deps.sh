#!/bin/sh
# Installs the Debian 12 packages ContrastLab needs, only those missing.
set -eu
PACKAGES="build-essential pkg-config meson ninja-build libglib2.0-dev libgtk-4-dev libopenblas-dev
libpng-dev zlib1g-dev xvfb xauth libglib2.0-bin dataset-fashion-mnist imagemagick xdotool desktop-file-utils appstream"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
