#!/usr/bin/env bash
# Installs a system package the build needs, the way this host installs packages:
#   scripts/install-package.sh <what it is for> <Debian/Ubuntu package> <Homebrew formula>
# apt-get on Debian/Ubuntu (through sudo when not root), Homebrew on macOS; anywhere else it
# stops with one line that says what to install.
set -euo pipefail
what=$1 apt_pkg=$2 brew_pkg=$3

if [ "$(uname -s)" = Darwin ]; then
  if command -v brew >/dev/null 2>&1; then
    echo "installing $what with Homebrew ($brew_pkg)"
    exec brew install "$brew_pkg"
  fi
  echo "error: $what is missing: install Homebrew (https://brew.sh) and run 'brew install $brew_pkg', then run make again" >&2
  exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "error: $what is missing: run 'apt-get install $apt_pkg' as root, then run make again" >&2
      exit 1
    }
    SUDO=sudo
  fi
  echo "installing $what with apt-get ($apt_pkg)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $apt_pkg >/dev/null
  exit 0
fi

echo "error: $what is missing: install it with your system's package manager (Debian: $apt_pkg, Homebrew: $brew_pkg), then run make again" >&2
exit 1
