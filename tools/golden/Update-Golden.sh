#!/bin/bash
# Regenerates the golden files under tests/golden/ by running PaaSTA's own code (the oracle) on our fixtures.
# CI never runs this: the tests compare Paasta against the stored files.
#
#   PAASTA_ORACLE_ROOT=/work/oracle tools/golden/Update-Golden.sh
#
# Needs the oracle laid out by /work/shared/oracle/setup.sh (README there) and /usr/bin/python3 with Debian's
# python3-* packages it installs; git. Reads tests/golden/fixtures, tests/golden/system (the PaaSTA system
# config the oracle runs with), writes tests/golden/{deployments,kubernetes,tron,validate,local-run} and
# tests/golden/fixtures/soa/*/deployments.json (an input of the other tests).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GOLDEN=$ROOT/tests/golden
export PAASTA_ORACLE_ROOT=${PAASTA_ORACLE_ROOT:-/work/oracle}
PY=/usr/bin/python3
B=$PAASTA_ORACLE_ROOT/bin
[ -x "$B/k8s-deployment" ] || { echo "no oracle at $PAASTA_ORACLE_ROOT (see /work/shared/oracle/README.md)" >&2; exit 1; }
export PAASTA_SYSTEM_CONFIG_DIR=$GOLDEN/system/paasta
export ORACLE_SENSU_TEAM_DATA=$GOLDEN/system/sensu/team_data.json
export ORACLE_LOCATION_DIR=$GOLDEN/system/location
# PaaSTA iterates sets in places (instance lists): a fixed hash seed keeps the goldens stable across runs.
export PYTHONHASHSEED=0
export ORACLE_USER=golden ORACLE_HOSTNAME=golden-host ORACLE_PORT=33333 ORACLE_DATE=2024-01-01

WORK=$(mktemp -d /tmp/paasta-golden.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Paths in the oracle's output are written relative to this placeholder, so goldens do not depend on $WORK.
normalise() { sed -e "s#$WORK/soa-invalid#\$SOA_DIR#g" -e "s#$WORK/soa#\$SOA_DIR#g" -e "s#$WORK#\$WORK#g"; }
# run NAME OUTFILE CMD...: stdout to OUTFILE; on failure the golden records the error (its last line) instead.
run() {
  local out=$1; shift
  mkdir -p "$(dirname "$out")"
  if "$@" > "$WORK/out" 2> "$WORK/err"; then normalise < "$WORK/out" > "$out"
  else
    local msg; msg=$(grep -v '^\s' "$WORK/err" | tail -n 1 | normalise)
    $PY -c 'import json,sys; print(json.dumps({"oracle_error": sys.argv[1]}, indent=2))' "$msg" > "${out%.*}.error.json"
    rm -f "$out"
    echo "  oracle failed: ${out#$ROOT/} ($msg)" >&2
  fi
}
instances() {  # instances FILE: the instance names (top-level keys not starting with _)
  $PY -c 'import sys,yaml; print("\n".join(k for k in (yaml.safe_load(open(sys.argv[1])) or {}) if not str(k).startswith("_")))' "$1"
}
services() { for d in "$1"/*/; do d=${d%/}; n=${d##*/}; [ "$n" = tron ] || [ "${n#_}" != "$n" ] || echo "$n"; done; }

# SECTIONS (default all) limits the run: any of deployments kubernetes tron validate local-run.
SECTIONS=${SECTIONS:-deployments kubernetes tron validate local-run}
want() { [[ " $SECTIONS " == *" $1 "* ]]; }
for s in $SECTIONS; do rm -rf "${GOLDEN:?}/$s"; done
mkdir -p "$GOLDEN"/deployments
cp -r "$GOLDEN/fixtures/soa" "$WORK/soa"
cp -r "$GOLDEN/fixtures/soa-invalid" "$WORK/soa-invalid"

if want deployments; then
rm -f "$WORK"/soa/*/deployments.json
echo "deployments.json (gen-deployments)"
"$GOLDEN/fixtures/make-git-repos.sh" "$WORK/git" > /dev/null
for svc in $(services "$WORK/soa"); do
  repo=$WORK/git/$svc.git; [ -d "$repo" ] || repo=$WORK/git/golden_svc.git  # services without a recipe share golden_svc's
  git ls-remote "$repo" > "$GOLDEN/deployments/$svc.refs"
  run "$GOLDEN/deployments/$svc.oracle.json" "$B/gen-deployments" "$WORK/soa" "$svc" "$repo" --write
  cp "$WORK/soa/$svc/deployments.json" "$GOLDEN/deployments/$svc.deployments.json"
  cp "$WORK/soa/$svc/deployments.json" "$GOLDEN/fixtures/soa/$svc/deployments.json"
done
rm -f "$GOLDEN"/deployments/*.oracle.json  # the written file is the golden; the printed copy adds nothing
fi

if want kubernetes; then
echo "Kubernetes objects (k8s-deployment --format api, PDB, HPA)"
for svc in $(services "$WORK/soa"); do
  for f in "$WORK/soa/$svc"/kubernetes-*.yaml "$WORK/soa/$svc"/eks-*.yaml; do
    [ -e "$f" ] || continue
    base=$(basename "$f" .yaml); type=${base%%-*}; cluster=${base#*-}
    for inst in $(instances "$f"); do
      run "$GOLDEN/kubernetes/$svc/$base.$inst.json" $PY "$HERE/oracle_k8s_objects.py" "$WORK/soa" "$svc" "$inst" "$cluster" "$type"
    done
  done
done
fi

if want tron; then
echo "Tron namespaces (tron-config --yaml)"
for soa in soa soa-invalid; do
  for svc in $(services "$WORK/$soa"); do
    for f in "$WORK/$soa/$svc"/tron-*.yaml; do
      [ -e "$f" ] || continue
      cluster=$(basename "$f" .yaml); cluster=${cluster#tron-}
      out=$GOLDEN/tron/$soa/$svc.$cluster.yaml
      run "$out" "$B/tron-config" "$WORK/$soa" "$svc" "$cluster" --yaml
      # The same config as PyYAML writes it when no object is shared (PaaSTA's text has &id anchors where its
      # dicts share a list): Paasta's text must equal this byte for byte.
      [ -e "$out" ] && $PY -c 'import sys, yaml
from yaml.cyaml import CSafeDumper
class D(CSafeDumper):
    def ignore_aliases(self, data): return True
sys.stdout.write(yaml.dump(yaml.safe_load(open(sys.argv[1])), Dumper=D, default_flow_style=False))' "$out" > "${out%.yaml}.unshared.yaml"
    done
  done
done
fi

if want validate; then
echo "Validation (validate)"
for soa in soa soa-invalid; do
  for svc in $(services "$WORK/$soa"); do
    run "$GOLDEN/validate/$soa/$svc.json" "$B/validate" "$WORK/$soa" "$svc"
  done
done
fi

if want local-run; then
echo "local-run (local-run-cmd)"
lr() { run "$GOLDEN/local-run/$1/$2.$3.json" "$B/local-run-cmd" "$WORK/soa" "$1" "$3" "$2" "${@:4}"; }
for inst in $(instances "$WORK/soa/golden_svc/adhoc-golden-a.yaml"); do lr golden_svc golden-a "$inst"; done
for inst in main canary downthenup tcp_worker; do lr golden_svc golden-a "$inst"; done
lr golden_svc golden-a nightly.extract
lr golden_svc golden-a hourly.ping
fi
echo "done: git status tests/golden shows what changed"
