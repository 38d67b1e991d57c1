#!/bin/sh
# hello: serves /srv/hello/www with busybox httpd on $PAASTA_PORT (PaaSTA sets it), default 8888.
set -eu
port="${PAASTA_PORT:-8888}"
case "$port" in
    ''|*[!0-9]*) echo "hello: PAASTA_PORT must be a port number, got '$port'" >&2; exit 64 ;;
esac
echo "hello: listening on port $port"
# As PID 1 httpd would ignore SIGTERM and every stop would wait out the grace period;
# the shell forwards it so the service stops at once.
httpd -f -p "0.0.0.0:$port" -h /srv/hello/www &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0' TERM INT
wait "$pid"
