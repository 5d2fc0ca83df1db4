#!/usr/bin/env bash
# Lay out the collection where ansible-test and ansible-galaxy expect it:
#   .build/ansible_collections/fleetops/workspaces   (a copy of the tracked + untracked-not-ignored files)
#   .build/ansible_collections/amazon/aws            (from the main venv's `ansible` package)
# and give ansible-test an offline stand-in for its get-pip bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
root=.build/ansible_collections
dest=$root/fleetops/workspaces
rm -rf "$dest"
mkdir -p "$dest" "$root/amazon"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
# ansible-test wants a git-free tree or a repository; give it a throwaway repository so it lists exactly these files.
( cd "$dest" && git init -q && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm tree --no-verify )
aws_src=$(.venv/bin/python -c 'import ansible_collections.amazon.aws as m; print(list(m.__path__)[0])')
if [ ! -d "$root/amazon/aws" ] || [ "$(cat "$root/amazon/.src" 2>/dev/null)" != "$aws_src" ]; then
  rm -rf "$root/amazon/aws"
  cp -r "$aws_src" "$root/amazon/aws"
  echo "$aws_src" > "$root/amazon/.src"
fi
.venv/bin/python tools/get_pip_standin.py .venv .venv-core217
