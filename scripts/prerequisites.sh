#!/usr/bin/env bash
# Sets up what the tool and the tests need on this machine; each step is a quick no-op where already done.
# 1. Makes TorchSharp's native library (libtorch 2.10) load: libtorch 2.10 needs a libstdc++ that exports GLIBCXX_3.4.32;
#    Debian 12 ships 3.4.30.
# 2. Installs a headless browser for the report-page tests (tests/NasFlatness.Reports.Tests open the generated pages in
#    Debian's `chromium`, driven by Playwright with the system browser: Playwright never downloads one).
#    NASFLATNESS_SKIP_CHROMIUM=1 skips this step (the browser test then fails and says how to install it).
set -euo pipefail

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi

chromium_present() {
  command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ] || [ -n "${NASFLATNESS_CHROMIUM:-}" ]
}

install_chromium() {
  if [ "${NASFLATNESS_SKIP_CHROMIUM:-0}" = "1" ] || chromium_present; then
    echo "prerequisites: chromium present (nothing to do)"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "prerequisites: the report-page tests need Chromium; install it (or set NASFLATNESS_CHROMIUM to its executable)." >&2
    return 1
  fi
  echo "prerequisites: installing chromium (headless browser for the report-page tests)"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
  chromium_present
}

need=GLIBCXX_3.4.32
lib=""
for candidate in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
  if [ -e "$candidate" ]; then lib=$candidate; break; fi
done

has_symbol() {
  [ -n "$lib" ] && grep -qa "$need" "$lib"
}

if has_symbol; then
  echo "prerequisites: $lib already provides $need (nothing to do)"
  install_chromium
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "prerequisites: libstdc++ lacks $need and this is not a Debian-family system;" >&2
  echo "install a libstdc++ from GCC 13 or newer, then run this script again." >&2
  exit 1
fi

echo "prerequisites: $need missing; installing libstdc++6 from Debian 13 (trixie)"
src=/etc/apt/sources.list.d/nasflatness-trixie.sources
if [ ! -e "$src" ]; then
  $sudo tee "$src" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  # Keep everything else on the installed release: only what we ask for comes from trixie.
  $sudo tee /etc/apt/preferences.d/nasflatness-trixie >/dev/null <<'PREF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREF
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq -t trixie libstdc++6 >/dev/null

if has_symbol; then
  echo "prerequisites: done ($lib now provides $need)"
  install_chromium
else
  echo "prerequisites: libstdc++6 was installed but $lib still lacks $need" >&2
  exit 1
fi
