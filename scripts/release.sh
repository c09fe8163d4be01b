#!/usr/bin/env bash
# `make release VERSION=x.y.z`: the provider release in the Terraform Registry's layout, in DIST_DIR
# (default dist/, git-ignored):
#
#   terraform-provider-conductorone_<version>_<os>_<arch>.zip   one per platform; holds only
#                                                               terraform-provider-conductorone_v<version>[.exe]
#   terraform-provider-conductorone_<version>_manifest.json     copy of terraform-registry-manifest.json
#   terraform-provider-conductorone_<version>_SHA256SUMS        sha256 of the zips and the manifest
#   terraform-provider-conductorone_<version>_SHA256SUMS.sig    detached binary GPG signature of it
#
# Steps (the GitHub release workflow runs them on separate machines):
#   scripts/release.sh package   build this host's target (release profile), zip it into DIST_DIR
#   scripts/release.sh sign      manifest, SHA256SUMS over every zip of VERSION in DIST_DIR, signature
#   scripts/release.sh all       empty DIST_DIR, package, sign (what `make release` runs)
#
# VERSION must equal the version in Cargo.toml ([workspace.package]): the binary reports that
# version (`--version`), so a release under another one is refused. Bump Cargo.toml first.
#
# Signing key, from the environment (one of):
#   GPG_PRIVATE_KEY   an ASCII-armored secret key (`gpg --armor --export-secret-keys FPR`), with
#                     GPG_PASSPHRASE if it has one; imported into a throwaway GNUPGHOME, so the
#                     caller's keyring is neither read nor changed
#   GPG_FINGERPRINT   a key already in the caller's keyring (GNUPGHOME or ~/.gnupg); gpg-agent
#                     asks for its passphrase as usual unless GPG_PASSPHRASE is set
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=terraform-provider-conductorone
CARGO=${CARGO:-cargo}
DIST_DIR=${DIST_DIR:-dist}
MANIFEST=terraform-registry-manifest.json

die() { echo "release: error: $*" >&2; exit 1; }
say() { echo "release: $*"; }

cargo_version() {
  sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml
}

check_version() {
  local cargo
  cargo=$(cargo_version)
  [ -n "${VERSION:-}" ] || die "set VERSION (make release VERSION=$cargo)"
  [[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
    die "VERSION=$VERSION is not a semantic version x.y.z (no leading v)"
  [ "$VERSION" = "$cargo" ] ||
    die "VERSION=$VERSION but Cargo.toml says $cargo: set version = \"$VERSION\" in [workspace.package] (and add it to CHANGELOG.md), then run again"
}

check_key() {
  [ -n "${GPG_PRIVATE_KEY:-}${GPG_FINGERPRINT:-}" ] ||
    die "no signing key: set GPG_PRIVATE_KEY (ASCII-armored secret key, with GPG_PASSPHRASE if it has one) or GPG_FINGERPRINT (a key in your keyring); README.md, 'Releasing', says how to create one"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

# The platform of this host's Rust target, in Terraform's words (os_arch).
host_platform() {
  local triple os arch
  triple=$(rustc -vV | sed -n 's/^host: //p')
  case $triple in
    x86_64-*) arch=amd64 ;;
    aarch64-*) arch=arm64 ;;
    i686-* | i586-*) arch=386 ;;
    arm*) arch=arm ;;
    *) die "no Terraform architecture for Rust target $triple" ;;
  esac
  case $triple in
    *-linux-*) os=linux ;;
    *-apple-darwin) os=darwin ;;
    *-windows-*) os=windows ;;
    *-freebsd) os=freebsd ;;
    *) die "no Terraform OS for Rust target $triple" ;;
  esac
  echo "${os}_${arch}"
}

