#!/usr/bin/env bash
# Podman for this project, on a machine without a Docker engine or a reachable registry.
#
#   tests/container/podman-env.sh            set podman up and build the base-image stand-ins
#   source tests/container/podman-env.sh     the same functions and settings, for other scripts:
#       cs_podman_setup      install packages, write the podman configuration, export it
#       cs_build_standins    build mcr.microsoft.com/dotnet/{sdk,aspnet}:10.0 stand-ins (cached)
#
# Settings (all podman state stays under one project-owned directory):
#   - runtime runc (crun fails on this machine's cgroup v1 layout), cgroupfs, file event log;
#   - default ulimits nofile=1024:1024 and nproc=1024:1024;
#   - host networking only: containers and builds use --network host and talk over 127.0.0.1;
#     podman's default bridge (10.88.0.0/16) is never created or used;
#   - storage, run state, volumes and temporary files under $CAPTIONSERVICE_PODMAN_DIR
#     (default /tmp/captionservice-podman).
#
# Stand-ins: the real base images cannot be pulled here, so images under the same names are
# built from a `debootstrap --variant=minbase bookworm` rootfs plus the host's .NET in
# /usr/share/dotnet. An image of that name that is not a stand-in (a real pull) is left alone.
# A stand-in is rebuilt only when its recipe or the host's .NET version changes.

CS_PODMAN_DIR="${CAPTIONSERVICE_PODMAN_DIR:-/tmp/captionservice-podman}"
CS_PODMAN_DRIVER="${CAPTIONSERVICE_PODMAN_DRIVER:-overlay}"
CS_DEBIAN_MIRROR="${CAPTIONSERVICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CS_DOTNET_ROOT="${CAPTIONSERVICE_HOST_DOTNET:-/usr/share/dotnet}"
CS_STANDIN_RECIPE=3 # bump when the stand-in recipe below changes
CS_BASE_IMAGE=localhost/captionservice-standin/debian:bookworm-minbase
CS_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
CS_ASPNET_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

cs_log() { printf '[podman-env] %s\n' "$*" >&2; }

