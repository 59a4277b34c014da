#!/usr/bin/env bash
# Issue 2's transformers.js check of the shipped package: installs the peer when needed, then
# captions the 850 ShapeWorld images of tests/data/shapeworld with transformers.js and compares them with the PyTorch greedy
# captions. Exit 0 when >= 95% are identical, 1 below, 2 on errors. Extra arguments go to
# check-parity.mjs (--model, --reference, --threshold, --threads, --out).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install.sh"
exec node "$here/check-parity.mjs" "$@"
