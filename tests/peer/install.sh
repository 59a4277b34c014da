#!/usr/bin/env bash
# Installs the transformers.js peer's Node dependencies (package-lock.json, exact versions).
# Idempotent and quiet: runs `npm ci` only when node_modules is missing or was installed from a
# different package-lock.json or Node version. Installs Node from apt when it is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "peer: installing nodejs and npm from apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nodejs npm >/dev/null
fi
# sharp (bundled with transformers.js) needs Node >= 20.9.
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)'; then
    echo "peer: Node $(node --version) is too old; transformers.js 4.3.1 (sharp) needs >= 20.9" >&2
    exit 1
fi

stamp="node_modules/.captionservice-install-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi
echo "peer: npm ci (about 30 s, 735 MB)" >&2
npm ci --no-audit --no-fund --loglevel=error >/dev/null
node -e 'import("@huggingface/transformers").then(() => {})' # fails loudly if the install is broken
echo "$want" > "$stamp"
