#!/usr/bin/env bash
# System packages some tests need (git is assumed). Installed only when missing and we are
# allowed to (root with apt-get); otherwise the tests that need them skip with a reason.
set -u
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# npm fetches GitHub's pinned OpenAPI description (tests/fakes/descriptions.py) and the Claude Code CLI
command -v npm >/dev/null 2>&1 || need+=(npm)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages for the tests: ${need[*]}" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/tmp/repobox-apt.log 2>&1 \
    || echo "could not install ${need[*]} (see /tmp/repobox-apt.log); tests that need them will skip" >&2
fi
exit 0