package() {
  check_version
  local platform exe target_dir bin work zip
  platform=$(host_platform)
  exe=""
  [[ $platform == windows_* ]] && exe=.exe
  say "building $NAME $VERSION for $platform (release profile)"
  "$CARGO" build --release --locked --bin "$NAME"
  target_dir=${CARGO_TARGET_DIR:-target}
  bin=$target_dir/release/$NAME$exe
  [ -x "$bin" ] || die "$bin was not built"
  local reported
  reported=$("$bin" --version)
  [ "$reported" = "$NAME $VERSION" ] || die "the binary reports '$reported', not '$NAME $VERSION'"

  mkdir -p "$DIST_DIR"
  work=$(mktemp -d "${TMPDIR:-/tmp}/c1-release.XXXXXX")
  cp "$bin" "$work/${NAME}_v$VERSION$exe"
  zip="$(cd "$DIST_DIR" && pwd)/${NAME}_${VERSION}_${platform}.zip"
  rm -f "$zip"
  if command -v zip >/dev/null 2>&1; then
    (cd "$work" && zip -q -X "$zip" "${NAME}_v$VERSION$exe")
  elif command -v 7z >/dev/null 2>&1; then
    (cd "$work" && 7z a -tzip -bd "$zip" "${NAME}_v$VERSION$exe" >/dev/null)
  else
    rm -rf "$work"
    die "neither zip nor 7z is installed (make tools installs zip)"
  fi
  rm -rf "$work"
  say "wrote $DIST_DIR/$(basename "$zip")"
}

sign() {
  check_version
  local prefix=${NAME}_${VERSION} zips=()
  shopt -s nullglob
  zips=("$DIST_DIR/${prefix}"_*_*.zip)
  shopt -u nullglob
  [ ${#zips[@]} -gt 0 ] || die "no ${prefix}_<os>_<arch>.zip in $DIST_DIR: run '$0 package' first"
  check_key

  cp "$MANIFEST" "$DIST_DIR/${prefix}_manifest.json"
  (
    cd "$DIST_DIR"
    rm -f "${prefix}_SHA256SUMS" "${prefix}_SHA256SUMS.sig"
    sha256 "${prefix}"_*_*.zip "${prefix}_manifest.json" >"${prefix}_SHA256SUMS.tmp"
    mv "${prefix}_SHA256SUMS.tmp" "${prefix}_SHA256SUMS"
  )

  local key=${GPG_FINGERPRINT:-} gpg_home="" gpg=(gpg --batch --yes)
  if [ -n "${GPG_PRIVATE_KEY:-}" ]; then
    gpg_home=$(mktemp -d "${TMPDIR:-/tmp}/c1-gpg.XXXXXX")
    chmod 700 "$gpg_home"
    # shellcheck disable=SC2064
    trap "GNUPGHOME='$gpg_home' gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf '$gpg_home'" EXIT
    export GNUPGHOME=$gpg_home
    printf '%s\n' "$GPG_PRIVATE_KEY" >"$gpg_home/key.asc"
    if [ -n "${GPG_PASSPHRASE:-}" ]; then
      printf '%s' "$GPG_PASSPHRASE" |
        "${gpg[@]}" --quiet --pinentry-mode loopback --passphrase-fd 0 --import "$gpg_home/key.asc"
    else
      "${gpg[@]}" --quiet --import "$gpg_home/key.asc"
    fi || die "GPG_PRIVATE_KEY could not be imported"
    rm -f "$gpg_home/key.asc"
    key=$("${gpg[@]}" --with-colons --list-secret-keys | awk -F: '$1 == "fpr" { print $10; exit }')
    [ -n "$key" ] || die "GPG_PRIVATE_KEY holds no secret key"
  fi
  local sums="$DIST_DIR/${prefix}_SHA256SUMS"
  if [ -n "${GPG_PASSPHRASE:-}" ]; then
    printf '%s' "$GPG_PASSPHRASE" |
      "${gpg[@]}" --pinentry-mode loopback --passphrase-fd 0 --local-user "$key" \
        --detach-sign --output "$sums.sig" "$sums"
  else
    "${gpg[@]}" --local-user "$key" --detach-sign --output "$sums.sig" "$sums"
  fi
  "${gpg[@]}" --verify "$sums.sig" "$sums" 2>/dev/null || die "the signature does not verify"
  say "signed $(basename "$sums") with key $key"
  (cd "$DIST_DIR" && ls -1 "${prefix}"_*)
}

case ${1:-} in
  package) package ;;
  sign) sign ;;
  all)
    check_version
    check_key
    case $DIST_DIR in "" | / | . | ..) die "DIST_DIR=$DIST_DIR: name a folder of its own" ;; esac
    rm -rf "$DIST_DIR"
    package
    sign
    ;;
  *) die "usage: VERSION=x.y.z $0 package|sign|all" ;;
esac
