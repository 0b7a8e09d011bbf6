#!/bin/bash
# Runs one browser end-to-end test (tests/e2e/<name>.mjs) under a hard time
# limit, or SKIPs (exit 77, meson: SKIP) with the reason when the machine
# lacks what it needs:
#
#   run.sh NAME SECONDS [--ternd PATH] [--ternctl PATH] [...]
#
# Needs Debian's chromium (/usr/bin/chromium, or $TERN_CHROMIUM), node >= 18
# and playwright-core in tests/e2e/node_modules (scripts/bootstrap installs
# all three). docs/e2e.md says what each test asserts and how to debug one.
set -u
NAME=${1:?usage: run.sh NAME SECONDS [args...]}
LIMIT=${2:?usage: run.sh NAME SECONDS [args...]}
shift 2
DIR=$(cd "$(dirname "$0")" && pwd)
CHROMIUM=${TERN_CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIP: $*"; exit 77; }
[ -x "$CHROMIUM" ] || skip "no chromium at $CHROMIUM (Debian package chromium; scripts/bootstrap installs it)"
command -v node >/dev/null || skip "node not installed (Debian package nodejs)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 18 ] || skip "node $(node --version) is older than 18"
[ -f "$DIR/node_modules/playwright-core/package.json" ] ||
  skip "playwright-core not installed in tests/e2e/node_modules (run scripts/bootstrap, or: cd tests/e2e && npm ci)"
command -v timeout >/dev/null || skip "timeout not installed (coreutils)"
# SIGTERM at the limit (the harness kills its browser and ternd and exits),
# SIGKILL 10 s later if even that hangs.
timeout -k 10 "$LIMIT" node "$DIR/$NAME.mjs" "$@"
rc=$?
[ $rc -eq 124 ] && echo "FAIL: $NAME: killed after ${LIMIT} s"
exit $rc
