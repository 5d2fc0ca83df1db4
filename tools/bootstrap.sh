#!/usr/bin/env bash
# Create (or reuse) the project-local virtual environments from the pinned requirement files.
#   .venv          Python 3.12, newest ansible-core (ansible package with amazon.aws), everything for tests
#   .venv-core217  Python 3.11, ansible-core 2.17 (oldest allowed by meta/runtime.yml), sanity + units only
#   .venv-bench    Python 3.12, awscli and matplotlib for the benchmarks (benchmarks/venv.py; FLEETOPS_SKIP_BENCH_VENV=1 skips it)
# Requirements are (re)installed only when their files change (hash stamp); `make clean-venv` starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

make_venv() {  # name python-version requirement-file [constraints]
  local dir="$1" pyver="$2" req="$3" cons="${4:-}"
  local stamp="$dir/.fleetops-stamp" want
  want=$(cat "$req" ${cons:+"$cons"} | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dir/bin/python" ]; then
    return 0
  fi
  echo ">>> installing $req into $dir (Python $pyver)"
  if [ ! -x "$dir/bin/python" ]; then
    "$(tools/find-python.sh "$pyver")" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v 'is ignored' || true
  # --no-compile: pip would byte-compile every installed file, the ~100 collections of the `ansible` package included
  # (measured for .venv: 64 CPU-seconds with, 16 without); Python compiles what is imported, once, on first import.
  "$dir/bin/python" -m pip install -q --no-compile -r "$req" ${cons:+-c "$cons"} 2>&1 | grep -v 'is ignored' || true
  "$dir/bin/python" -m pip check >/dev/null 2>&1 || "$dir/bin/python" -m pip check | grep -v 'is ignored' >&2 || true
  "$dir/bin/python" -c 'import ansible' || { echo "bootstrap: ansible missing in $dir" >&2; exit 1; }
  echo "$want" > "$stamp"
}

# The venvs are independent: install them at once (most of the time goes to downloading and unpacking). The third,
# .venv-bench (awscli, matplotlib: benchmarks/venv.py), is for the benchmarks, bench-quick of `make test` included.
make_venv .venv 3.12 requirements/dev.txt requirements/constraints-dev.txt &
main_pid=$!
if [ "${FLEETOPS_SKIP_BENCH_VENV:-0}" != 1 ]; then
  "$(tools/find-python.sh 3.12)" -c "from benchmarks import venv; venv.ensure()" &
  bench_pid=$!
fi
old_rc=0
if [ "${FLEETOPS_SKIP_OLD_CORE:-0}" != 1 ]; then
  make_venv .venv-core217 3.11 requirements/core-old.txt || old_rc=$?
fi
main_rc=0
wait "$main_pid" || main_rc=$?
[ "$main_rc" -eq 0 ] || { echo "bootstrap: creating .venv failed (exit $main_rc)" >&2; exit 1; }
[ "$old_rc" -eq 0 ] || { echo "bootstrap: creating .venv-core217 failed (exit $old_rc)" >&2; exit 1; }
if [ -n "${bench_pid:-}" ]; then
  wait "$bench_pid" || { echo "bootstrap: creating .venv-bench failed" >&2; exit 1; }
fi
