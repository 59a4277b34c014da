#!/usr/bin/env bash
# CaptionService benchmarks, one command, all parts one after another on this machine:
#   (a) engine ceiling in-process (no HTTP) + preprocessing alone,
#   (b) the real server over loopback with wrk (concurrency levels, /score 1 vs 8 texts, RSS after
#       10,000 requests, MaxBatchSize x MaxQueueDelay x intra-op threads sweep, and side by side
#       with the server built from the commit of the last committed report),
#   (c) the transformers.js peer on the same package and images, and the identical-caption share,
#   (d) real size: a synthetic vit-gpt2 package (python -m training synth, cached under
#       $BENCH_WORK/packages) against the service, the peer, the ceiling and decoder step timing,
# then tests/benchmarks/report/REPORT.md with tables, the issue-5 and issue-12 ratio tables and PNG plots.
#
#   tests/benchmarks/run.sh            full run (about 40-50 min with the real-size part; a quiet machine)
#   tests/benchmarks/run.sh --quick    a tiny run that only tests the harness (numbers meaningless)
#   tests/benchmarks/run.sh --real-size-only [--quick]
#                                      only (d), into tests/benchmarks/report/real-size/ (its own
#                                      REPORT.md and data/), leaving the main report as it is
#
# Environment: BENCH_MODEL (package dir, default models/shapeworld-fusion), BENCH_THREADS
# (intra-op threads for ceiling, service and peer; default nproc), BENCH_PORT (18080),
# BENCH_OUT (report folder, default tests/benchmarks/report), BENCH_WORK (scratch, default
# tests/benchmarks/.work), BENCH_ORT_FLAVOR (cpu|gpu; default: the project's default),
# SHAPEWORLD_DATA (the ShapeWorld sets to use; default the repository's tests/data/shapeworld),
# BENCH_REAL_SIZE_PRESET (synth preset; default vit-gpt2-base, vit-gpt2-mini with --quick),
# BENCH_REAL_SIZE_SEED (0), BENCH_REAL_SIZE_IMAGES (224x224 scenes; default 100, 10 with --quick),
# BENCH_REAL_SIZE=0 (leave (d) out of a full run), BENCH_ALLOW_DIRTY=1 (measure a tree with uncommitted changes; the report is then marked so).
# Exit status: 0 when every part ran and every measurement was valid; 1 otherwise (the report is
# still written when the measurements got that far, with the problems listed at its top).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
profile=full
parts=all
for arg in "$@"; do
    case "$arg" in
        --quick) profile=quick ;;
        --real-size-only) parts=real-size ;;
        *) echo "usage: $0 [--quick] [--real-size-only]" >&2; exit 2 ;;
    esac
done
real_size="${BENCH_REAL_SIZE:-1}"
[[ $parts == real-size ]] && real_size=1

model="$(cd "${BENCH_MODEL:-$root/models/shapeworld-fusion}" && pwd)"
threads="${BENCH_THREADS:-$(nproc)}"
port="${BENCH_PORT:-18080}"
if [[ $parts == real-size ]]; then
    out="${BENCH_OUT:-$here/report/real-size}"
else
    out="${BENCH_OUT:-$here/report}"
fi
work="${BENCH_WORK:-$here/.work}"
shapeworld="$(cd "${SHAPEWORLD_DATA:-$root/tests/data/shapeworld}" && pwd)"
data="$out/data"
py=/usr/bin/python3
if [[ $profile == quick ]]; then
    rs_preset="${BENCH_REAL_SIZE_PRESET:-vit-gpt2-mini}"
    rs_count="${BENCH_REAL_SIZE_IMAGES:-10}"
else
    rs_preset="${BENCH_REAL_SIZE_PRESET:-vit-gpt2-base}"
    rs_count="${BENCH_REAL_SIZE_IMAGES:-100}"
fi
rs_seed="${BENCH_REAL_SIZE_SEED:-0}"

