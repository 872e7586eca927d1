# Sourced by .ci/run and .ci/oldest: make a fresh virtual environment and install a lock file into it.
# usage: fresh_venv DIR LOCKFILE
fresh_venv() {
  local dir="$1" lock="$2"
  rm -rf "$dir"
  python3 -m venv "$dir" || return 1
  "$dir/bin/python" -m pip install -q --require-hashes --no-deps -r "$lock" || return 1
  # --no-build-isolation: build with the venv's own setuptools, so nothing unpinned is fetched
  "$dir/bin/python" -m pip install -q --no-deps --no-build-isolation -e . || return 1
}
