# Shared by scripts/setup, scripts/run and scripts/test: installs what is missing, idempotently.
# Sourced, not run. Every check looks at what is installed first, so a second run takes seconds.

set -euo pipefail

TRUNK_VERSION="0.22.1"
BINARYEN_NPM_VERSION="132.0.0"
WASM_OPT_VERSION="132"
AXE_CORE_VERSION="4.14.1"
GECKODRIVER_VERSION="0.37.1"
IZI_TOOLS_DIR="${IZI_TOOLS_DIR:-$HOME/.cache/izishopin-tools}"

export PATH="$IZI_TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# trunk would otherwise ask crates.io for its own latest version on every run.
export TRUNK_SKIP_VERSION_CHECK=true

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "need root to run: $* (install it by hand, then run this again)"; fi
}

apt_install() {
  step "Installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The wasm-bindgen version the app is locked to; wasm-bindgen-cli and Trunk.toml must match it.
locked_wasm_bindgen() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_tools() {
  command -v cargo >/dev/null 2>&1 || fail "cargo is missing: install Rust with rustup first"

  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  local bindgen
  bindgen="$(locked_wasm_bindgen)"
  [ -n "$bindgen" ] || fail "no wasm-bindgen in Cargo.lock"
  grep -q "^wasm_bindgen = \"$bindgen\"" Trunk.toml ||
    fail "Trunk.toml [tools] wasm_bindgen must be \"$bindgen\" (the version in Cargo.lock)"

  if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
    step "Installing trunk $TRUNK_VERSION (about 6 minutes on 2 cores, once)"
    # trunk 0.22 declares a newer rust-version than this toolchain, which builds it fine. trunk only drives
    # cargo, wasm-bindgen and wasm-opt and minifies a few small files: built unoptimized and without the update
    # check it builds a byte-identical dist/ in the same time, and installs in 5m40s instead of 12m05s here
    # (its own release profile, fat LTO and one codegen unit, took 17 min).
    CARGO_PROFILE_DEV_DEBUG=false \
      cargo install trunk --version "$TRUNK_VERSION" --locked --ignore-rust-version --debug \
      --no-default-features --features rustls
  fi

  if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$"; then
    step "Installing wasm-bindgen-cli $bindgen (about 4 minutes, once)"
    # Not --locked: its lock file pins a webpki-roots version missing from the registry. Optimized lightly
    # (no LTO): it runs on every build and on each test binary, where an unoptimized one is 4-6x slower.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
      cargo install wasm-bindgen-cli --version "$bindgen" --force
  fi

  if ! wasm-opt --version 2>/dev/null | grep -q "version $WASM_OPT_VERSION"; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    step "Installing wasm-opt $WASM_OPT_VERSION (npm binaryen@$BINARYEN_NPM_VERSION) into $IZI_TOOLS_DIR"
    # Debian's binaryen (108) produces wasm that fails at run time; npm's binaryen works.
    mkdir -p "$IZI_TOOLS_DIR"
    npm install --prefix "$IZI_TOOLS_DIR" --no-audit --no-fund --silent "binaryen@$BINARYEN_NPM_VERSION"
    wasm-opt --version | grep -q "version $WASM_OPT_VERSION" || fail "wasm-opt $WASM_OPT_VERSION is not on PATH after installing it"
  fi

  # The e2e accessibility test injects axe-core into the browser.
  if ! grep -qs "\"version\": \"$AXE_CORE_VERSION\"" "$IZI_TOOLS_DIR/node_modules/axe-core/package.json"; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    step "Installing axe-core $AXE_CORE_VERSION (npm) into $IZI_TOOLS_DIR"
    mkdir -p "$IZI_TOOLS_DIR"
    npm install --prefix "$IZI_TOOLS_DIR" --no-audit --no-fund --silent "axe-core@$AXE_CORE_VERSION"
  fi
  export AXE_CORE_JS="$IZI_TOOLS_DIR/node_modules/axe-core/axe.min.js"

  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    apt_install chromium chromium-driver
  fi

  # The journey test runs in Firefox ESR too. geckodriver is not packaged by Debian 12: built from crates.io.
  command -v firefox-esr >/dev/null 2>&1 || apt_install firefox-esr
  if ! geckodriver --version 2>/dev/null | grep -q "^geckodriver $GECKODRIVER_VERSION"; then
    step "Installing geckodriver $GECKODRIVER_VERSION (under a minute, once)"
    # Unoptimized, like trunk: it only relays WebDriver commands to Firefox. 38 s here instead of 79 s for its
    # release profile; the Firefox journey runs the same.
    CARGO_PROFILE_DEV_DEBUG=false cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --debug
  fi

  # The server's tests also run on PostgreSQL, and the cluster tests on PostgreSQL, Redis and HAProxy: they
  # start throwaway servers of their own (initdb in a temp folder, free ports), so only the programs are needed.
  ensure_cluster_tools

  # trunk runs cargo offline: bring every crate the lock file names (all targets) first.
  cargo fetch --locked --quiet
}

# PostgreSQL, Redis and HAProxy (Debian's), in one apt run for whichever is missing.
ensure_cluster_tools() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

# Loads .env (IZI_API_URL, IZI_WS_URL, IZI_PORT, ...) when present; the app reads its values at build time.
load_env() {
  if [ -f .env ]; then
    set -a
    # shellcheck disable=SC1091
    . ./.env
    set +a
  fi
}

# The two bundles (see ARCHITECTURE.md): the storefront into dist/storefront (Trunk.toml's defaults) and the
# back office into dist/backoffice. The server sends /owner* and /admin* the back office, every other app path
# the storefront.
build_app() {
  step "Building the storefront into dist/storefront (trunk build --release)"
  trunk build --release
  step "Building the back office into dist/backoffice (trunk build --release backoffice.html)"
  trunk build backoffice.html --release --dist dist/backoffice --public-url /backoffice/
  write_service_worker
}

# dist/sw.js: the hashed files of each bundle (as built: no index.html, no .br/.gz the server adds), a version
# that changes with every build (the pages name the hashed files), then sw/sw.js.
write_service_worker() {
  local bundle file name version
  version=$(cat dist/storefront/index.html dist/backoffice/index.html | sha256sum | cut -c1-16)
  {
    printf '// Written by scripts/lib.sh build_app.\nconst VERSION = "%s";\nconst PRECACHE = {\n' "$version"
    for bundle in storefront backoffice; do
      printf '  %s: [' "$bundle"
      for file in dist/"$bundle"/*; do
        name=${file##*/}
        case $name in index.html | *.br | *.gz) continue ;; esac
        printf '"/%s/%s", ' "$bundle" "$name"
      done
      printf '],\n'
    done
    printf '};\n\n'
    cat sw/sw.js
  } > dist/sw.js
}
