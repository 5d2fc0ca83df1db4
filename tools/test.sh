#!/usr/bin/env bash
# The project's test command (`make test`, and CI through .ci/run).
#
#   tools/test.sh              every stage: sanity and units (newest ansible-core and 2.17), integration (pytest on the
#                              emulator: emulator, functional, reliability at CI size; then ansible-test integration),
#                              ansible-lint, antsibull-docs lint, changelog lint, bench-quick (call counts)
#   tools/test.sh STAGE...     only those groups: sanity units integration lint docs-lint bench-quick
#
# Independent stages run in two lanes at once (the machine has two cores, and both lanes keep them busy: a second run
# takes ≈ 800-930 CPU-seconds in ≈ 410-480 s, the integration stage alone ≈ 600-700): lane 1 = integration (pytest);
# lane 2 = ansible-test integration, sanity, units, lint, docs lint, bench-quick. Each stage writes its output to
# tests/output/stages/<stage>.log, printed when the stage fails. Every stage runs even after a failure (FAIL_FAST=1
# stops at the first one); any failed stage, pytest's exit 5 (nothing collected) included, makes the run exit non-zero.
# The run ends with a table of the stages' times and the line `stages: N passed, M failed`. The table shows each stage's
# wall-clock seconds and CPU seconds (its processes, user + system): on two cores the CPU total over two is the least
# the run can take.
#
# Environment: JOBS=1 runs the lanes one after the other; PYTEST_WORKERS (default 4: the tests partly wait on the emulator's
# simulated delays and on retry backoff, so 4 workers on 2 cores measured 408 s against 646 s with 2) sets the integration
# stage's pytest-xdist workers; FAIL_FAST=1.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TREE=$ROOT/.build/ansible_collections/fleetops/workspaces
LOGS=$ROOT/tests/output/stages
JOBS=${JOBS:-2}
PYTEST_WORKERS=${PYTEST_WORKERS:-4}
FAIL_FAST=${FAIL_FAST:-0}
export ANSIBLE_NOCOLOR=1 PY_COLORS=0 PIP_DISABLE_PIP_VERSION_CHECK=1
# Tests talk to the emulator on loopback only; never to AWS.
unset AWS_PROFILE AWS_DEFAULT_PROFILE

GROUPS_ALL=(sanity units integration lint docs-lint bench-quick)
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=("${GROUPS_ALL[@]}")
for group in "${groups[@]}"; do
  case " ${GROUPS_ALL[*]} " in
    *" $group "*) ;;
    *) echo "test.sh: unknown stage '$group' (${GROUPS_ALL[*]})" >&2; exit 2 ;;
  esac
