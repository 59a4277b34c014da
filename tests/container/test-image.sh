#!/usr/bin/env bash
# Container test of the CPU image (docker/Dockerfile), with podman and local base-image stand-ins.
#
#   tests/container/test-image.sh
#
# Builds captionservice:cpu with --pull=never, runs it as the deployment does (read-only root
# filesystem, writable /tmp only, all capabilities dropped, no new privileges, host network on
# 127.0.0.1), and checks: the server runs as uid 1654; the root filesystem is read-only and /tmp
# writable; the image carries no CUDA library; the probe paths of deploy/overlays/cpu answer 200;
# POST /caption captions a ShapeWorld image from tests/data; POST /score scores a caption of it; GET /model
# names the bundled package; GET /metrics exports the queue-depth HPA metric; every log line is compact JSON; the preStop command exists; SIGTERM
# stops it with exit code 0. A second run mounts a model package over the bundled one and checks
# the server loads the mounted one. Ends with the image size (at most $CAPTIONSERVICE_IMAGE_MAX_MB,
# default 300) and the time each phase took.
#
# Environment: CAPTIONSERVICE_CUDA_BUILD_STAGE=1 also builds docker/Dockerfile.cuda up to its
# build stage (the GPU publish; about 3 minutes and 600 MB of packages on a cold cache),
# CAPTIONSERVICE_PODMAN_DIR (see podman-env.sh), CAPTIONSERVICE_READY_TIMEOUT (s, default 180).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
image="localhost/captionservice:cpu"
max_mb="${CAPTIONSERVICE_IMAGE_MAX_MB:-300}"
ready_timeout="${CAPTIONSERVICE_READY_TIMEOUT:-180}"
# shellcheck source=tests/container/podman-env.sh
source "$here/podman-env.sh"

log() { printf '[container-test] %s\n' "$*"; }
timings=()
fail() {
    local t
    printf '[container-test] FAIL: %s\n' "$*" >&2
    for t in "${timings[@]}"; do printf '[container-test]   %s\n' "$t" >&2; done
    exit 1
}
phase_start=$SECONDS
phase_done() {
    timings+=("$1 $((SECONDS - phase_start)) s")
    phase_start=$SECONDS
}

