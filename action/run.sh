#!/usr/bin/env bash
# Runs the verified cicd binary with the action's `command` and `args` inputs, read from the
# environment (CICD_COMMAND, CICD_ARGS) and split on whitespace into argv: no eval, no shell
# quoting, no globbing, so an input can add arguments but never run anything else. cicd's
# exit code is the step's.
set -euo pipefail
set -f

if [ -z "${CICD_BIN:-}" ] || [ ! -x "$CICD_BIN" ]; then
  echo "::error title=cicd action::the install step did not produce a cicd binary" >&2
  exit 3
fi
words=()
for word in ${CICD_COMMAND:-} ${CICD_ARGS:-}; do words+=("$word"); done
if [ ${#words[@]} -eq 0 ]; then
  echo "::error title=cicd action::the command input is empty (e.g. command: check)" >&2
  exit 2
fi
# cicd writes GITHUB_OUTPUT, the step summary and annotations itself when GITHUB_ACTIONS=true.
exec "$CICD_BIN" "${words[@]}"