done
wanted() { case " ${groups[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

run_start=$SECONDS
tools/bootstrap.sh || { echo "test.sh: bootstrap failed"; echo "stages: 0 passed, 1 failed"; exit 1; }
tools/build-tree.sh || { echo "test.sh: build-tree failed"; echo "stages: 0 passed, 1 failed"; exit 1; }
setup_seconds=$((SECONDS - run_start))
rm -rf "$LOGS"
mkdir -p "$LOGS"

# -- the stages' commands ------------------------------------------------------------------------------------------------
in_tree() { (cd "$TREE" && "$@"); }
in_tree_integration() {
  # Its own copy of the tree, so that it never writes into the tree sanity and units may be reading in the other lane.
  local copy=$ROOT/.build/integration-tree
  rm -rf "$copy" && mkdir -p "$copy" && cp -a "$ROOT/.build/ansible_collections" "$copy/" || return 1
  local tree=$copy/ansible_collections/fleetops/workspaces
  # ansible-test passes tests/integration/integration_config.yml to every target as extra vars (its environment is filtered).
  printf 'emulator_url: %s\n' "$AWS_ENDPOINT_URL" > "$tree/tests/integration/integration_config.yml"
  (cd "$tree" && "$ROOT/.venv/bin/ansible-test" integration --local --python 3.12 --color no)
}
export -f in_tree_integration
export ROOT TREE

stage_cmd() {
  case "$1" in
    sanity-core-newest) in_tree "$ROOT/.venv/bin/ansible-test" sanity --local --python 3.12 --color no ;;
    # ansible-core 2.17 is the oldest core the collection supports: its sanity run covers what runs under it (the
    # collection's content, its unit tests and integration targets). The emulator, benchmarks, tools and the functional,
    # reliability and emulator tests run only in .venv (newest core), whose sanity run covers every file.
    sanity-core-2.17) in_tree "$ROOT/.venv-core217/bin/ansible-test" sanity --local --python 3.11 --color no \
                        plugins/ roles/ playbooks/ meta/ changelogs/ tests/unit/ tests/integration/ tests/config.yml galaxy.yml ;;
    units-core-newest) in_tree "$ROOT/.venv/bin/ansible-test" units --local --python 3.12 --color no ;;
    units-core-2.17) in_tree "$ROOT/.venv-core217/bin/ansible-test" units --local --python 3.11 --color no ;;
    # pytest exits 5 when it collects nothing: a failure like any other non-zero exit, never hidden.
    integration) .venv/bin/python -m pytest tests/emulator tests/functional tests/reliability -q -p no:cacheprovider \
                   -n "$PYTEST_WORKERS" --dist worksteal --durations=25 ;;
    ansible-test-integration) tools/with-emulator.sh -- in_tree_integration ;;
    ansible-lint) env ANSIBLE_COLLECTIONS_PATH="$ROOT/.build" .venv/bin/ansible-lint --offline --profile production --nocolor ;;
    # References are checked against this collection, its dependencies (galaxy.yml: amazon.aws) and ansible.builtin, and
    # a reference to any other collection is an error (--disallow-unknown-collection-refs). `--validate-collection-refs
    # all` would load the docs of every collection of the `ansible` package (~230 s for nothing: none is referenced).
    # GIT_CEILING_DIRECTORIES: antsibull-docs copies a dependency with `git ls-files` when it lies inside a work tree,
    # and .build/ is inside this (git-ignored) checkout, so amazon.aws would be copied empty.
    docs-lint) env GIT_CEILING_DIRECTORIES="$ROOT/.build/ansible_collections/amazon" PATH="$ROOT/.venv/bin:$PATH" \
                 ANSIBLE_COLLECTIONS_PATH="$ROOT/.build" .venv/bin/antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck \
                 --validate-collection-refs dependent --disallow-unknown-collection-refs "$TREE" ;;
    changelog-lint) in_tree "$ROOT/.venv/bin/antsibull-changelog" lint ;;
    bench-quick) .venv/bin/python -m benchmarks.run --quick ;;
    *) echo "test.sh: no stage $1" >&2; return 2 ;;
  esac
}

# -- running stages --------------------------------------------------------------------------------------------------------
# cpu_seconds FILE: the user + system seconds of the children line of `times` (the second: "1m2.500s 0m3.000s"), rounded.
cpu_seconds() {
  awk 'NR == 2 { t = 0; for (i = 1; i <= NF; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%d\n", t + 0.5 }' "$1" 2>/dev/null || echo -
}