work="$(mktemp -d)"
containers=()
cleanup() {
    local c
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# --- Podman, tools and inputs ----------------------------------------------------------------
cs_podman_setup # also installs curl and jq when missing
sample_set="$repo/tests/data/shapeworld/existential-oneshape"
sample_image="$sample_set/world-0.png"
[[ -f "$sample_image" ]] || fail "no ShapeWorld sample at $sample_image (the repository carries it: is the clone complete?)"
[[ -f "$repo/models/shapeworld-fusion/caption_service.json" ]] ||
    fail "models/shapeworld-fusion has no caption_service.json; the image bundles that package"
sample_text="$(head -n1 "$sample_set/worlds.jsonl" | jq -er '.captions[0]')"
# The probe paths the Kubernetes manifests use, so the test proves they exist in the real image.
probe_paths=()
kubectl="${KUBECTL:-/usr/bin/kubectl}"
[[ -x "$kubectl" ]] || kubectl="$(command -v kubectl || true)"
if [[ -n "$kubectl" ]]; then
    mapfile -t probe_paths < <("$kubectl" kustomize "$repo/deploy/overlays/cpu" |
        sed -nE 's/^ +path: (\/health\/[A-Za-z0-9_\/-]+)$/\1/p' | sort -u)
fi
((${#probe_paths[@]} > 0)) || probe_paths=(/health/live /health/ready)

# --- Base-image stand-ins --------------------------------------------------------------------
cs_build_standins
phase_done "podman set-up and base-image stand-ins:"

# --- Build -----------------------------------------------------------------------------------
log "building $image from docker/Dockerfile"
if ! podman build --pull=never --network host --layers \
    -v /etc/ssl/certs:/etc/ssl/certs:ro \
    --build-arg "NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}" \
    -f "$repo/docker/Dockerfile" -t "$image" "$repo" >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    fail "image build failed"
fi
phase_done "image build:"
# Build-stage layers older than this run are only a cache: drop them so that storage stays bounded.
podman image prune -f --filter until=30m >/dev/null
size_bytes="$(podman image inspect --format '{{.Size}}' "$image")"
size_mb=$((size_bytes / 1000000))

# The image's own settings: port 8080, JSON logs, app user.
config="$(podman image inspect --format '{{json .Config}}' "$image")"
jq -e '.Env | index("ASPNETCORE_URLS=http://+:8080")' <<<"$config" >/dev/null || fail "image does not listen on 8080 by default"
jq -e '.Env | index("CaptionService__Logging__Format=Json")' <<<"$config" >/dev/null || fail "image does not log JSON"
jq -e '.ExposedPorts | has("8080/tcp")' <<<"$config" >/dev/null || fail "image does not expose 8080"
[[ "$(jq -r '.User' <<<"$config")" == 1654 ]] || fail "image user is $(jq -r '.User' <<<"$config"), expected 1654"

# --- Run -------------------------------------------------------------------------------------
# A port nobody listens on, picked at random so that concurrent test runs rarely collide; the
# readiness wait below also proves that our container, not another process, owns it.
free_port() {
    local p attempt
    for attempt in $(seq 1 50); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    fail "no free port found"
}

# start_container NAME PORT [podman run args...]: runs the image as the Deployment runs it.
start_container() {
    local name="$1" port="$2"
    shift 2
    containers+=("$name")
    podman run -d --name "$name" --network host \
        --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,nosuid,nodev,mode=1777,size=64m \
        --cap-drop ALL --security-opt no-new-privileges \
        -e "ASPNETCORE_URLS=http://127.0.0.1:$port" \
        "$@" "$image" >/dev/null
}

# Ready means: the container runs, it logged that it listens on 127.0.0.1:PORT, and
# /health/ready answers 200 there.
wait_ready() {
    local name="$1" port="$2" deadline=$((SECONDS + ready_timeout))
    until podman logs "$name" 2>&1 | grep -q "127.0.0.1:$port" &&
        curl -fsS -o /dev/null "http://127.0.0.1:$port/health/ready" 2>/dev/null &&
        [[ "$(podman inspect --format '{{.State.Running}}' "$name")" == true ]]; do
        if [[ "$(podman inspect --format '{{.State.Running}}' "$name")" != true ]]; then
            podman logs "$name" 2>&1 | tail -n 30 >&2
            fail "$name exited before it was ready"
        fi
        if ((SECONDS > deadline)); then
            podman logs "$name" 2>&1 | tail -n 30 >&2
            fail "$name not ready within $ready_timeout s"
        fi
        sleep 0.5
    done
}

name="captionservice-test-$$"
port="$(free_port)"
log "running $image on 127.0.0.1:$port"
start_container "$name" "$port"
wait_ready "$name" "$port"
phase_done "start until /health/ready:"

# Non-root, read-only root filesystem, writable /tmp, nothing from CUDA.
uids="$(podman exec "$name" sh -c 'grep ^Uid: /proc/1/status' | awk '{print $2, $3, $4, $5}')"
[[ "$uids" == "1654 1654 1654 1654" ]] || fail "server process uids are '$uids', expected 1654"
podman exec "$name" sh -c 'touch /app/write-test' 2>/dev/null && fail "root filesystem is writable"
podman exec "$name" sh -c 'touch /home/app/write-test' 2>/dev/null && fail "home directory is writable"
podman exec "$name" sh -c 'touch /tmp/write-test && rm /tmp/write-test' || fail "/tmp is not writable"
cuda_files="$(podman exec "$name" sh -c "find / -xdev \( -name 'libcu*.so*' -o -name 'libcudnn*' -o -name 'libonnxruntime_providers_cuda*' \) -print 2>/dev/null; true")"
[[ -z "$cuda_files" ]] || fail "CPU image carries CUDA libraries: $cuda_files"
# The Deployment's preStop hook runs `sleep`; it must exist in the image.
podman exec "$name" sleep 0 || fail "the preStop command 'sleep' is missing from the image"

base="http://127.0.0.1:$port"
for path in "${probe_paths[@]}"; do
    code="$(curl -sS -o /dev/null -w '%{http_code}' "$base$path")"
    [[ "$code" == 200 ]] || fail "GET $path (a probe in deploy/) answered $code"
done

code="$(curl -sS -o "$work/model.json" -w '%{http_code}' "$base/model")"
[[ "$code" == 200 ]] || fail "GET /model answered $code: $(cat "$work/model.json")"
jq -e '.name == "shapeworld-fusion"' "$work/model.json" >/dev/null || fail "GET /model: $(cat "$work/model.json")"
jq -e '.executionProvider | ascii_downcase | test("cpu")' "$work/model.json" >/dev/null ||
    fail "GET /model reports provider $(jq -c .executionProvider "$work/model.json"), expected CPU"

code="$(curl -sS -o "$work/caption.json" -w '%{http_code}' -F "image=@$sample_image;type=image/png" "$base/caption")"
[[ "$code" == 200 ]] || fail "POST /caption answered $code: $(cat "$work/caption.json")"
# A complete answer whose caption is a non-empty string.
caption="$(jq -er '
    select((.alternatives | length) >= 1 and .confidence > 0 and .confidence <= 1 and .model.name == "shapeworld-fusion")
    | select(.caption | type == "string" and length > 0)
    | .caption' "$work/caption.json")" ||
    fail "POST /caption returned no caption: $(cat "$work/caption.json")"

code="$(curl -sS -o "$work/score.json" -w '%{http_code}' -F "image=@$sample_image;type=image/png" \
    --form-string "text=$sample_text" "$base/score")"
[[ "$code" == 200 ]] || fail "POST /score answered $code: $(cat "$work/score.json")"
score="$(jq -er --arg t "$sample_text" \
    '.scores | select(length == 1) | .[0] | select(.text == $t and .score >= 0 and .score <= 1) | .score' \
    "$work/score.json")" || fail "POST /score returned no score in [0, 1]: $(cat "$work/score.json")"
# The custom metric the queue-depth autoscaling component scales on is exported.
curl -fsS "$base/metrics" >"$work/metrics.txt" || fail "GET /metrics failed"
mapfile -t hpa_metrics < <(sed -nE 's/^ +name: (captionservice_[a-z0-9_]+)$/\1/p' \
    "$repo/deploy/components/queue-depth-autoscaling/kustomization.yaml" | sort -u)
((${#hpa_metrics[@]} > 0)) || fail "no captionservice_* metric in deploy/components/queue-depth-autoscaling"
for metric in "${hpa_metrics[@]}"; do
    grep -qE "^${metric}(\{| )" "$work/metrics.txt" || fail "GET /metrics has no $metric (used by the queue-depth HPA)"
done
phase_done "probes, /model, /caption, /score, /metrics:"

# Stop as Kubernetes does (SIGTERM, then the grace period): the server drains and exits 0.
podman stop -t 40 "$name" >/dev/null
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$name")"
[[ "$exit_code" == 0 ]] || { podman logs "$name" 2>&1 | tail -n 20 >&2; fail "exit code $exit_code after SIGTERM"; }
phase_done "SIGTERM until exit:"

# Every log line is one compact JSON (CLEF) event.
podman logs "$name" >"$work/server.log" 2>&1
[[ -s "$work/server.log" ]] || fail "the server wrote no log"
non_json="$(jq -Rr '. as $line | (try fromjson catch null) as $event
    | if ($event | type) == "object" and ($event | has("@t")) then empty else $line end' "$work/server.log")"
[[ -z "$non_json" ]] || fail "log lines that are not compact JSON: $(head -n 3 <<<"$non_json")"

# --- A model package mounted over the bundled one replaces it -------------------------------
cp -r "$repo/models/shapeworld-fusion" "$work/model"
jq '.version = "0.0.0-mounted"' "$work/model/caption_service.json" >"$work/caption_service.json"
mv "$work/caption_service.json" "$work/model/caption_service.json"
chmod -R a+rX "$work/model"
name2="captionservice-test-volume-$$"
port2="$(free_port)"
start_container "$name2" "$port2" -v "$work/model:/app/models/shapeworld-fusion:ro"
wait_ready "$name2" "$port2"
version="$(curl -fsS "http://127.0.0.1:$port2/model" | jq -r .version)"
[[ "$version" == "0.0.0-mounted" ]] || fail "mounted model package not used: /model reports version $version"
podman stop -t 40 "$name2" >/dev/null
phase_done "mounted model package run:"

# --- Optional: the CUDA image's build stage (its CUDA base image exists only where GPUs do) ----
if [[ "${CAPTIONSERVICE_CUDA_BUILD_STAGE:-0}" == 1 ]]; then
    log "building the build stage of docker/Dockerfile.cuda (ONNX Runtime GPU package)"
    if ! podman build --pull=never --network host --layers --target build \
        -v /etc/ssl/certs:/etc/ssl/certs:ro \
        --build-arg "NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}" \
        -f "$repo/docker/Dockerfile.cuda" -t localhost/captionservice-cuda-build:test "$repo" >"$work/build-cuda.log" 2>&1; then
        tail -n 40 "$work/build-cuda.log" >&2
        fail "build stage of docker/Dockerfile.cuda failed"
    fi
    podman rmi -f localhost/captionservice-cuda-build:test >/dev/null
    phase_done "CUDA image build stage:"
fi

# --- Report ----------------------------------------------------------------------------------
log "caption of $(basename "$sample_set")/world-0.png: \"$caption\"; score of \"$sample_text\": $score"
log "image $image: $size_mb MB (limit $max_mb MB)"
for t in "${timings[@]}"; do log "  $t"; done
((size_mb <= max_mb)) || fail "image is $size_mb MB, over the $max_mb MB target"
log "passed"
