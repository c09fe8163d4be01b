#!/usr/bin/env bash
# `make demo`: start the C1 simulator with fresh credentials, install the freshly built provider
# the way users do (`terraform init` from a filesystem mirror), apply examples/terraform/, show
# the outputs, prove a second plan has no changes, and stop the simulator.
# Everything it writes lives in .demo/ (git-ignored) and is recreated on each run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TERRAFORM=${TERRAFORM:-terraform}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PROVIDER_BIN=$TARGET_DIR/debug/terraform-provider-conductorone
SIM_BIN=$TARGET_DIR/debug/c1-sim
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
DEMO=$ROOT/.demo
# What C1 already holds: a managed app "Segment" made by hand, and "Torq", discovered through
# the identity provider (SSO). The example looks both up by name and makes a third app itself.
SEED_APPS=demo-segment=Segment
DISCOVERED_APPS=Torq

for bin in "$PROVIDER_BIN" "$SIM_BIN"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing: run cargo build --workspace" >&2; exit 1; }
done

say() { printf '\n==> %s\n' "$*"; }

rm -rf "$DEMO"
mkdir -p "$DEMO/work"

say "Starting the simulator (apps: Segment, made by hand; Torq, discovered through SSO)"
"$SIM_BIN" serve --port 0 --addr-file "$DEMO/addr" --clients "$DEMO/clients.json" \
  --seed-apps "$SEED_APPS" --seed-discovered-apps "$DISCOVERED_APPS" \
  --sync-delay-ms 300 >"$DEMO/sim.log" 2>&1 &
SIM_PID=$!
stop_sim() {
  if kill -0 "$SIM_PID" 2>/dev/null; then
    kill "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
    echo "demo: simulator stopped"
  fi
}
trap stop_sim EXIT

for _ in $(seq 1 300); do
  [ -s "$DEMO/addr" ] && break
  kill -0 "$SIM_PID" 2>/dev/null || { echo "demo: the simulator exited:" >&2; cat "$DEMO/sim.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$DEMO/addr" ] || { echo "demo: the simulator did not start" >&2; cat "$DEMO/sim.log" >&2; exit 1; }
SERVER_URL=$(tr -d '[:space:]' <"$DEMO/addr")
echo "simulator at $SERVER_URL (log: .demo/sim.log)"

say "Minting credentials"
CREDS=$("$SIM_BIN" credentials --clients "$DEMO/clients.json" --name demo)
json_field() { printf '%s' "$CREDS" | tr -d '\n' | sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p"; }
CLIENT_ID=$(json_field client_id)
CLIENT_SECRET=$(json_field client_secret)
[ -n "$CLIENT_ID" ] && [ -n "$CLIENT_SECRET" ] || { echo "demo: could not mint credentials" >&2; exit 1; }
echo "client id: $CLIENT_ID (secret kept in the environment only)"

# The mirror keeps the build under the platform Terraform runs on (for example linux_amd64).
PLATFORM=$(TF_CLI_CONFIG_FILE=/dev/null "$TERRAFORM" version -json | tr -d '\n' |
  sed -n 's/.*"platform" *: *"\([^"]*\)".*/\1/p')
[ -n "$PLATFORM" ] || { echo "demo: could not read the platform from '$TERRAFORM version -json'" >&2; exit 1; }

say "Installing provider v$VERSION ($PLATFORM) into a local filesystem mirror"
PKG=$DEMO/mirror/registry.terraform.io/conductorone/conductorone/$VERSION/$PLATFORM
mkdir -p "$PKG"
cp "$PROVIDER_BIN" "$PKG/terraform-provider-conductorone_v$VERSION"
cat >"$DEMO/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$DEMO/mirror"
    include = ["registry.terraform.io/conductorone/*"]
  }
  direct {
    exclude = ["registry.terraform.io/conductorone/*"]
  }
}
TFRC
cp examples/terraform/*.tf "$DEMO/work/"

export TF_CLI_CONFIG_FILE=$DEMO/cli.tfrc
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1 TF_INPUT=0
unset TF_PLUGIN_CACHE_DIR TF_LOG TF_LOG_PATH CONDUCTORONE_ACCESS_TOKEN CONDUCTORONE_TENANT_DOMAIN
export CONDUCTORONE_SERVER_URL=$SERVER_URL
export CONDUCTORONE_CLIENT_ID=$CLIENT_ID
export CONDUCTORONE_CLIENT_SECRET=$CLIENT_SECRET
# Colour on a terminal, plain text in logs.
COLOR=()
[ -t 1 ] || COLOR=(-no-color)
tf() { local cmd=$1; shift; "$TERRAFORM" -chdir="$DEMO/work" "$cmd" "${COLOR[@]}" "$@"; }

# sed reads to the end: `head -1` could exit first and fail the pipe (SIGPIPE) under pipefail.
"$TERRAFORM" version | sed -n 1p

say "terraform init"
tf init -input=false

say "terraform apply (a new app, two looked up by name, and the three integrations)"
tf apply -auto-approve -input=false

say "terraform output"
tf output

say "terraform plan (must show no changes)"
set +e
tf plan -detailed-exitcode -input=false
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "demo: the second plan was not clean (exit $rc)" >&2
  exit 1
fi

say "Demo complete: 1 app and 3 integrations applied, second plan clean"
