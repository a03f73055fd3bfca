# shellcheck shell=bash
# Sourced by scripts/setup.sh, scripts/fuzz.sh, scripts/bench.sh and bench/*.sh (not run on its own).
#
#   install_missing TAG PACKAGE...
#
# Installs the Debian packages of the list that are not installed yet (dpkg-query), in one
# `apt-get install --no-install-recommends`, with sudo when not root; apt is not called at all when
# nothing is missing. TAG prefixes the message on stderr ("setup: installing hyperfine time").
install_missing() {
  local tag=$1
  shift
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]})) || return 0
  echo "$tag: installing ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