log() { printf '\n== %s  %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

# ------------------------------------------------------------------ tools (idempotent, quiet)
log "tools"
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x $py ]] || missing+=(python3)
$py -c 'import matplotlib' 2>/dev/null || missing+=(python3-matplotlib)
$py -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    echo "installing ${missing[*]} from apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is required"
"$root/tests/peer/install.sh"
ls "$shapeworld"/*/worlds.jsonl >/dev/null 2>&1 || die "no ShapeWorld sets (*/worlds.jsonl) under $shapeworld"
for f in caption_service.json config.json onnx/encoder_model.onnx onnx/decoder_model_merged.onnx; do
    [[ -f "$model/$f" ]] || die "model package $model lacks $f"
done
if ss -ltn 2>/dev/null | grep -q ":$port "; then die "port $port is in use (set BENCH_PORT)"; fi
# A published figure must come from a commit: a full run refuses a tree with changes (the report
# folder aside) unless BENCH_ALLOW_DIRTY=1, and then the report says so at its top.
changes="$(git -C "$root" status --porcelain | grep -v 'tests/benchmarks/report/' || true)"
if [[ $profile == full && -n $changes && ${BENCH_ALLOW_DIRTY:-0} != 1 ]]; then
    die "the tree has uncommitted changes; commit them first, or set BENCH_ALLOW_DIRTY=1 for a run whose report is marked not reproducible:
$changes"
fi

# ------------------------------------------------------------------ build
log "build (Release)"
mkdir -p "$work" "$data"
# The default package's figures are held to the last committed report's (issue 12: no worse than
# 0.95x): its data, and the commit it came from, are read from git before this run overwrites the folder.
previous="$work/previous-data"
rm -rf "$previous"
rel_data="$(realpath --relative-to="$root" "$data")"
baseline_commit=""
if [[ $parts == all && $rel_data != ..* ]] && git -C "$root" cat-file -e "HEAD:$rel_data/service.json" 2>/dev/null; then
    mkdir -p "$previous"
    for part in service system; do git -C "$root" show "HEAD:$rel_data/$part.json" > "$previous/$part.json"; done
    baseline_commit="$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["git_commit"])' "$previous/system.json")"
