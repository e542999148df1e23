#!/usr/bin/env bash
# Installs what building and testing wasmformer needs, only when it is missing.
# Idempotent, and quick (a few seconds) when everything is already present.
#
#   scripts/setup-toolchain.sh            Rust→wasm32 toolchain, clippy and rustfmt, wasm-bindgen CLI,
#                                         node_modules
#   scripts/setup-toolchain.sh --browser  the same plus Chromium for the browser test
#   scripts/setup-toolchain.sh --numpy    the same plus Debian's numpy and OpenBLAS (without it
#                                         numpy gets the reference BLAS, ~10x slower), the native
#                                         reference of `npm run bench` (skipped if it fails)
#   scripts/setup-toolchain.sh --webgpu   the same plus a Vulkan driver that Dawn (the npm package
#                                         `webgpu`) accepts: Mesa's lavapipe (a CPU Vulkan) 25.x
#                                         from Debian's bookworm-backports; Debian 12's own Mesa
#                                         22.3 gives Dawn no adapter
#
# Why this route (see README "Toolchain"): on machines that reach only package registries,
# `rustup target add wasm32-unknown-unknown` cannot download the wasm32 std. Debian ships a
# newer rustc that knows the target plus the std *source*; we build std for wasm32 from it with
# `-Zbuild-std` (scripts/build-wasm.mjs does that, cached in target/wasm/). Where a rustup
# toolchain already has the wasm32 target and rust-src, it is used as it is.
#
# Writes target/toolchain.env, read by scripts/build-wasm.mjs, scripts/test-wasm-core.mjs and
# scripts/test.mjs:
#   WASM_RUSTUP_TOOLCHAIN  rustup toolchain name for wasm32 builds ("" = the default one)
#   WASM_STD_SRC           "rustup" or "debian"
#   LINT_RUSTUP_TOOLCHAIN  rustup toolchain with clippy and rustfmt ("" = the default one)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
want_browser=0
want_numpy=0
want_webgpu=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    --numpy) want_numpy=1 ;;
    --webgpu) want_webgpu=1 ;;
    *) echo "setup-toolchain: unknown argument '$arg' (expected --browser, --numpy or --webgpu)" >&2; exit 2 ;;
  esac
done

log() { printf '[setup] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root to run: $*"; exit 1; fi
}

apt_updated=0
# need_apt PKG… — installs the Debian packages that are not installed yet.
need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]} and this is not a Debian machine: install them by hand"; exit 1
  fi
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"; as_root apt-get update -qq; apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. A Rust toolchain that can build wasm32 (std from source, for the threaded build) ---
toolchain=""
std_src=""
if command -v rustc >/dev/null; then
  sysroot=$(rustc --print sysroot)
  if [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ] && [ -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    std_src="rustup"
  fi
fi
if [ -z "$std_src" ]; then
  need_apt rustc-web cargo-web rust-web-src lld-22
  std_src="debian"
  if command -v rustup >/dev/null; then
    if ! rustup toolchain list | grep -q '^debian'; then
      log "rustup toolchain link debian /usr"
      rustup toolchain link debian /usr
    fi
    toolchain="debian"
  fi
fi
mkdir -p "$root/target"
printf 'WASM_RUSTUP_TOOLCHAIN=%s\nWASM_STD_SRC=%s\n' "$toolchain" "$std_src" >"$root/target/toolchain.env"

# --- 1b. clippy and rustfmt for the Rust lint gates of `npm test` ---
# rustup's default toolchain normally has both. Else `rustup component add` (it downloads from
# the Rust site, which some machines cannot reach), else Debian's builds for Debian's rustc,
# used as `cargo +debian clippy` / `cargo +debian fmt`.
lint_toolchain=""
has_lints() { cargo ${1:+"+$1"} clippy --version >/dev/null 2>&1 && cargo ${1:+"+$1"} fmt --version >/dev/null 2>&1; }
if ! has_lints ""; then
  if command -v rustup >/dev/null; then
    log "rustup component add clippy rustfmt"
    rustup component add clippy rustfmt >/dev/null 2>&1 || log "rustup could not add clippy and rustfmt; using Debian's"
  fi
  if ! has_lints ""; then
    need_apt rustc-web cargo-web rust-web-clippy rustfmt-web
    if command -v rustup >/dev/null; then
      rustup toolchain list | grep -q '^debian' || rustup toolchain link debian /usr
      lint_toolchain="debian"
    fi
  fi
fi
printf 'LINT_RUSTUP_TOOLCHAIN=%s\n' "$lint_toolchain" >>"$root/target/toolchain.env"

# --- 2. wasm-bindgen CLI at exactly the version in Cargo.lock ---
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$root/Cargo.lock")
if [ -z "$wbg_version" ]; then log "Cargo.lock pins no wasm-bindgen"; exit 1; fi
have_version=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_version" != "$wbg_version" ]; then
  log "cargo install wasm-bindgen-cli $wbg_version (a few minutes, once)"
  # --locked first; if the registry no longer serves a crate that lock file names (seen here:
  # webpki-roots 1.0.11), resolve afresh within the CLI's own version requirements.
  cargo install -q wasm-bindgen-cli --version "=$wbg_version" --locked 2>/dev/null ||
    cargo install -q wasm-bindgen-cli --version "=$wbg_version"
fi

# --- 3. JavaScript dependencies ---
if [ ! -f "$root/node_modules/.package-lock.json" ] ||
   [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  log "npm ci"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- 4. Chromium for the browser test (Debian's; Playwright's own download cannot work here) ---
if [ $want_browser -eq 1 ]; then
  if [ -n "${WASMFORMER_CHROMIUM:-}" ] && [ -x "$WASMFORMER_CHROMIUM" ]; then :; else
    need_apt chromium
  fi
fi

# --- 5. numpy with Debian's OpenBLAS for the benchmark's native reference (optional) ---
if [ $want_numpy -eq 1 ]; then
  # A subshell, so a failed install only costs the bench its BLAS column.
  ( need_apt python3-numpy libopenblas0-pthread ) || log "python3-numpy could not be installed: npm run bench skips the numpy reference"
fi
# --- 6. Mesa's lavapipe (CPU Vulkan) new enough for Dawn, for the WebGPU tests and bench ---
# Dawn needs Vulkan features Mesa 22.3 (Debian 12) lacks; 25.0 from bookworm-backports has them.
# The suite is added on the same mirror as the machine's own Debian sources. Elsewhere (not
# Debian 12, or Mesa already ≥ 23) nothing is changed: the WebGPU tests skip and say why.
if [ $want_webgpu -eq 1 ]; then
  mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  mesa_major=${mesa_version%%.*}
  mesa_major=${mesa_major#*:}
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
  if [ -n "$mesa_version" ] && [ "${mesa_major:-0}" -ge 23 ] 2>/dev/null &&
     dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed'; then
    :
  elif [ "$codename" != "bookworm" ] || ! command -v apt-get >/dev/null; then
    log "WebGPU: Mesa ${mesa_version:-absent} here and this is not Debian 12; install a Vulkan driver Dawn accepts (Mesa >= 23) by hand"
  else
    backports=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      mirror=$(grep -rhs -m1 '^URIs:.*/debian/\?$' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true)
      [ -n "$mirror" ] || mirror=$(grep -rhs -m1 -E '^deb .*/debian/? bookworm ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' || true)
      [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
      log "adding apt source bookworm-backports ($mirror)"
      printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" |
        as_root tee "$backports" >/dev/null
    fi
    log "apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 (Mesa ${mesa_version:-absent} → 25.x)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
fi
exit 0
