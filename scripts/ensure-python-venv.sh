#!/usr/bin/env bash
# Debian's system Python ships without venv/ensurepip (package python3-venv).
# Install it when we may; otherwise say exactly what is missing.
set -u
python="${1:-python3}"
if "$python" -c "import ensurepip, venv" 2>/dev/null; then exit 0; fi
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing python${version}-venv (Debian's Python has no venv module)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" >/dev/null && exit 0
fi
echo "Python's venv module is missing: install it with 'apt-get install python${version}-venv' and run make again." >&2
exit 1