fi
rm -f "$data"/*.json
flavor=()
[[ -n "${BENCH_ORT_FLAVOR:-}" ]] && flavor=("-p:OnnxRuntimeFlavor=$BENCH_ORT_FLAVOR")
dotnet publish "$root/src/CaptionService.Api/CaptionService.Api.csproj" -c Release -o "$work/api" \
    "${flavor[@]}" -nologo -v quiet -clp:ErrorsOnly >&2
# Figures from another day differ by more than 5% on a noisy machine, so the server of the commit
# the last report came from is built too, and the two are measured side by side in (b).
baseline_api=""
if [[ -n $baseline_commit ]]; then
    if git -C "$root" cat-file -e "$baseline_commit^{commit}" 2>/dev/null; then
        log "build the last report's server ($baseline_commit)"
        rm -rf "$work/baseline-src" && mkdir -p "$work/baseline-src"
        # src/ and the top-level files (solution, props, global.json) are all a server build reads.
        git -C "$root" archive "$baseline_commit" src $(git -C "$root" ls-tree "$baseline_commit" | awk '$2 == "blob" {print $4}') \
            | tar -x -C "$work/baseline-src"
        if dotnet publish "$work/baseline-src/src/CaptionService.Api/CaptionService.Api.csproj" -c Release \
            -o "$work/api-baseline" "${flavor[@]}" -nologo -v quiet -clp:ErrorsOnly >&2; then
            baseline_api="$work/api-baseline/CaptionService.Api"
        else
            echo "the last report's server ($baseline_commit) does not build: no side-by-side comparison" >&2
        fi
    else
        echo "the last report's commit $baseline_commit is not in this clone: no side-by-side comparison" >&2
    fi
fi
dotnet publish "$here/CaptionService.Benchmarks/CaptionService.Benchmarks.csproj" -c Release -o "$work/ceiling" \
    "${flavor[@]}" -nologo -v quiet -clp:ErrorsOnly >&2

# ------------------------------------------------------------------ system
log "system"
$py "$here/scripts/system_info.py" --root "$root" --model "$model" --api "$work/api" --threads "$threads" \
    --profile "$profile" --parts "$parts" > "$data/system.json"

status=0
# Parts (a) to (c) measure the default package; --real-size-only leaves them out.
if [[ $parts == all ]]; then
    # -------------------------------------------------------------- (a) engine ceiling
    log "(a) engine ceiling, in-process"
    if [[ $profile == quick ]]; then
        ceiling_args=(--batch-sizes 1,4 --pipelined-clients 4 --runs 2 --run-seconds 0.3 --warmup-seconds 0.2 --preprocess-png 20 --preprocess-jpeg 3)
    else
        ceiling_args=(--batch-sizes 1,2,4,8,16,32 --pipelined-clients 16,64 --runs 5 --run-seconds 3 --warmup-seconds 1 --preprocess-png 300 --preprocess-jpeg 30)
    fi
    "$work/ceiling/CaptionService.Benchmarks" --model "$model" --images "$shapeworld" --threads "$threads" \
        --out "$data/ceiling.json" --work "$work" "${ceiling_args[@]}" || { status=1; echo "ceiling FAILED" >&2; }

    # What the image cache bought: the same ceiling, captions only, with the package's image cache
    # taken out of a copy of its manifest (the engine then decodes with the merged decoder).
    rm -f "$data/ceiling_without_image_cache.json"
    if grep -q '"image_cache"' "$model/caption_service.json"; then
        log "(a) engine ceiling without the image cache"
        plain="$work/package-without-image-cache"
        rm -rf "$plain" && cp -r "$model" "$plain"
        # The explanation outputs go too: only the cached decoder has them, not the merged one.
        $py -c 'import json,sys; p=sys.argv[1]; m=json.load(open(p)); m.pop("image_cache"); [m["graphs"].pop(k) for k in ("image_cache","cached_decoder")]; [m["decoder"].pop(k, None) for k in ("cross_attentions","cross_attention_heads")]; json.dump(m,open(p,"w"),indent=2)' \
            "$plain/caption_service.json"
        "$work/ceiling/CaptionService.Benchmarks" --model "$plain" --images "$shapeworld" --threads "$threads" \
            --out "$data/ceiling_without_image_cache.json" --work "$work" "${ceiling_args[@]}" --tasks caption \
            --preprocess-png 1 --preprocess-jpeg 1 || { status=1; echo "ceiling without the image cache FAILED" >&2; }
    fi

    # -------------------------------------------------------------- (b) service over loopback
    log "(b) service over loopback (wrk)"
    $py "$here/scripts/service_bench.py" --server-cmd "$work/api/CaptionService.Api" --model "$model" \
        --threads "$threads" --port "$port" --data "$shapeworld" --profile "$profile" --parts service,sweep \
        --out "$data" --work "$work" || { status=1; echo "service benchmark FAILED" >&2; }
    if [[ -n $baseline_api ]]; then
        log "(b) service side by side with the last report's server ($baseline_commit)"
        $py "$here/scripts/service_bench.py" --server-cmd "$work/api/CaptionService.Api" --model "$model" \
            --threads "$threads" --port "$port" --data "$shapeworld" --profile "$profile" --parts baseline \
            --baseline-cmd "$baseline_api" --baseline-commit "$baseline_commit" \
            --out "$data" --work "$work" || { status=1; echo "side-by-side service benchmark FAILED" >&2; }
    fi

    # -------------------------------------------------------------- (c) transformers.js peer
    log "(c) transformers.js peer"
    # Sequential over every ShapeWorld image (its captions give the identical share); the concurrent levels over the first 200.
    if [[ $profile == quick ]]; then
        peer_args=(--limit 30 --concurrency 1,4 --warmup 2)
    else
        peer_args=(--concurrency 1,4,16 --concurrent-limit 200 --warmup 10)
    fi
    node "$root/tests/peer/caption.mjs" --model "$model" --threads "$threads" --data "$shapeworld" "${peer_args[@]}" \
        > "$data/peer.json.tmp" && mv "$data/peer.json.tmp" "$data/peer.json" || { status=1; echo "peer FAILED" >&2; }

fi # parts == all

# ------------------------------------------------------------------ (d) real size
if [[ $real_size == 1 ]]; then
    log "(d) real size: $rs_preset package (seed $rs_seed), $rs_count images"
    rs_images="$work/real-size-images"
    if $py "$here/scripts/real_size.py" prepare --preset "$rs_preset" --seed "$rs_seed" --cache "$work/packages" \
        --shapeworld "$shapeworld" --images-out "$rs_images" --count "$rs_count" --out "$data/real_size_package.json"; then
        rs_model="$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["package"])' "$data/real_size_package.json")"
        if [[ $profile == quick ]]; then
            rs_ceiling_args=(--batch-sizes 1,4 --pipelined-clients 4 --runs 1 --run-seconds 0.3 --warmup-seconds 0.2)
            rs_steps_args=(--step-positions 34 --step-passes 2)
            rs_peer_args=(--concurrency 1,4 --warmup 2)
        else
            rs_ceiling_args=(--batch-sizes 1,4,8,16 --pipelined-clients 16,32,64 --runs 3 --run-seconds 10 --warmup-seconds 1)
            rs_steps_args=(--step-positions 40 --step-passes 3)
            rs_peer_args=(--concurrency 1,4 --concurrent-limit 40 --warmup 4)
        fi
        log "(d) real size: decoder step time by position, batch 16"
        "$work/ceiling/CaptionService.Benchmarks" --mode steps --model "$rs_model" --threads "$threads" \
            --out "$data/real_size_steps.json" --work "$work" --step-rows 16 "${rs_steps_args[@]}" \
            || { status=1; echo "real-size step timing FAILED" >&2; }
        log "(d) real size: engine ceiling"
        "$work/ceiling/CaptionService.Benchmarks" --model "$rs_model" --images "$rs_images" --threads "$threads" \
            --out "$data/real_size_ceiling.json" --work "$work" --tasks caption --max-tokens 16 "${rs_ceiling_args[@]}" \
            --preprocess-png 1 --preprocess-jpeg 1 || { status=1; echo "real-size ceiling FAILED" >&2; }
        log "(d) real size: service"
        $py "$here/scripts/real_size.py" service --server-cmd "$work/api/CaptionService.Api" --model "$rs_model" \
            --images "$rs_images" --threads "$threads" --port "$port" --profile "$profile" \
            --out "$data/real_size_service.json" --work "$work" || { status=1; echo "real-size service FAILED" >&2; }
        log "(d) real size: transformers.js peer"
        node "$root/tests/peer/caption.mjs" --model "$rs_model" --threads "$threads" --max-new-tokens 16 "${rs_peer_args[@]}" \
            "$rs_images/real-size" > "$data/real_size_peer.json.tmp" && mv "$data/real_size_peer.json.tmp" "$data/real_size_peer.json" \
            || { status=1; echo "real-size peer FAILED" >&2; }
    else
        status=1; echo "real-size package or images FAILED" >&2
    fi
fi

# ------------------------------------------------------------------ report
log "report"
$py -c 'import json,sys; d=json.load(open(sys.argv[1])); d["loadavg_end"]=open("/proc/loadavg").read().split()[:3]; json.dump(d,open(sys.argv[1],"w"),indent=1)' "$data/system.json"
rs_flag=()
[[ $real_size == 1 ]] && rs_flag=(--real-size)
[[ -d $previous ]] && rs_flag+=(--previous "$previous")
$py "$here/scripts/report.py" --data "$data" --out "$out" --parts "$parts" "${rs_flag[@]}" || status=1
log "done: $out/REPORT.md (exit $status)"
exit $status
