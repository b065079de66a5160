# Shared by scripts/setup, scripts/run and scripts/test: installs what is missing, idempotently.
# Sourced, not run. Every check looks at what is installed first, so a second run takes seconds.

set -euo pipefail

TRUNK_VERSION="0.22.1"
BINARYEN_NPM_VERSION="132.0.0"
WASM_OPT_VERSION="132"
AXE_CORE_VERSION="4.14.1"
GECKODRIVER_VERSION="0.37.1"
IZI_TOOLS_DIR="${IZI_TOOLS_DIR:-$HOME/.cache/izishopin-tools}"

export PATH="$IZI_TOOLS_DIR/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# trunk would otherwise ask crates.io for its own latest version on every run.
export TRUNK_SKIP_VERSION_CHECK=true

step() { printf '\033[1m==> [%dm%02ds] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }
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

# What ensure_tools starts in the background: "pid:name" each, its output in "$IZI_JOB_DIR/name.log".
IZI_JOBS=()
IZI_JOB_DIR=""

# Runs "$@" in the background, its output kept for wait_jobs to show if it fails.
in_background() {
  local name=$1
  shift
  [ -n "$IZI_JOB_DIR" ] || IZI_JOB_DIR="$(mktemp -d)"
  step "$name (in the background)"
  ( "$@"; printf '%s finished after %dm%02ds\n' "$name" $((SECONDS / 60)) $((SECONDS % 60)) ) >"$IZI_JOB_DIR/$name.log" 2>&1 &
  IZI_JOBS+=("$!:$name")
}

# Waits for every background job; shows the output of those that failed, and then returns 1.
wait_jobs() {
  local job failed=()
  for job in "${IZI_JOBS[@]}"; do
    if wait "${job%%:*}"; then
      tail -n 1 "$IZI_JOB_DIR/${job#*:}.log"
      rm -f "$IZI_JOB_DIR/${job#*:}.log"
    else
      cat "$IZI_JOB_DIR/${job#*:}.log" >&2
      failed+=("${job#*:}")
    fi
  done
  IZI_JOBS=()
  [ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[*]}" >&2; return 1; }
}

# Installs whatever is missing. On a fresh machine the three compiled tools take most of the time, so the
# downloads (Debian's packages, then npm's) go on beside them, and wasm-bindgen-cli and geckodriver compile
# beside trunk: two builds share the 2 cores better than one, whose last crates each use only one.
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

  local packages
  packages="$(missing_packages)"
  if [ -n "$packages" ] || ! npm_tools_present; then
    # shellcheck disable=SC2086 # one word per package
    in_background packages install_packages $packages
  fi

  local compiled=()
  wasm-bindgen --version 2>/dev/null | grep -q " $bindgen\$" || compiled+=(install_wasm_bindgen)
  geckodriver --version 2>/dev/null | grep -q "^geckodriver $GECKODRIVER_VERSION" || compiled+=(install_geckodriver)
  if [ ${#compiled[@]} -gt 0 ]; then
    in_background wasm-bindgen-cli+geckodriver run_each "${compiled[@]}"
  fi

  if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
    step "Installing trunk $TRUNK_VERSION (4 to 8 minutes on 2 cores, once)"
    # trunk 0.22 declares a newer rust-version than this toolchain, which builds it fine. trunk only drives
    # cargo, wasm-bindgen and wasm-opt and minifies a few small files: built unoptimized and without the update
    # check it builds a byte-identical dist/ in the same time, and installs in 5m40s instead of 12m05s here
    # (its own release profile, fat LTO and one codegen unit, took 17 min).
    CARGO_PROFILE_DEV_DEBUG=false \
      cargo install trunk --version "$TRUNK_VERSION" --locked --ignore-rust-version --debug \
      --no-default-features --features rustls
  fi

  # trunk runs cargo offline: bring every crate the lock file names (all targets) first.
  cargo fetch --locked --quiet
  wait_jobs || fail "could not install what is missing (above)"
  # The e2e accessibility test injects axe-core into the browser.
  export AXE_CORE_JS="$IZI_TOOLS_DIR/node_modules/axe-core/axe.min.js"
}

run_each() {
  local command
  for command in "$@"; do "$command"; done
}

install_wasm_bindgen() {
  local bindgen
  bindgen="$(locked_wasm_bindgen)"
  step "Installing wasm-bindgen-cli $bindgen (about 4 minutes, once)"
  # Not --locked: its lock file pins a webpki-roots version missing from the registry. Optimized lightly
  # (no LTO): it runs on every build and on each test binary, where an unoptimized one is 4-6x slower.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install wasm-bindgen-cli --version "$bindgen" --force
}

# The journey test runs in Firefox ESR too. geckodriver is not packaged by Debian 12: built from crates.io.
install_geckodriver() {
  step "Installing geckodriver $GECKODRIVER_VERSION (under a minute, once)"
  # Unoptimized, like trunk: it only relays WebDriver commands to Firefox. 38 s here instead of 79 s for its
  # release profile; the Firefox journey runs the same.
  CARGO_PROFILE_DEV_DEBUG=false cargo install geckodriver --version "$GECKODRIVER_VERSION" --locked --debug
}

# Debian's packages the tests need and this machine lacks, one per line: the browsers and their drivers,
# Node.js for the npm tools, and the servers the PostgreSQL and cluster tests start (throwaway servers of their
# own, initdb in a temp folder, free ports: only the programs are needed).
missing_packages() {
  { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || printf '%s\n' chromium chromium-driver
  command -v firefox-esr >/dev/null 2>&1 || echo firefox-esr
  command -v npm >/dev/null 2>&1 || printf '%s\n' nodejs npm
  cluster_packages
}

npm_tools_present() {
  wasm-opt --version 2>/dev/null | grep -q "version $WASM_OPT_VERSION" &&
    grep -qs "\"version\": \"$AXE_CORE_VERSION\"" "$IZI_TOOLS_DIR/node_modules/axe-core/package.json"
}

# Debian's packages in one apt run, then wasm-opt and axe-core from npm (which may be one of those packages).
install_packages() {
  [ $# -eq 0 ] || apt_install "$@"
  npm_tools_present && return
  step "Installing wasm-opt $WASM_OPT_VERSION (npm binaryen@$BINARYEN_NPM_VERSION) and axe-core $AXE_CORE_VERSION into $IZI_TOOLS_DIR"
  # Debian's binaryen (108) produces wasm that fails at run time; npm's binaryen works.
  mkdir -p "$IZI_TOOLS_DIR"
  npm install --prefix "$IZI_TOOLS_DIR" --no-audit --no-fund --silent \
    "binaryen@$BINARYEN_NPM_VERSION" "axe-core@$AXE_CORE_VERSION"
  npm_tools_present || fail "wasm-opt $WASM_OPT_VERSION or axe-core $AXE_CORE_VERSION is missing after installing them"
}

# PostgreSQL, Redis and HAProxy (Debian's) when missing, one per line.
cluster_packages() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo postgresql
  command -v redis-server >/dev/null 2>&1 || echo redis-server
  command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || echo haproxy
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
