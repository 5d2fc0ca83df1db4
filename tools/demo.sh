#!/usr/bin/env bash
# `make demo`: start the WorkSpaces emulator on a free loopback port, seed a small fleet, preview and then
# run the collection playbook that stops desktops tagged Schedule=office-hours, show the API calls; then, as in the
# morning, start again exactly the desktops it stopped (start_workspaces), and stop the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
work=$(mktemp -d)
emu_pid=
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# Collections: this checkout as fleetops.workspaces, amazon.aws from the venv's ansible package.
mkdir -p "$work/collections/ansible_collections/fleetops"
ln -s "$ROOT" "$work/collections/ansible_collections/fleetops/workspaces"

.venv/bin/python -m emulator serve --port 0 --stop-delay 2 --url-file "$work/url" > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.1; done
[ -s "$work/url" ] || { echo "demo: the emulator did not start; its log:" >&2; cat "$work/emulator.log" >&2; exit 1; }
url=$(cat "$work/url")
echo "WorkSpaces emulator at $url"
.venv/bin/python -m emulator seed --url "$url" tools/demo/fleet.yml

export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_NOCOLOR="${ANSIBLE_NOCOLOR:-}"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export AWS_ENDPOINT_URL="$url" AWS_ACCESS_KEY_ID=AKIADEMODEMODEMO0000 AWS_SECRET_ACCESS_KEY=demo-secret AWS_REGION=us-east-1
vars='{"workspaces_stop_regions": ["us-east-1", "eu-west-1"], "workspaces_stop_tags": {"Schedule": "office-hours"}}'

echo; echo "### 1. Preview (check mode): what would be stopped, and what would be skipped and why"
.venv/bin/ansible-playbook fleetops.workspaces.stop_workspaces -e "$vars" --check
.venv/bin/python -m emulator calls --url "$url" --reset

echo; echo "### 2. Stop them"
.venv/bin/ansible-playbook fleetops.workspaces.stop_workspaces -e "$vars"
.venv/bin/python -m emulator calls --url "$url" --operation StopWorkspaces --full > "$work/stops.json"
.venv/bin/python -m emulator calls --url "$url" --reset

echo; echo "### 3. Run again: nothing left to stop, no StopWorkspaces call"
.venv/bin/ansible-playbook fleetops.workspaces.stop_workspaces -e "$vars"
.venv/bin/python -m emulator calls --url "$url"
.venv/bin/python -m emulator calls --url "$url" --reset > /dev/null

# The morning: start again what step 2 stopped (its accepted StopWorkspaces requests), with the start playbook's rails.
start_vars=$(.venv/bin/python -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    calls = json.load(handle)["calls"]
ids = sorted({r["WorkspaceId"] for c in calls if c["outcome"] == "ok" for r in c["params"]["StopWorkspaceRequests"]})
print(json.dumps({"workspaces_start_regions": sorted({c["region"] for c in calls}), "workspaces_start_workspace_ids": ids}))
' "$work/stops.json")

echo; echo "### 4. The morning: preview, then start again exactly the desktops step 2 stopped"
.venv/bin/ansible-playbook fleetops.workspaces.start_workspaces -e "$start_vars" --check
.venv/bin/python -m emulator calls --url "$url" --reset
.venv/bin/ansible-playbook fleetops.workspaces.start_workspaces -e "$start_vars"
.venv/bin/python -m emulator calls --url "$url"
