#!/usr/bin/env bash
# Renders every deploy/ variant with kubectl kustomize and checks each object: tsc --strict
# against kubernetes-types@1.30.0, kubernetes-models@4.5.1 validation, and the project assertions
# in check-manifests.mjs (which end with a self-test proving each check can fail).
# No Kubernetes API server can run here, so nothing is applied or dry-run against a cluster.
#
#   tests/deploy/check-manifests.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
start=$SECONDS

# Tools: the preinstalled kubectl (its embedded kustomize), Node.js and npm.
KUBECTL="${KUBECTL:-/usr/bin/kubectl}"
[[ -x "$KUBECTL" ]] || KUBECTL="$(command -v kubectl || true)"
if [[ -z "$KUBECTL" ]]; then
    echo "check-manifests: kubectl is required (preinstalled as /usr/bin/kubectl)" >&2
    exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# npm packages, pinned by package-lock.json, installed once per lock file change.
stamp="$here/node_modules/.captionservice-lock.sha256"
lock_sum="$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$lock_sum" >"$stamp"
fi

# variant=kustomization directory, relative to the repository root. The variants under
# tests/deploy/variants compose an overlay with the optional components, so those render and
# pass the same checks.
targets=(
    cpu=deploy/overlays/cpu
    gpu=deploy/overlays/gpu
    cpu:queue-depth=tests/deploy/variants/cpu-queue-depth
    gpu:queue-depth=tests/deploy/variants/gpu-queue-depth
    cpu:model-volume=tests/deploy/variants/cpu-model-volume
    cpu:api-keys=tests/deploy/variants/cpu-api-keys
)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=()
for target in "${targets[@]}"; do
    label="${target%%=*}" dir="${target#*=}"
    file="$out/${label//:/-}.yaml"
    if ! "$KUBECTL" kustomize "$repo/$dir" >"$file" 2>"$file.err"; then
        echo "check-manifests: kubectl kustomize $dir failed:" >&2
        cat "$file.err" >&2
        exit 1
    fi
    args+=("$label=$file")
done

node "$here/check-manifests.mjs" --repo "$repo" "${args[@]}"
echo "check-manifests: passed in $((SECONDS - start)) s"