# run_stage NAME: runs one stage with its output in $LOGS/NAME.log; records "NAME rc seconds" in $LOGS/NAME.result.
run_stage() {
  local name=$1 start=$SECONDS rc
  echo "=== [$name] started"
  # In a subshell so that `times` counts the CPU of this stage's processes alone (children the stage waited for).
  (
    stage_cmd "$name" >"$LOGS/$name.log" 2>&1 </dev/null
    rc=$?
    times >"$LOGS/$name.cpu"  # not through a pipe: `times` would run in a new subshell with no children
    exit "$rc"
  )
  rc=$?
  echo "$name $rc $((SECONDS - start)) $(cpu_seconds "$LOGS/$name.cpu")" >"$LOGS/$name.result"
  if [ "$rc" -eq 0 ]; then
    echo "=== [$name] ok in $((SECONDS - start)) s"
  else
    # One block, written at once, so that a failure's log is not interleaved with the other lane's progress lines.
    {
      echo "=== [$name] FAILED (exit $rc) after $((SECONDS - start)) s; its output ($LOGS/$name.log):"
      if [ "$(wc -l <"$LOGS/$name.log")" -gt 400 ]; then
        echo "    (the last 400 of $(wc -l <"$LOGS/$name.log") lines)"
        tail -n 400 "$LOGS/$name.log"
      else
        cat "$LOGS/$name.log"
      fi
      echo "=== [$name] end of output"
    } >"$LOGS/$name.report"
    cat "$LOGS/$name.report"
  fi
  return "$rc"
}

# run_lane STAGE...: the stages one after the other (after a failure, only with FAIL_FAST=0).
run_lane() {
  local name
  for name in "$@"; do
    if ! run_stage "$name" && [ "$FAIL_FAST" = 1 ]; then
      return 1
    fi
  done
}

# Balanced by measured times: the integration stage alone is the longest (≈ 460 s of a clean clone's run, against
# ≈ 400 s for the whole of lane 2), so ansible-test integration runs in lane 2.
lane1=() lane2=()
wanted integration && lane1+=(integration)
wanted integration && lane2+=(ansible-test-integration)
wanted sanity && lane2+=(sanity-core-newest sanity-core-2.17)
wanted units && lane2+=(units-core-newest units-core-2.17)
wanted lint && lane2+=(ansible-lint)
wanted docs-lint && lane2+=(docs-lint changelog-lint)
wanted bench-quick && lane2+=(bench-quick)

if [ "$JOBS" -gt 1 ] && [ ${#lane1[@]} -gt 0 ] && [ ${#lane2[@]} -gt 0 ]; then
  run_lane "${lane1[@]}" &
  lane1_pid=$!
  run_lane "${lane2[@]}" &
  lane2_pid=$!
  trap 'kill "$lane1_pid" "$lane2_pid" 2>/dev/null' INT TERM
  wait "$lane1_pid"
  wait "$lane2_pid"
  trap - INT TERM
else
  [ ${#lane1[@]} -eq 0 ] || run_lane "${lane1[@]}"
  [ ${#lane2[@]} -eq 0 ] || run_lane "${lane2[@]}"
fi

# -- the summary ---------------------------------------------------------------------------------------------------------
passed=0 failed=0 not_run=0
echo
printf '%-26s %-8s %8s %8s\n' stage result seconds cpu-s
printf '%-26s %-8s %8s %8s\n' "setup (venvs, tree)" ok "$setup_seconds" -
total_cpu=0
for name in "${lane1[@]}" "${lane2[@]}"; do
  if [ -f "$LOGS/$name.result" ]; then
    read -r dummy rc seconds cpu <"$LOGS/$name.result"
    [ "$cpu" = - ] || total_cpu=$((total_cpu + cpu))
    if [ "$rc" -eq 0 ]; then result=ok; passed=$((passed + 1)); else result="FAILED($rc)"; failed=$((failed + 1)); fi
  else
    result="not run" seconds=- cpu=-
    not_run=$((not_run + 1))
  fi
  printf '%-26s %-8s %8s %8s\n' "$name" "$result" "$seconds" "$cpu"
done
printf '%-26s %-8s %8s %8s\n' "total (wall clock)" "" "$((SECONDS - run_start))" "$total_cpu"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) on $(nproc 2>/dev/null) cores; stage logs in $LOGS"
if [ "$not_run" -gt 0 ]; then
  echo "stages: $passed passed, $failed failed, $not_run not run"
else
  echo "stages: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$not_run" -eq 0 ]
