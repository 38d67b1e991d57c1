#!/usr/bin/env bash
# shellcheck disable=SC2317  # check functions are called indirectly (wait_until, await_component)
# platform.sh - a real single-node platform for PaaSTA's integration tests, built only from
# Debian packages: Docker engine, a Docker registry, etcd, and Kubernetes v1.20.2 compiled
# from Debian's `kubernetes` source package.
#
#   bash tools/platform/platform.sh up            start everything (installs/builds what is missing)
#   bash tools/platform/platform.sh status        per component state; exit 0 all up, 3 otherwise
#   bash tools/platform/platform.sh down [--purge] stop everything it started (--purge: drop state)
#   bash tools/platform/platform.sh stop-apiserver | start-apiserver
#                                                 take the kube-apiserver away / bring it back (outage tests)
#
# Runs as root on Debian/Ubuntu. Anywhere else, point $KUBECONFIG at an existing cluster.
# State (PKI, kubeconfig, etcd data, registry storage, logs, pid files) lives in <repo>/.platform/;
# compiled Kubernetes binaries are cached machine-wide in /var/cache/paasta-platform/.
set -Eeuo pipefail
set +m  # no job control: background children must stay out of their own process groups (see launch)

readonly KUBE_VERSION=1.20.2
readonly CACHE_ROOT=/var/cache/paasta-platform
readonly KUBE_CACHE=$CACHE_ROOT/kubernetes-$KUBE_VERSION
readonly KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
readonly SCRIPT_DIR REPO_ROOT
readonly STATE=${PAASTA_PLATFORM_STATE:-$REPO_ROOT/.platform}
readonly RUN=$STATE/run LOGS=$STATE/logs PKI=$STATE/pki CONF=$STATE/conf BIN=$STATE/bin
readonly KUBECONFIG_FILE=$STATE/kubeconfig
readonly ADMIN_KUBECONFIG=$CONF/admin.kubeconfig
readonly KUBELET_KUBECONFIG=$CONF/kubelet.kubeconfig

readonly NODE_NAME=paasta-local
readonly CONTEXT_NAME=paasta-local
readonly API_URL=https://127.0.0.1:6443
readonly REGISTRY_ADDR=127.0.0.1:5000
readonly BASE_IMAGE=paasta-local/busybox:latest
readonly PAUSE_IMAGE=paasta-local/pause:latest
readonly RUNTIME_WRAPPER_NAME=paasta-runc
readonly HOSTS_MARK="# paasta-platform"

# Always talk to the local engine, whatever the caller's docker context says.
export DOCKER_HOST=unix:///var/run/docker.sock
export DOCKER_BUILDKIT=0
export DEBIAN_FRONTEND=noninteractive
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------

say() { printf '[platform %4ds] %s\n' "$SECONDS" "$*"; }
die() { # message [exit code]
    printf 'platform: %s\n' "$1" >&2
    exit "${2:-1}"
}

