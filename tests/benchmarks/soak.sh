#!/usr/bin/env bash
# CaptionService soak (issue 15, item 9): minutes of mixed load against the published server
# (captions, scores, hostile and fuzzed uploads, client disconnects, slow bodies) while its RSS,
# GC heap, thread count and open file descriptors are sampled; then SOAK.md, samples.csv,
# statuses.json and soak.svg with each series' drift after warm-up (goal at most +10%) and the
# status codes (goal: no 5xx). See tests/benchmarks/README.md ("Soak").
#
#   tests/benchmarks/soak.sh                          30 minutes (a quiet machine), report in report/soak/
#   tests/benchmarks/soak.sh --minutes 5 --out DIR    a shorter run, its report elsewhere
#
# Options: --minutes N (30), --warmup-minutes N (a sixth of the run), --out DIR (default
# tests/benchmarks/report/soak), --sample-seconds N (5).
# Environment: BENCH_MODEL (package dir, default models/shapeworld-fusion), BENCH_THREADS
# (intra-op threads; default nproc), SOAK_PORT (18081), BENCH_WORK (default tests/benchmarks/.work),
# SHAPEWORLD_DATA (default tests/data/shapeworld), MALLOC_MMAP_THRESHOLD_ (default 1048576, as the
# images ship it), SOAK_MALLOC_DEFAULT=1 (glibc's default allocator settings instead).
# Exit status: 0 when every goal was met; 1 when one was missed (the report says which) or the
# soak could not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
soak_args=()
out="$here/report/soak"
while (($#)); do
    case "$1" in
        --minutes|--warmup-minutes|--sample-seconds)
            [[ $# -ge 2 ]] || { echo "soak.sh: $1 needs a value" >&2; exit 2; }
            soak_args+=("$1" "$2"); shift 2 ;;
        --out)
            [[ $# -ge 2 ]] || { echo "soak.sh: --out needs a value" >&2; exit 2; }
            out="$2"; shift 2 ;;
        *) echo "usage: $0 [--minutes N] [--warmup-minutes N] [--sample-seconds N] [--out DIR]" >&2; exit 2 ;;
    esac
done

model="$(cd "${BENCH_MODEL:-$root/models/shapeworld-fusion}" && pwd)"
threads="${BENCH_THREADS:-$(nproc)}"
port="${SOAK_PORT:-18081}"
work="${BENCH_WORK:-$here/.work}"
shapeworld="$(cd "${SHAPEWORLD_DATA:-$root/tests/data/shapeworld}" && pwd)"
py=/usr/bin/python3

log() { printf '\n== %s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { echo "soak.sh: $*" >&2; exit 1; }

command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is required"
[[ -x $py ]] || die "$py is required"
if ! $py -c 'import PIL' 2>/dev/null; then
    echo "installing python3-pil from apt (the hostile client encodes scenes as JPEG, GIF, BMP and WebP)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq python3-pil >/dev/null
fi
if ss -ltn 2>/dev/null | grep -q ":$port "; then die "port $port is in use (set SOAK_PORT)"; fi

log "build (Release)"
mkdir -p "$work" "$out"
dotnet publish "$root/src/CaptionService.Api/CaptionService.Api.csproj" -c Release -o "$work/soak-api" \
    -nologo -v quiet -clp:ErrorsOnly >&2

# The server runs with the allocator setting docker/ and deploy/ ship (README, "Memory"): glibc
# hands freed blocks of 1 MiB and more straight back to the kernel instead of keeping them in its
# heap, where ImageSharp's freed decode buffers made RSS creep. SOAK_MALLOC_DEFAULT=1 measures
# glibc's own default instead.
if [[ -z ${SOAK_MALLOC_DEFAULT:-} ]]; then
    export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
else
    unset MALLOC_MMAP_THRESHOLD_
fi

log "soak"
exec $py "$here/scripts/soak.py" --server-cmd "$work/soak-api/CaptionService.Api" --model "$model" \
    --threads "$threads" --port "$port" --data "$shapeworld" --fixtures "$root/tests/fixtures/malformed-images" \
    --out "$out" "${soak_args[@]}"
