#!/usr/bin/env bash
# Run a command with a fresh WorkSpaces emulator on a free loopback port: AWS_ENDPOINT_URL points at it,
# dummy credentials are set, and the emulator is stopped when the command ends.
# Usage: tools/with-emulator.sh [--emulator-arg ARG]... -- COMMAND [ARGS...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
emu_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case "$1" in
    --emulator-arg) emu_args+=("$2"); shift 2 ;;
    *) echo "with-emulator.sh: unexpected '$1' (use -- before the command)" >&2; exit 2 ;;
  esac
done
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d)
emu_pid=
cleanup() { if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
"$ROOT/.venv/bin/python" -m emulator serve --port 0 --url-file "$work/url" ${emu_args[@]+"${emu_args[@]}"} > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 600); do [ -s "$work/url" ] && break; sleep 0.1; done  # up to 60 s: a loaded machine starts it slowly
if [ ! -s "$work/url" ]; then echo "with-emulator.sh: the emulator did not start; its log:" >&2; cat "$work/emulator.log" >&2; exit 1; fi
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=AKIAEMULATOR00000000 AWS_SECRET_ACCESS_KEY=emulator-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
AWS_ENDPOINT_URL=$(cat "$work/url")
echo "WorkSpaces emulator at $AWS_ENDPOINT_URL"
set +e
"$@"
rc=$?
set -e
exit $rc
