#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter, or explains how to get one and fails.
# Lambda refuses python3.10/3.11 functions, and chalice packages for the Python it runs under,
# so the project's venv must be 3.13 (see .python-version).
set -euo pipefail
want="3.13"
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
roots=("${PYENV_ROOT:-}" "$HOME/.pyenv")
command -v pyenv >/dev/null 2>&1 && roots=("$(pyenv root)" "${roots[@]}")
for root in "${roots[@]}"; do
  [ -n "$root" ] || continue
  for dir in "$root"/versions/3.13*; do
    [ -x "$dir/bin/python3.13" ] && candidates+=("$dir/bin/python3.13")
  done
done
candidates+=(python3.13 python3)
for cand in "${candidates[@]}"; do
  path=$(command -v "$cand" 2>/dev/null) || continue
  version=$("$path" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
  if [ "$version" = "$want" ]; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<MSG
error: no Python $want interpreter found.
This project deploys to Lambda's python$want runtime, and chalice packages for the Python it runs under
(Lambda refuses new python3.10/3.11 functions). Install one of:
  pyenv install 3.13        (then rerun; .python-version selects it)
  apt-get install python3.13 python3.13-venv   (Debian 13 and later)
or point PYTHON=/path/to/python3.13 at one.
MSG
exit 1
