#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those that are missing, quietly.
# Idempotent: a second run with everything present touches nothing and needs no network.
set -euo pipefail

packages=(
  # Training side: Debian's PyTorch and ONNX; OpenBLAS with OpenMP makes torch ~30x faster on CPU.
  python3-torch python3-onnx python3-pil python3-numpy python3-pytest python3-matplotlib
  libopenblas0-openmp
  # Real-browser test of Swagger UI.
  chromium
  # Container test: rootful podman with runc, and debootstrap for the local base-image stand-ins.
  podman buildah runc debootstrap uidmap fuse-overlayfs
  # The README's API examples (and the container test) use curl; load generators for benchmarks.
  curl
  wrk hey
  # transformers.js peer and Kubernetes schema checks run on Node.js.
  nodejs npm
)

missing=()
for package in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# Node.js may come from outside Debian (as on the development machines); an existing node and npm will do.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for package in "${missing[@]}"; do
    [[ "$package" == nodejs || "$package" == npm ]] || filtered+=("$package")
  done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "install-deps: the .NET 10 SDK is required (dotnet on PATH); see README 'Prerequisites'." >&2
  exit 1
fi