# Poll a command until it succeeds or the timeout (seconds) passes.
wait_until() { # timeout command...
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

port_listening() { [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]; }

refuse_unsupported() {
    local hint="Use an existing Kubernetes cluster instead: set \$env:KUBECONFIG (or \$KUBECONFIG) to its kubeconfig."
    [[ $(uname -s) == Linux ]] || die "the local platform runs on Linux only. $hint" 2
    [[ $(id -u) == 0 ]] || die "the local platform must run as root (it starts dockerd and the kubelet). $hint" 2
    command -v apt-get >/dev/null || die "the local platform needs a Debian-based system (apt-get not found). $hint" 2
}

# ---------------------------------------------------------------------------------------------
# Processes: pid files in $RUN, logs in $LOGS, never matched by name.
# ---------------------------------------------------------------------------------------------

# Print the pid of a component we started if it is still that process, else fail.
# The executable's name is compared so a recycled pid is not mistaken for ours.
component_pid() { # name binary
    local pidfile=$RUN/$1.pid pid exe
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" || return 1
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
    exe=${exe% (deleted)}
    [[ ${exe##*/} == "${2##*/}" ]] || return 1
    echo "$pid"
}

# True while the process exists and is not a zombie: a component started by an earlier run
# is reparented to pid 1, and a lazy init may leave it unreaped for a while after it exits.
pid_alive() { # pid
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

rotate_log() { # file
    local size
    size=$(stat -c %s "$1" 2>/dev/null || echo 0)
    ((size < 50 * 1024 * 1024)) || mv -f "$1" "$1.1"
}

# Start a long-running component detached from this shell (own session, no inherited lock fd),
# so it survives the caller (build.ps1, CI step) and cannot keep our lock open.
launch() { # name binary args...
    local name=$1 log=$LOGS/$1.log; shift
    rotate_log "$log"
    printf -- '---- %s platform.sh starting %s\n' "$(date -Is)" "$*" >>"$log"
    setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/$name.pid"
}

fail_component() { # name reason
    local log=$LOGS/$1.log
    {
        echo "platform: $1 failed: $2"
        echo "---- last 30 lines of $log ----"
        tail -n 30 "$log" 2>/dev/null || true
        echo "----"
    } >&2
    exit 1
}

# Wait for a freshly launched component: fail fast if it dies, fail after the timeout.
await_component() { # name binary timeout check-command...
    local name=$1 binary=$2 timeout=$3
    local deadline=$((SECONDS + timeout))
    shift 3
    until "$@" >/dev/null 2>&1; do
        component_pid "$name" "$binary" >/dev/null || fail_component "$name" "process exited during start-up"
        ((SECONDS < deadline)) || fail_component "$name" "not ready after $timeout s"
        sleep 0.5
    done
}

stop_component() { # name binary
    local name=$1 pid i
    if pid=$(component_pid "$name" "$2"); then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 120; i++)); do
            pid_alive "$pid" || break
            sleep 0.25
        done
        if pid_alive "$pid"; then
            say "$name did not stop within 30 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do
                pid_alive "$pid" || break
                sleep 0.25
            done
        fi
    fi
    rm -f "$RUN/$name.pid"
}

# ---------------------------------------------------------------------------------------------
# Debian packages
# ---------------------------------------------------------------------------------------------

package_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

# Run apt-get without letting package maintainer scripts start services (docker, etcd,
# registry, haproxy): this script starts exactly what it needs, with its own configuration.
apt_get() {
    local own_policy=
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        own_policy=1
    fi
    local rc=0
    apt-get -o DPkg::Lock::Timeout=600 -q "$@" >>"$LOGS/apt.log" 2>&1 || rc=$?
    [[ -z $own_policy ]] || rm -f /usr/sbin/policy-rc.d
    if ((rc != 0)); then
        tail -n 30 "$LOGS/apt.log" >&2
        die "apt-get $* failed (full log: $LOGS/apt.log)"
    fi
}

# Runtime needs always; build tools only while the Kubernetes binaries are not cached yet.
# (haproxy is not run here: the SmartStack side of the tests drives it.)
readonly RUNTIME_PACKAGES=(docker.io runc etcd-server docker-registry haproxy jq openssl busybox-static curl iproute2 util-linux)
readonly BUILD_PACKAGES=(golang-go rsync make dpkg-dev)

ensure_packages() {
    local wanted=("${RUNTIME_PACKAGES[@]}") missing=() p
    kube_cache_complete || wanted+=("${BUILD_PACKAGES[@]}")
    for p in "${wanted[@]}"; do package_installed "$p" || missing+=("$p"); done
    ((${#missing[@]} > 0)) || return 0
    say "installing Debian packages: ${missing[*]}"
    apt_get update
    apt_get install -y --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# Kubernetes binaries: built once from Debian's source package, cached per version.
# ---------------------------------------------------------------------------------------------

kube_cache_complete() {
    local b
    for b in "${KUBE_BINARIES[@]}"; do [[ -x $KUBE_CACHE/bin/$b ]] || return 1; done
}

# apt-get source needs a deb-src entry; derive it from the machine's own deb entries and
# remove it again afterwards so later `apt-get update`s stay as fast as before.
with_deb_src() { # command...
    local sources=/etc/apt/sources.list.d/paasta-platform-src.sources list=/etc/apt/sources.list.d/paasta-platform-src.list
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$sources"
    elif [[ -f /etc/apt/sources.list ]]; then
        sed -n 's/^deb \(.*\)$/deb-src \1/p' /etc/apt/sources.list >"$list"
    fi
    local rc=0
    "$@" || rc=$?
    rm -f "$sources" "$list"
    return $rc
}

fetch_kubernetes_source() { # workdir
    apt_get update
    (cd "$1" && apt-get -q source --download-only kubernetes) >>"$LOGS/build-kubernetes.log" 2>&1
}

build_kubernetes() {
    if kube_cache_complete; then return 0; fi
    mkdir -p "$CACHE_ROOT/build"
    # One build at a time per machine, whatever checkout asks for it.
    exec 8>"$CACHE_ROOT/build.lock"
    flock -w 3600 8 || die "another Kubernetes build holds $CACHE_ROOT/build.lock"
    if kube_cache_complete; then exec 8>&-; return 0; fi

    local started=$SECONDS log=$LOGS/build-kubernetes.log
    say "building Kubernetes $KUBE_VERSION from Debian's source package (one-off, ~8-10 min on 2 cores; log: $log)"
    : >"$log"
    # Leftovers of an interrupted build are never reused.
    rm -rf "$CACHE_ROOT/build/"* "$KUBE_CACHE.tmp."*
    local work
    work=$(mktemp -d "$CACHE_ROOT/build/kubernetes-$KUBE_VERSION.XXXXXX")

    with_deb_src fetch_kubernetes_source "$work" || {
        tail -n 30 "$log" >&2
        die "could not download the kubernetes source package"
    }
    local dsc
    dsc=$(ls "$work"/kubernetes_*.dsc)
    local deb_version
    deb_version=$(sed -n 's/^Version: //p' "$dsc")
    # Debian versions it 1.20.5+really1.20.2-...; refuse silently building something else.
    [[ $deb_version == *"really$KUBE_VERSION"* || $deb_version == "$KUBE_VERSION"-* ]] ||
        die "Debian's kubernetes source is $deb_version, not $KUBE_VERSION; update KUBE_VERSION in $0"
    say "source package kubernetes $deb_version downloaded; compiling"

    local src=$work/src
    dpkg-source -x "$dsc" "$src" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; die "dpkg-source -x failed"; }

    # The same way debian/rules builds it: GOPATH with k8s.io/kubernetes pointing at the tree,
    # no cgo. Go caches stay inside the throw-away work dir; no network (GOPROXY=off).
    mkdir -p "$src/.go/src/k8s.io" "$work/home"
    ln -s ../../.. "$src/.go/src/k8s.io/kubernetes"
    local what=""
    local b
    for b in "${KUBE_BINARIES[@]}"; do what+="cmd/$b "; done
    if ! (cd "$src" && env GOPATH="$src/.go" HOME="$work/home" GOCACHE="$work/gocache" \
        GOPROXY=off GOFLAGS= CGO_ENABLED=0 PATH="/usr/lib/go/bin:$PATH" \
        make WHAT="${what% }") >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "Kubernetes build failed (full log: $log; work dir $work is removed by the next run)"
    fi

    # Publish atomically: a complete bin/ appears under the final name or nothing does.
    local stage=$KUBE_CACHE.tmp.$$
    mkdir -p "$stage/bin"
    for b in "${KUBE_BINARIES[@]}"; do install -m 755 "$src/_output/bin/$b" "$stage/bin/$b"; done
    "$stage/bin/kube-apiserver" --version | grep -q "v$KUBE_VERSION" ||
        die "built kube-apiserver does not report v$KUBE_VERSION"
    {
        echo "source-package: kubernetes $deb_version"
        echo "go: $(go version)"
        echo "built: $(date -Is)"
    } >"$stage/BUILD-INFO"
    rm -rf "$KUBE_CACHE"
    mv -T "$stage" "$KUBE_CACHE"
    rm -rf "$work"
    exec 8>&-
    say "Kubernetes built and cached in $KUBE_CACHE/bin ($((SECONDS - started)) s)"
}

# ---------------------------------------------------------------------------------------------
# PKI, tokens and kubeconfigs (made once, kept across `down` unless --purge)
# ---------------------------------------------------------------------------------------------

openssl_sign() { # name subject extensions-text
    local name=$1 subj=$2 ext=$PKI/$1.ext
    printf '%s\n' "$3" >"$ext"
    openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
    openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
        -days 3650 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
    rm -f "$PKI/$name.csr" "$ext"
}

ensure_pki() {
    mkdir -p "$PKI"
    chmod 700 "$PKI"
    if [[ ! -s $PKI/ca.crt ]]; then
        say "creating the cluster CA and certificates in $PKI"
        rm -f "$PKI"/*.crt "$PKI"/*.key
        local cnf=$PKI/ca.cnf
        # Own config so the result does not depend on the system's openssl.cnf defaults.
        cat >"$cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = ca_ext
prompt = no
[dn]
CN = paasta-local-ca
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
EOF
        openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
        openssl req -x509 -new -key "$PKI/ca.key" -config "$cnf" -days 3650 -sha256 -out "$PKI/ca.crt"
        rm -f "$cnf"
    fi
    if [[ ! -s $PKI/apiserver.crt ]]; then
        openssl_sign apiserver /CN=kube-apiserver "$(printf '%s\n' \
            'basicConstraints = CA:FALSE' \
            'keyUsage = critical, digitalSignature, keyEncipherment' \
            'extendedKeyUsage = serverAuth' \
            'subjectAltName = IP:127.0.0.1, IP:10.0.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local')"
    fi
    if [[ ! -s $PKI/apiserver-kubelet-client.crt ]]; then
        # The API server's identity towards the kubelet (logs, exec, port-forward).
        openssl_sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$(printf '%s\n' \
            'basicConstraints = CA:FALSE' \
            'keyUsage = critical, digitalSignature, keyEncipherment' \
            'extendedKeyUsage = clientAuth')"
    fi
    if [[ ! -s $PKI/sa.key ]]; then
        openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
        openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
    fi
    if [[ ! -s $PKI/tokens.csv ]]; then
        # token,user,uid,"groups": an admin and the kubelet's node identity (Node authorizer).
        printf '%s,paasta-admin,paasta-admin,"system:masters"\n%s,system:node:%s,system:node:%s,"system:nodes"\n' \
            "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" "$NODE_NAME" "$NODE_NAME" >"$PKI/tokens.csv"
    fi
    chmod 600 "$PKI"/*.key "$PKI/tokens.csv"
}

token_of() { # user
    awk -F, -v u="$1" '$2 == u { print $1 }' "$PKI/tokens.csv"
}

write_kubeconfig() { # file user token
    local ca
    ca=$(base64 -w0 <"$PKI/ca.crt")
    cat >"$1.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT_NAME
  cluster:
    server: $API_URL
    certificate-authority-data: $ca
users:
- name: $2
  user:
    token: $3
contexts:
- name: $CONTEXT_NAME
  context:
    cluster: $CONTEXT_NAME
    user: $2
    namespace: default
current-context: $CONTEXT_NAME
EOF
    chmod 600 "$1.tmp"
    mv -f "$1.tmp" "$1"
}

ensure_kubeconfigs() {
    mkdir -p "$CONF"
    write_kubeconfig "$ADMIN_KUBECONFIG" paasta-admin "$(token_of paasta-admin)"
    write_kubeconfig "$KUBELET_KUBECONFIG" "system:node:$NODE_NAME" "$(token_of "system:node:$NODE_NAME")"
    cp -f "$ADMIN_KUBECONFIG" "$KUBECONFIG_FILE.tmp" && mv -f "$KUBECONFIG_FILE.tmp" "$KUBECONFIG_FILE"
    # A kubectl matching the server version, for humans and tests.
    mkdir -p "$BIN"
    ln -sfn "$KUBE_CACHE/bin/kubectl" "$BIN/kubectl"
}

kubectl_admin() { "$KUBE_CACHE/bin/kubectl" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# The API server reaches the kubelet (logs, exec) by the node's Hostname address; the kubelet
# listens on loopback only, so the fixed node name must resolve to 127.0.0.1.
ensure_hosts_entry() {
    if ! awk -v n="$NODE_NAME" '$1 == "127.0.0.1" { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == n) found = 1 }
        END { exit !found }' /etc/hosts 2>/dev/null; then
        printf '127.0.0.1 %s %s\n' "$NODE_NAME" "$HOSTS_MARK" >>/etc/hosts ||
            say "warning: could not add $NODE_NAME to /etc/hosts; kubectl logs/exec will not work"
    fi
}

remove_hosts_entry() {
    if grep -q "$HOSTS_MARK\$" /etc/hosts 2>/dev/null; then
        # Rewrite in place (not mv): /etc/hosts is often a bind mount.
        local kept
        kept=$(grep -v "$HOSTS_MARK\$" /etc/hosts)
        printf '%s\n' "$kept" >/etc/hosts
    fi
}

# ---------------------------------------------------------------------------------------------
# Docker engine, local images, OCI runtime workaround
# ---------------------------------------------------------------------------------------------

docker_answers() { docker info >/dev/null 2>&1; }

docker_runtime_choice() { cat "$STATE/docker-runtime" 2>/dev/null || true; }

start_dockerd() {
    local args=(--host=unix:///var/run/docker.sock)
    if [[ $(docker_runtime_choice) == "$RUNTIME_WRAPPER_NAME" ]]; then
        install -m 755 "$SCRIPT_DIR/paasta-runc" "$BIN/paasta-runc"
        args+=(--add-runtime "$RUNTIME_WRAPPER_NAME=$BIN/paasta-runc" --default-runtime "$RUNTIME_WRAPPER_NAME")
    fi
    say "starting dockerd ${args[*]:1}"
    launch dockerd /usr/sbin/dockerd "${args[@]}"
    await_component dockerd /usr/sbin/dockerd 60 docker_answers
}

ensure_dockerd() {
    if component_pid dockerd /usr/sbin/dockerd >/dev/null; then
        wait_until 30 docker_answers || fail_component dockerd "running but not answering"
        say "dockerd already running (pid $(component_pid dockerd /usr/sbin/dockerd))"
    elif docker_answers; then
        # Someone else's engine (e.g. a developer machine): use it, never stop it.
        rm -f "$RUN/dockerd.pid"
        say "using the Docker engine already running on $DOCKER_HOST (not managed here)"
    else
        # A stale socket/pid file from an engine that died would stop dockerd from starting.
        rm -f /var/run/docker.sock /var/run/docker.pid
        start_dockerd
    fi
}

# Build an image from tools/platform/images/<dir> unless one with the same inputs exists.
build_local_image() { # tag dir [extra file to add to the context]
    local tag=$1 dir=$SCRIPT_DIR/images/$2 extra=${3:-} hash ctx current
    hash=$( (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum
        [[ -z $extra ]] || sha256sum <"$extra"
        [[ $2 == busybox ]] || docker image inspect -f '{{.Id}}' "$BASE_IMAGE") | sha256sum | cut -c1-16)
    current=$(docker image inspect -f '{{index .Config.Labels "paasta.platform.inputs"}}' "$tag" 2>/dev/null || true)
    [[ $current != "$hash" ]] || return 0
    say "building image $tag"
    ctx=$(mktemp -d)
    cp -a "$dir/." "$ctx/"
    [[ -z $extra ]] || cp "$extra" "$ctx/"
    if ! docker build --label "paasta.platform.inputs=$hash" -t "$tag" "$ctx" >>"$LOGS/images.log" 2>&1; then
        rm -rf "$ctx"
        tail -n 30 "$LOGS/images.log" >&2
        die "docker build of $tag failed (log: $LOGS/images.log)"
    fi
    rm -rf "$ctx"
}

ensure_local_images() {
    if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
        die "/bin/busybox is missing or not static (package busybox-static)"
    fi
    build_local_image "$BASE_IMAGE" busybox /bin/busybox
    build_local_image "$PAUSE_IMAGE" pause
}

# Some VMs refuse a negative oom_score_adj, which the kubelet sets on every pod sandbox.
# Probe once; only where it fails, restart our dockerd with the clamping runtime wrapper.
ensure_oom_score_adj_works() {
    [[ -z $(docker_runtime_choice) ]] || return 0
    docker run --rm "$BASE_IMAGE" true >>"$LOGS/images.log" 2>&1 ||
        die "cannot run a container from $BASE_IMAGE (see $LOGS/images.log and $LOGS/dockerd.log)"
    if docker run --rm --oom-score-adj=-998 "$BASE_IMAGE" true >>"$LOGS/images.log" 2>&1; then
        echo runc >"$STATE/docker-runtime"
        return 0
    fi
    component_pid dockerd /usr/sbin/dockerd >/dev/null ||
        die "this machine refuses negative oom_score_adj and the running Docker engine is not ours to reconfigure; start it with the runtime wrapper $SCRIPT_DIR/paasta-runc"
    say "this machine refuses negative oom_score_adj: registering the $RUNTIME_WRAPPER_NAME runtime wrapper"
    echo "$RUNTIME_WRAPPER_NAME" >"$STATE/docker-runtime"
    stop_component dockerd /usr/sbin/dockerd
    start_dockerd
    docker run --rm --oom-score-adj=-998 "$BASE_IMAGE" true >>"$LOGS/images.log" 2>&1 || {
        rm -f "$STATE/docker-runtime"
        die "containers with a negative oom_score_adj still fail with the $RUNTIME_WRAPPER_NAME wrapper (see $LOGS/images.log)"
    }
}

# ---------------------------------------------------------------------------------------------
# Registry, etcd, control plane, kubelet
# ---------------------------------------------------------------------------------------------

registry_answers() { curl -fsS "http://$REGISTRY_ADDR/v2/" >/dev/null; }

ensure_registry() {
    if component_pid registry /usr/bin/docker-registry >/dev/null; then
        say "registry already running"; return 0
    fi
    port_listening 5000 && die "port 5000 is taken by a process this script did not start; free it first"
    mkdir -p "$STATE/registry" "$CONF"
    cat >"$CONF/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
    say "starting registry on $REGISTRY_ADDR"
    launch registry /usr/bin/docker-registry serve "$CONF/registry.yml"
    await_component registry /usr/bin/docker-registry 30 registry_answers
}

etcd_answers() { curl -fsS http://127.0.0.1:2379/health | grep -q '"health":"true"'; }

ensure_etcd() {
    if component_pid etcd /usr/bin/etcd >/dev/null; then
        say "etcd already running"; return 0
    fi
    port_listening 2379 && die "port 2379 is taken by a process this script did not start; free it first"
    mkdir -p "$STATE/etcd"
    chmod 700 "$STATE/etcd"
    say "starting etcd on 127.0.0.1:2379"
    launch etcd /usr/bin/etcd --name paasta-local --data-dir "$STATE/etcd" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster paasta-local=http://127.0.0.1:2380
    await_component etcd /usr/bin/etcd 60 etcd_answers
}

apiserver_ready() {
    curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(token_of paasta-admin)" "$API_URL/readyz" | grep -qx ok
}

ensure_apiserver() {
    local bin=$KUBE_CACHE/bin/kube-apiserver
    if component_pid kube-apiserver "$bin" >/dev/null; then
        say "kube-apiserver already running"; return 0
    fi
    port_listening 6443 && die "port 6443 is taken by a process this script did not start; free it first"
    say "starting kube-apiserver on $API_URL"
    launch kube-apiserver "$bin" \
        --bind-address=127.0.0.1 --secure-port=6443 --insecure-port=0 \
        --etcd-servers=http://127.0.0.1:2379 \
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
        --client-ca-file="$PKI/ca.crt" \
        --token-auth-file="$PKI/tokens.csv" \
        --authorization-mode=Node,RBAC \
        --service-account-key-file="$PKI/sa.pub" \
        --service-account-signing-key-file="$PKI/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc \
        --service-cluster-ip-range=10.0.0.0/24 \
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
        --kubelet-preferred-address-types=Hostname,InternalIP,ExternalIP \
        --endpoint-reconciler-type=none \
        --allow-privileged=true
    # (--endpoint-reconciler-type=none: a loopback address may not be published as the
    #  `kubernetes` Service endpoint, and nothing in-cluster could reach it anyway.)
    await_component kube-apiserver "$bin" 90 apiserver_ready
}

ensure_controller_manager() {
    local bin=$KUBE_CACHE/bin/kube-controller-manager
    if component_pid kube-controller-manager "$bin" >/dev/null; then
        say "kube-controller-manager already running"; return 0
    fi
    say "starting kube-controller-manager"
    launch kube-controller-manager "$bin" \
        --kubeconfig="$ADMIN_KUBECONFIG" \
        --authentication-kubeconfig="$ADMIN_KUBECONFIG" --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
        --authentication-skip-lookup=true \
        --leader-elect=false --bind-address=127.0.0.1 --port=0 \
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
        --service-cluster-ip-range=10.0.0.0/24
    await_component kube-controller-manager "$bin" 60 port_listening 10257
}

ensure_scheduler() {
    local bin=$KUBE_CACHE/bin/kube-scheduler
    if component_pid kube-scheduler "$bin" >/dev/null; then
        say "kube-scheduler already running"; return 0
    fi
    say "starting kube-scheduler"
    launch kube-scheduler "$bin" \
        --kubeconfig="$ADMIN_KUBECONFIG" \
        --authentication-kubeconfig="$ADMIN_KUBECONFIG" --authorization-kubeconfig="$ADMIN_KUBECONFIG" \
        --authentication-skip-lookup=true \
        --leader-elect=false --bind-address=127.0.0.1 --port=0
    await_component kube-scheduler "$bin" 60 port_listening 10259
}

kubelet_healthy() { curl -fsS http://127.0.0.1:10248/healthz | grep -qx ok; }

ensure_kubelet() {
    local bin=$KUBE_CACHE/bin/kubelet
    if component_pid kubelet "$bin" >/dev/null; then
        say "kubelet already running"; return 0
    fi
    port_listening 10250 && die "port 10250 is taken by a process this script did not start; free it first"
    mkdir -p "$STATE/kubelet"
    # Settings for a throw-away single node on a small VM: no QoS cgroups or allocatable
    # enforcement, swap tolerated, eviction and image GC only when the disk is really full.
    cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $PKI/ca.crt
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
evictionHard:
  memory.available: "50Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 99
imageGCLowThresholdPercent: 98
serializeImagePulls: false
EOF
    say "starting kubelet (node $NODE_NAME)"
    launch kubelet "$bin" \
        --config="$CONF/kubelet.yaml" \
        --kubeconfig="$KUBELET_KUBECONFIG" \
        --root-dir="$STATE/kubelet" \
        --hostname-override="$NODE_NAME" \
        --container-runtime=docker \
        --pod-infra-container-image="$PAUSE_IMAGE"
    await_component kubelet "$bin" 60 kubelet_healthy
}

node_ready() {
    [[ $(kubectl_admin get node "$NODE_NAME" \
        -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# Pods are rejected until the default ServiceAccount has its token; wait so tests can start at once.
default_service_account_ready() {
    [[ -n $(kubectl_admin get serviceaccount default -n default -o 'jsonpath={.secrets[0].name}' 2>/dev/null) ]]
}

# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------

take_lock() {
    mkdir -p "$RUN" "$LOGS"
    exec 9>"$RUN/platform.lock"
    flock -w 1800 9 || die "another platform.sh up/down is running"
}

cmd_up() {
    take_lock
    ensure_packages
    build_kubernetes
    ensure_pki
    ensure_kubeconfigs
    ensure_hosts_entry
    mkdir -p "$BIN"
    ensure_dockerd
    ensure_local_images
    ensure_oom_score_adj_works
    ensure_registry
    ensure_etcd
    ensure_apiserver
    ensure_controller_manager
    ensure_scheduler
    ensure_kubelet
    say "waiting for node $NODE_NAME to be Ready"
    local deadline=$((SECONDS + 120))
    until node_ready; do
        component_pid kubelet "$KUBE_CACHE/bin/kubelet" >/dev/null || fail_component kubelet "exited while registering the node"
        ((SECONDS < deadline)) || fail_component kubelet "node $NODE_NAME not Ready after 120 s"
        sleep 1
    done
    wait_until 60 default_service_account_ready ||
        fail_component kube-controller-manager "no token for ServiceAccount default/default after 60 s"
    # PaaSTA pods select their pool (nodeSelector yelp.com/pool); this node serves the default pool.
    kubectl_admin label node "$NODE_NAME" yelp.com/pool=default --overwrite >/dev/null ||
        fail_component kubelet "could not label node $NODE_NAME with its pool"
    cat <<EOF

Local platform is up ($SECONDS s).
  kubeconfig  $KUBECONFIG_FILE   (context $CONTEXT_NAME; export KUBECONFIG=$KUBECONFIG_FILE)
  API server  $API_URL   (Kubernetes v$KUBE_VERSION, node $NODE_NAME)
  kubectl     $BIN/kubectl
  registry    $REGISTRY_ADDR   (push e.g. $REGISTRY_ADDR/services-hello:tag; pods pull it by that name)
  docker      $DOCKER_HOST   (runtime: $(docker_runtime_choice); base images $BASE_IMAGE, $PAUSE_IMAGE)
  logs        $LOGS/
  stop with   bash $SCRIPT_DIR/platform.sh down
EOF
}

remove_pod_containers() {
    docker_answers || return 0
    local ids
    ids=$( (docker ps -aq --filter label=io.kubernetes.pod.name; docker ps -aq --filter name=^/k8s_) | sort -u)
    [[ -n $ids ]] || return 0
    say "removing $(wc -w <<<"$ids") pod container(s)"
    # shellcheck disable=SC2086  # one id per word
    docker rm -f $ids >/dev/null 2>&1 || true
}

# The kubelet bind-mounts its root dir onto itself (to make it rshared) and mounts pod
# volumes (tmpfs for secrets) below it; all of these outlive the kubelet. Deepest first.
unmount_kubelet_volumes() {
    local mounts
    mounts=$(findmnt -rn -o TARGET | awk -v p="$STATE/kubelet" '$0 == p || index($0, p "/") == 1' | sort -r)
    [[ -z $mounts ]] || while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done <<<"$mounts"
}

cmd_down() {
    local purge=${1:-}
    take_lock
    stop_component kubelet "$KUBE_CACHE/bin/kubelet"
    remove_pod_containers
    unmount_kubelet_volumes
    stop_component kube-scheduler "$KUBE_CACHE/bin/kube-scheduler"
    stop_component kube-controller-manager "$KUBE_CACHE/bin/kube-controller-manager"
    stop_component kube-apiserver "$KUBE_CACHE/bin/kube-apiserver"
    stop_component etcd /usr/bin/etcd
    stop_component registry /usr/bin/docker-registry
    stop_component dockerd /usr/sbin/dockerd
    local port busy=()
    for port in 6443 2379 2380 5000 10250 10248; do
        wait_until 10 bash -c "[[ -z \$(ss -Hltn 'sport = :$port') ]]" || busy+=("$port")
    done
    if [[ $purge == --purge ]]; then
        say "purging state in $STATE"
        remove_hosts_entry
        rm -rf "$STATE"
    fi
    ((${#busy[@]} == 0)) || die "still listening after down (not started by this script?): ${busy[*]}"
    say "platform is down"
}

cmd_status() {
    local all=0 name binary endpoint pid state
    local rows=(
        "dockerd|/usr/sbin/dockerd|unix:///var/run/docker.sock"
        "registry|/usr/bin/docker-registry|$REGISTRY_ADDR"
        "etcd|/usr/bin/etcd|127.0.0.1:2379"
        "kube-apiserver|$KUBE_CACHE/bin/kube-apiserver|127.0.0.1:6443"
        "kube-controller-manager|$KUBE_CACHE/bin/kube-controller-manager|127.0.0.1:10257"
        "kube-scheduler|$KUBE_CACHE/bin/kube-scheduler|127.0.0.1:10259"
        "kubelet|$KUBE_CACHE/bin/kubelet|127.0.0.1:10250"
    )
    printf '%-24s %-9s %-8s %s\n' COMPONENT STATE PID ENDPOINT
    for row in "${rows[@]}"; do
        IFS='|' read -r name binary endpoint <<<"$row"
        pid=-
        if pid=$(component_pid "$name" "$binary"); then
            state=running
            if [[ $name == dockerd ]]; then docker_answers || state=starting
            else port_listening "${endpoint##*:}" || state=starting; fi
        elif [[ $name == dockerd ]] && docker_answers; then
            state=external pid=-
        else
            state=stopped pid=-
        fi
        [[ $state == running || $state == external ]] || all=3
        printf '%-24s %-9s %-8s %s\n' "$name" "$state" "$pid" "$endpoint"
    done
    local ready=unknown
    if [[ -x $KUBE_CACHE/bin/kubectl && -s $ADMIN_KUBECONFIG ]] && apiserver_ready 2>/dev/null; then
        if node_ready; then ready=Ready; else ready=NotReady; fi
    fi
    [[ $ready == Ready ]] || all=3
    printf '%-24s %-9s %-8s %s\n' "node $NODE_NAME" "$ready" - "kubeconfig $KUBECONFIG_FILE"
    return $all
}

# An API server outage, for tests that restart it under a running client: stop waits until
# 6443 is closed, start until /readyz answers again; everything else keeps running.
cmd_stop_apiserver() {
    take_lock
    stop_component kube-apiserver "$KUBE_CACHE/bin/kube-apiserver"
    wait_until 10 bash -c "[[ -z \$(ss -Hltn 'sport = :6443') ]]" || die "port 6443 still listening after stopping kube-apiserver"
}

cmd_start_apiserver() {
    take_lock
    [[ -s $PKI/ca.crt ]] || die "the platform was never started here: run '$0 up' first"
    ensure_apiserver
}

usage() {
    echo "usage: $0 up | down [--purge] | status | stop-apiserver | start-apiserver" >&2
    exit 64
}

main() {
    local action=${1:-}
    [[ -n $action ]] || usage
    refuse_unsupported
    case $action in
        up) cmd_up ;;
        down) cmd_down "${2:-}" ;;
        status) cmd_status ;;
        stop-apiserver) cmd_stop_apiserver ;;
        start-apiserver) cmd_start_apiserver ;;
        *) usage ;;
    esac
}

# Keep "exit" on the same line: bash reads scripts lazily, so an edit during a run is harmless.
main "$@"; exit $?
