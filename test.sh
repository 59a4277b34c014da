#!/usr/bin/env bash
# The whole test suite: installs what it needs on a fresh Debian machine, then runs every stage.
# Usage: ./test.sh            all stages
#        ./test.sh python     one stage (python, dotnet, peer, deploy, container)
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Debian's torch, not whatever python3 comes first on PATH.
PYTHON=/usr/bin/python3

stage_python() {
  # The benchmark harness's own arithmetic too (tests/benchmarks/scripts/test_*.py).
  PYTHONPATH=src OMP_NUM_THREADS=2 "$PYTHON" -m pytest -q tests/training tests/benchmarks/scripts
}

stage_dotnet() {
  # Redocly CLI lints the OpenAPI document in the API tests.
  bash tests/openapi/install.sh
  # Quiet build, but each failing test's message and stack trace (-v quiet alone hides them).
  # --blame: if a test host crashes, the log names the tests that were running when it did.
  dotnet test CaptionService.sln --nologo -v quiet -c Release --logger "console;verbosity=minimal" --blame
}

stage_peer() {
  # transformers.js must give PyTorch's greedy captions for the ShapeWorld images (issue 2).
  bash tests/peer/check-parity.sh
  # transformers.js still gives the committed zero-shot probabilities and CLIP token ids that the
  # dotnet stage holds the server to (tests/fixtures/parity/clip-tiny/transformersjs.json).
  node tests/peer/clip-reference.mjs --check
  # transformers.js still gives the committed fp32 and q8 captions of vit-gpt2-tiny that the dotnet
  # stage holds the server's CaptionService:Model:Dtype to (transformersjs-variants.json).
  node tests/peer/variant-reference.mjs --check
  # transformers.js still gives the committed ids of the real GPT-2 tokenizer.json (tokenizer.json-only packages).
  node tests/peer/gpt2-tokenizer-reference.mjs --check
}

stage_deploy() {
  bash tests/deploy/check-manifests.sh
}

stage_container() {
  bash tests/container/test-image.sh
}

stages=(python dotnet peer deploy container)
[[ $# -gt 0 ]] && stages=("$@")

bash tests/setup/install-deps.sh

passed=0 failed=0 failures=()
for stage in "${stages[@]}"; do
  echo "=== stage: $stage"
  start=$SECONDS
  if "stage_$stage"; then
    passed=$((passed + 1))
    echo "=== stage $stage passed in $((SECONDS - start)) s"
  else
    failed=$((failed + 1))
    failures+=("$stage")
    echo "=== stage $stage FAILED after $((SECONDS - start)) s"
  fi
done

[[ $failed -gt 0 ]] && echo "failed stages: ${failures[*]}"
echo "test.sh: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
