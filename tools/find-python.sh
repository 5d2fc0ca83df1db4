#!/usr/bin/env bash
# Print the path of a Python interpreter of the requested X.Y version (pyenv installs first, then PATH).
set -euo pipefail
want="$1"
for cand in /root/.pyenv/versions/"$want".*/bin/python"$want" "$HOME"/.pyenv/versions/"$want".*/bin/python"$want" /usr/local/bin/python"$want" /usr/bin/python"$want"; do
  if [ -x "$cand" ] && "$cand" -c 'import venv, ensurepip' >/dev/null 2>&1; then echo "$cand"; exit 0; fi
done
if command -v python"$want" >/dev/null 2>&1 && python"$want" -c 'import venv' >/dev/null 2>&1; then command -v python"$want"; exit 0; fi
echo "find-python: no Python $want found; install it (e.g. 'apt-get install python$want-venv' or pyenv) and retry" >&2
exit 1