# Installs the Debian packages given as arguments that are missing (one apt-get update at most).
cs_apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    cs_log "installing ${missing[*]}"
    if [[ -z "${CS_APT_UPDATED:-}" ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        CS_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

cs_podman_setup() {
    if [[ $(id -u) -ne 0 ]]; then
        cs_log "must run as root (podman with runc and debootstrap need it)"
        return 1
    fi
    cs_apt_ensure podman runc conmon debootstrap ca-certificates curl jq
    mkdir -p "$CS_PODMAN_DIR"/{storage,run,tmp,volumes,networks,libpod,standins}
    cat >"$CS_PODMAN_DIR/containers.conf.new" <<EOF
# Written by tests/container/podman-env.sh; rewritten on every run.
[containers]
netns = "host"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$CS_PODMAN_DIR/events.log"
tmp_dir = "$CS_PODMAN_DIR/libpod"
volume_path = "$CS_PODMAN_DIR/volumes"
image_copy_tmp_dir = "$CS_PODMAN_DIR/tmp"

[network]
network_config_dir = "$CS_PODMAN_DIR/networks"
EOF
    cat >"$CS_PODMAN_DIR/storage.conf.new" <<EOF
# Written by tests/container/podman-env.sh; rewritten on every run.
[storage]
driver = "$CS_PODMAN_DRIVER"
graphroot = "$CS_PODMAN_DIR/storage"
runroot = "$CS_PODMAN_DIR/run"
EOF
    mv -f "$CS_PODMAN_DIR/containers.conf.new" "$CS_PODMAN_DIR/containers.conf"
    mv -f "$CS_PODMAN_DIR/storage.conf.new" "$CS_PODMAN_DIR/storage.conf"
    export CONTAINERS_CONF="$CS_PODMAN_DIR/containers.conf"
    export CONTAINERS_STORAGE_CONF="$CS_PODMAN_DIR/storage.conf"
    export TMPDIR="$CS_PODMAN_DIR/tmp"
    local runtime
    runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}')
    [[ "$runtime" == runc ]] || { cs_log "podman runtime is $runtime, expected runc"; return 1; }
}

# The label value that identifies the current stand-in recipe for an image.
cs_standin_id() {
    local dotnet_version
    dotnet_version=$(ls "$CS_DOTNET_ROOT/shared/Microsoft.AspNetCore.App" | sort -V | tail -n1)
    printf 'recipe-%s-dotnet-%s-sdk-%s' "$CS_STANDIN_RECIPE" "$dotnet_version" \
        "$(ls "$CS_DOTNET_ROOT/sdk" | sort -V | tail -n1)"
}

# 0 when $1 exists and is either a real image or a stand-in of the current recipe.
cs_image_current() {
    local label
    podman image exists "$1" || return 1
    label=$(podman image inspect --format '{{index .Labels "org.captionservice.standin"}}' "$1")
    [[ "$label" == "<no value>" || -z "$label" || "$label" == "$(cs_standin_id)" ]]
}

cs_build_base() {
    local rootfs="$CS_PODMAN_DIR/standins/rootfs" tarball="$CS_PODMAN_DIR/standins/bookworm-minbase.tar"
    if [[ ! -s "$tarball" ]]; then
        cs_log "debootstrap bookworm (minbase) from $CS_DEBIAN_MIRROR"
        rm -rf "$rootfs"
        debootstrap --variant=minbase --include=ca-certificates,libssl3,libicu72 \
            bookworm "$rootfs" "$CS_DEBIAN_MIRROR" >"$CS_PODMAN_DIR/standins/debootstrap.log" 2>&1 ||
            { tail -n 20 "$CS_PODMAN_DIR/standins/debootstrap.log" >&2; return 1; }
        # What slim Debian images leave out: package caches and lists, docs, man pages, locales.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
            "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
            "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
        tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
        mv "$tarball.partial" "$tarball"
        rm -rf "$rootfs"
    fi
    if ! podman image exists "$CS_BASE_IMAGE"; then
        cs_log "importing $CS_BASE_IMAGE"
        podman import -q --change 'CMD ["bash"]' "$tarball" "$CS_BASE_IMAGE" >/dev/null
    fi
}

# cs_build_standin IMAGE CONTAINERFILE_TEXT
cs_build_standin() {
    local image="$1" containerfile="$2" ctx="$CS_PODMAN_DIR/standins/context"
    mkdir -p "$ctx"
    printf '%s\n' "$containerfile" >"$ctx/Containerfile"
    cs_log "building stand-in $image"
    podman build -q --pull=never --network host --layers=false \
        -v "$CS_DOTNET_ROOT:/mnt/host-dotnet:ro" \
        --build-arg "BASE=$CS_BASE_IMAGE" \
        --label "org.captionservice.standin=$(cs_standin_id)" \
        -f "$ctx/Containerfile" -t "$image" "$ctx" >/dev/null
}

cs_build_standins() {
    exec 9>"$CS_PODMAN_DIR/standins.lock"
    flock 9
    if cs_image_current "$CS_SDK_IMAGE" && cs_image_current "$CS_ASPNET_IMAGE"; then
        flock -u 9
        return 0
    fi
    [[ -x "$CS_DOTNET_ROOT/dotnet" ]] || { cs_log "no .NET at $CS_DOTNET_ROOT"; return 1; }
    cs_build_base
    local dotnet_version
    dotnet_version=$(ls "$CS_DOTNET_ROOT/shared/Microsoft.AspNetCore.App" | sort -V | tail -n1)

    # Like the real aspnet image: the runtime under /usr/share/dotnet, the app user (uid 1654)
    # and the environment the real image sets.
    cs_image_current "$CS_ASPNET_IMAGE" || cs_build_standin "$CS_ASPNET_IMAGE" "ARG BASE
FROM \$BASE
ENV APP_UID=1654 \\
    ASPNETCORE_HTTP_PORTS=8080 \\
    DOTNET_RUNNING_IN_CONTAINER=true \\
    DOTNET_VERSION=$dotnet_version \\
    ASPNET_VERSION=$dotnet_version
RUN mkdir -p /usr/share/dotnet/shared \\
 && cp -a /mnt/host-dotnet/dotnet /mnt/host-dotnet/host /mnt/host-dotnet/LICENSE.txt \\
          /mnt/host-dotnet/ThirdPartyNotices.txt /usr/share/dotnet/ \\
 && cp -a /mnt/host-dotnet/shared/Microsoft.NETCore.App /mnt/host-dotnet/shared/Microsoft.AspNetCore.App \\
          /usr/share/dotnet/shared/ \\
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \\
 && groupadd --gid=\$APP_UID app \\
 && useradd --no-log-init --uid=\$APP_UID --gid=\$APP_UID --create-home app"

    # Like the real SDK image: the whole SDK under /usr/share/dotnet.
    cs_image_current "$CS_SDK_IMAGE" || cs_build_standin "$CS_SDK_IMAGE" "ARG BASE
FROM \$BASE
ENV APP_UID=1654 \\
    ASPNETCORE_HTTP_PORTS=8080 \\
    DOTNET_RUNNING_IN_CONTAINER=true \\
    DOTNET_VERSION=$dotnet_version \\
    ASPNET_VERSION=$dotnet_version \\
    DOTNET_GENERATE_ASPNET_CERTIFICATE=false \\
    DOTNET_USE_POLLING_FILE_WATCHER=true \\
    NUGET_XMLDOC_MODE=skip \\
    DOTNET_NOLOGO=1 \\
    DOTNET_CLI_TELEMETRY_OPTOUT=1
RUN cp -a /mnt/host-dotnet /usr/share/dotnet \\
 && ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet \\
 && groupadd --gid=\$APP_UID app \\
 && useradd --no-log-init --uid=\$APP_UID --gid=\$APP_UID --create-home app"
    flock -u 9
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    start=$SECONDS
    cs_podman_setup
    cs_build_standins
    cs_log "podman ready under $CS_PODMAN_DIR; stand-ins current ($((SECONDS - start)) s)"
fi
