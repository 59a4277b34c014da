#!/usr/bin/env bash
# Upload flood (issue 15, item 1): 200 clients each send a whole 20 MB image at once (half raw
# image/png, half multipart) to the published server; prints JSON with the peak RSS (VmHWM), the
# answer status counts, connections that ended without an answer, time to each answer, and
# /health/ready during the flood. Goal: peak RSS at most 1 GB, the excess refused quickly with
# Retry-After, no connection reset, the server ready throughout. See tests/benchmarks/README.md.
#
#   tests/benchmarks/upload_flood.sh                     build this tree, 200 clients
#   tests/benchmarks/upload_flood.sh --clients 50        fewer clients
#   FLOOD_SERVER=/path/CaptionService.Api tests/benchmarks/upload_flood.sh   an already published server
#
# Environment: BENCH_MODEL (default models/shapeworld-fusion), BENCH_THREADS (default 2),
# FLOOD_PORT (18082), BENCH_WORK (default tests/benchmarks/.work).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="$(cd "${BENCH_MODEL:-$root/models/shapeworld-fusion}" && pwd)"
work="${BENCH_WORK:-$here/.work}"
py=/usr/bin/python3

$py -c 'import PIL' 2>/dev/null || { echo "upload_flood.sh: python3-pil is required (apt-get install python3-pil)" >&2; exit 1; }
server="${FLOOD_SERVER:-}"
if [[ -z $server ]]; then
    mkdir -p "$work"
    dotnet publish "$root/src/CaptionService.Api/CaptionService.Api.csproj" -c Release -o "$work/flood-api" \
        -nologo -v quiet -clp:ErrorsOnly >&2
    server="$work/flood-api/CaptionService.Api"
fi
exec $py "$here/scripts/upload_flood.py" --server-cmd "$server" --model "$model" \
    --threads "${BENCH_THREADS:-2}" --port "${FLOOD_PORT:-18082}" --log "$work/flood-server.log" "$@"
