#!/bin/sh
# Install the Debian packages that building and testing need, when missing.
# Runs as root or through sudo; does nothing when everything is present.
set -e
need=""
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in build-essential binutils libinih-dev libelf-dev libcriterion-dev clang \
	 libclang-rt-14-dev python3 sqlite3 lmdb-utils xz-utils bzip2 zstd perl git coreutils \
	 util-linux fiu-utils valgrind libjson-c-dev zlib1g-dev parallel chromium nodejs jq \
	 libpython3.11-testsuite postgresql; do
	have "$p" || need="$need $p"
done
[ -z "$need" ] && exit 0
echo "install-deps: installing$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $need
