#!/usr/bin/env bash
# Browser end-to-end test of the packaged extension in real VS Code: code-server (a VS Code build from
# the npm registry) serving a fixture workspace on 127.0.0.1 with the VSIX installed, driven by
# playwright-core in Debian's Chromium. Installs what it needs (apt packages, code-server) itself.
# Follows ../shared/recipes/code-server.md. Screenshots go to test/e2e/out/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT="$ROOT/test/e2e/out"
CACHE=${TENSORPORT_E2E_CACHE:-$HOME/.cache/tensorport-e2e}
PORT=${PORT:-8123}
CS_VERSION=4.100.3   # the last code-server that runs on Node 20
W=$(mktemp -d /tmp/tensorport-e2e.XXXXXX)
mkdir -p "$OUT" "$CACHE/cs" "$W"/{ws,ud/User,exts}
log() { echo "[e2e $(date +%H:%M:%S)] $*"; }

# 1. System packages: build tools for code-server's native modules, ripgrep, the browser.
if ! command -v rg >/dev/null || ! command -v chromium >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  log "installing apt packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq build-essential python3 libkrb5-dev ripgrep chromium curl >/dev/null
fi

# 2. code-server from the npm registry, cached between runs.
CS="$CACHE/cs/node_modules/.bin/code-server"
if [ ! -x "$CS" ]; then
  log "installing code-server $CS_VERSION"
  NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  [ -f "$NODE_PREFIX/include/node/node.h" ] && export npm_config_nodedir="$NODE_PREFIX"
  export npm_config_unsafe_perm=true npm_config_yes=true
  # @vscode/ripgrep downloads rg from GitHub unless its cache holds the asset: seed it with Debian's rg.
  RGC="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$RGC"
  tar czf "$RGC/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(readlink -f "$(command -v rg)")")" rg
  ( cd "$CACHE/cs" && echo '{"private":true}' > package.json && npm install --no-audit --no-fund "code-server@$CS_VERSION" ) > "$OUT/code-server-install.log" 2>&1 \
    || { tail -40 "$OUT/code-server-install.log"; exit 1; }
fi

# 3. The VSIX, exactly as users get it.
log "packaging"
( cd "$ROOT" && npm run -s package ) > "$OUT/package.log" 2>&1 || { tail -30 "$OUT/package.log"; exit 1; }
VSIX=$(ls "$ROOT"/dist-vsix/*-linux-x64-*.vsix | head -1)
"$CS" --user-data-dir "$W/ud" --extensions-dir "$W/exts" --install-extension "$VSIX" > "$OUT/install-extension.log" 2>&1

# 4. The workspace: the worked BERT → PaddleNLP example with one transpose left out (line 12).
EX="$ROOT/test/fixtures/examples/bert-to-paddlenlp"
cp "$EX/hf_bert_tiny.safetensors" "$EX/paddlenlp_bert_tiny.pdparams" "$W/ws/"
sed '12s/ | transpose$//' "$EX/good.tpmap" > "$W/ws/port.tpmap"
# …and a port whose block-1 output projection was left untransposed, for the parity panel.
PX="$ROOT/test/fixtures/parity"
cp "$PX/ref.onnx" "$PX/port.onnx" "$PX/ref.safetensors" "$W/ws/"
cp "$PX/port_transpose_fault.tpmap" "$W/ws/parity.tpmap"
# …a real Trainer run (checkpoint-2/, checkpoint-4/), a model cloned without Git LFS, and a malicious pickle.
RX="$ROOT/test/fixtures/real"
mkdir -p "$W/ws/out" "$W/ws/clone"
( cd "$RX/trainer_run" && find . -type f ! -name '*.truth.json' -exec cp --parents {} "$W/ws/out/" \; )
cp "$RX/trainer/model.safetensors" "$W/ws/clone/model.safetensors"
printf '\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.' > "$W/ws/out/evil.pt"
cat > "$W/ud/User/settings.json" <<'JSON'
{ "workbench.startupEditor": "none", "telemetry.telemetryLevel": "off", "update.mode": "none",
  "extensions.autoCheckUpdates": false, "extensions.autoUpdate": false, "extensions.ignoreRecommendations": true,
  "workbench.enableExperiments": false, "security.workspace.trust.enabled": false,
  "workbench.colorTheme": "Default Dark Modern", "editor.hover.delay": 100,
  "tensorport.parity.reference": "ref.onnx", "tensorport.parity.candidate": "port.onnx",
  "tensorport.parity.inputs": ["input_ids=random:1x6"] }
JSON

# …and eager parity runs the user's PyTorch models in Python: the project's test environment (with torch),
# made or reused as `npm test` does, named by tensorport.python (no Python extension in this profile).
node "$ROOT/test/python/ensure-venv.mjs"
PY="$ROOT/test/python/.venv/bin/python"
"$PY" -c 'import torch' || { echo "e2e: $PY cannot import torch (eager parity needs it)"; exit 1; }
node -e 'const fs = require("fs"); const [f, py] = process.argv.slice(1); const s = JSON.parse(fs.readFileSync(f, "utf8")); s["tensorport.python"] = py; fs.writeFileSync(f, JSON.stringify(s, null, 1))' "$W/ud/User/settings.json" "$PY"

# 5. code-server on loopback, then the browser steps.
"$CS" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check --disable-workspace-trust \
  --user-data-dir "$W/ud" --extensions-dir "$W/exts" "$W/ws" > "$OUT/code-server.log" 2>&1 &
CS_PID=$!
# The workbench's logs (the extension's Output channel among them) are kept with the screenshots.
trap 'kill $CS_PID 2>/dev/null; wait $CS_PID 2>/dev/null || true; rm -rf "$OUT/logs"; cp -r "$W/ud/logs" "$OUT/logs" 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" || { cat "$OUT/code-server.log"; exit 1; }
log "code-server up; running the browser steps"
CS_URL="http://127.0.0.1:$PORT/?folder=$W/ws" OUT="$OUT" WS="$W/ws" ROOT="$ROOT" node "$ROOT/test/e2e/browser/e2e.mjs"
