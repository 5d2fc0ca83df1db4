#!/usr/bin/env bash
# The project's test command (`make test`). Runs, in order, failing on the first red stage:
#   sanity (newest ansible-core, then oldest allowed) -> units (both) -> integration (emulator, functional,
#   reliability at CI size) -> ansible-lint (production) -> antsibull-docs lint -> bench-quick (call counts).
# `tools/test.sh STAGE...` runs only the named stages.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TREE=$ROOT/.build/ansible_collections/fleetops/workspaces
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 PIP_DISABLE_PIP_VERSION_CHECK=1
# Tests talk to the emulator on loopback only; never to AWS.
unset AWS_PROFILE AWS_DEFAULT_PROFILE

tools/bootstrap.sh
tools/build-tree.sh

passed=0
run_stage() {
  local name="$1"; shift
  local start=$SECONDS
  echo "=== [$name] $*"
  if "$@"; then
    passed=$((passed + 1))
    echo "=== [$name] ok in $((SECONDS - start)) s"
  else
    local rc=$?
    echo "=== [$name] FAILED (exit $rc) after $((SECONDS - start)) s"
    echo "stages: $passed passed, 1 failed"
    exit "$rc"
  fi
}

in_tree() { (cd "$TREE" && "$@"); }
in_tree_integration() {
  # ansible-test passes tests/integration/integration_config.yml to every target as extra vars (its environment is filtered).
  printf 'emulator_url: %s\n' "$AWS_ENDPOINT_URL" > "$TREE/tests/integration/integration_config.yml"
  (cd "$TREE" && "$ROOT/.venv/bin/ansible-test" integration --local --python 3.12 --color no)
}
export -f in_tree_integration
export ROOT TREE

sanity() {
  run_stage sanity-core-newest in_tree "$ROOT/.venv/bin/ansible-test" sanity --local --python 3.12 --color no
  run_stage sanity-core-2.17 in_tree "$ROOT/.venv-core217/bin/ansible-test" sanity --local --python 3.11 --color no
}
units() {
  run_stage units-core-newest in_tree "$ROOT/.venv/bin/ansible-test" units --local --python 3.12 --color no
  run_stage units-core-2.17 in_tree "$ROOT/.venv-core217/bin/ansible-test" units --local --python 3.11 --color no
}
integration() {
  # pytest exits 5 when it collects nothing: that is a failure here, never hidden.
  run_stage integration .venv/bin/python -m pytest tests/emulator tests/functional tests/reliability -q -p no:cacheprovider -n 2 --dist loadfile
  run_stage ansible-test-integration tools/with-emulator.sh -- in_tree_integration
}
lint() {
  run_stage ansible-lint env ANSIBLE_COLLECTIONS_PATH="$ROOT/.build" .venv/bin/ansible-lint --offline --profile production --nocolor
}
docs-lint() {
  run_stage docs-lint env PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$ROOT/.build" .venv/bin/antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck --validate-collection-refs all "$TREE"
  run_stage changelog-lint in_tree "$ROOT/.venv/bin/antsibull-changelog" lint
}
bench-quick() {
  run_stage bench-quick .venv/bin/python -m benchmarks.run --quick
}

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(sanity units integration lint docs-lint bench-quick)
for stage in "${stages[@]}"; do
  case "$stage" in
    sanity|units|integration|lint|docs-lint|bench-quick) "$stage" ;;
    *) echo "test.sh: unknown stage '$stage' (sanity units integration lint docs-lint bench-quick)" >&2; exit 2 ;;
  esac
done
echo "stages: $passed passed, 0 failed"
