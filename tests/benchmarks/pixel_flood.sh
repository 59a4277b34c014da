#!/usr/bin/env bash
# Pixel flood: small uploads of large images. 32 requests, 16 at a time, each a PNG of 40
# megapixels (MaxPixels' default) and one colour, about 130 KB, so that upload admission (bytes
# in flight) lets them all in; run once with the default MaxDecodingPixelsInFlight and once with
# it effectively off. Prints, for each, the RSS before, the peak RSS (VmHWM), hey's status counts
# and times, and /health/ready afterwards. See tests/benchmarks/README.md.
#
#   tests/benchmarks/pixel_flood.sh                     build this tree
#   FLOOD_SERVER=/path/CaptionService.Api tests/benchmarks/pixel_flood.sh   an already published server
#
# Environment: BENCH_MODEL (default models/shapeworld-fusion), BENCH_THREADS (default 2),
# FLOOD_PORT (18083), BENCH_WORK (default tests/benchmarks/.work).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model="$(cd "${BENCH_MODEL:-$root/models/shapeworld-fusion}" && pwd)"
work="${BENCH_WORK:-$here/.work}"
port="${FLOOD_PORT:-18083}"
py=/usr/bin/python3

command -v hey >/dev/null || { echo "pixel_flood.sh: hey is required (apt-get install hey)" >&2; exit 1; }
$py -c 'import PIL' 2>/dev/null || { echo "pixel_flood.sh: python3-pil is required (apt-get install python3-pil)" >&2; exit 1; }
mkdir -p "$work"
server="${FLOOD_SERVER:-}"
if [[ -z $server ]]; then
    dotnet publish "$root/src/CaptionService.Api/CaptionService.Api.csproj" -c Release -o "$work/flood-api" \
        -nologo -v quiet -clp:ErrorsOnly >&2
    server="$work/flood-api/CaptionService.Api"
fi
image="$work/pixel-flood-40mp.png"
$py -c 'import sys; from PIL import Image; Image.new("RGB", (6324, 6324), (40, 90, 200)).save(sys.argv[1], optimize=True)' "$image"
echo "image: 6324x6324 ($((6324 * 6324)) pixels), $(stat -c %s "$image") bytes"

for budget in default 1000000000000; do
    env=(CaptionService__Model__Path="$model" CaptionService__Model__IntraOpThreads="${BENCH_THREADS:-2}")
    [[ $budget != default ]] && env+=(CaptionService__Preprocessing__MaxDecodingPixelsInFlight="$budget")
    env "${env[@]}" "$server" --urls="http://127.0.0.1:$port" > "$work/pixel-flood-server.log" 2>&1 &
    pid=$!
    for _ in $(seq 240); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
    before=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    answers=$(hey -n 32 -c 16 -t 120 -m POST -T image/png -D "$image" "http://127.0.0.1:$port/caption" 2>&1)
    peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
    ready=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/health/ready")
    echo "MaxDecodingPixelsInFlight $budget: RSS before ${before} MB, peak ${peak} MB, /health/ready afterwards ${ready}"
    echo "$answers" | sed -n '/Status code distribution/,/^$/p'
    echo "$answers" | grep -E "Average|Slowest"
    kill "$pid"; wait "$pid" 2>/dev/null || true
done
