#!/usr/bin/env python3
"""Commits the action's checksum table for one release on the branch `action-v<version>`.

    scripts/dist/commit_action_table.py VERSION DIR

Runs action/update-checksums.sh over DIR's archives, then, through GitHub's REST API, creates
the branch `action-v<VERSION>` at the released commit (GITHUB_SHA) and commits the new
action/checksums.txt on it. That commit is the action's release: pinning `uses:
OWNER/cicd@<its sha>` pins the binaries by their SHA-256. The SHA is printed and written to
$GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT (`action-sha`).

A re-run finds the branch: when it already holds this table it reports the same commit; when
it holds another table it refuses (exit 1) and changes nothing. Environment: GH_TOKEN or
GITHUB_TOKEN (never printed), GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_API_URL (default
https://api.github.com), CICD_HTTP_TIMEOUT (seconds per request, default 30).
Exit codes: 0 committed or already there, 1 the branch holds another table, 2 bad input,
3 GitHub failed after retries.
"""

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLE = "action/checksums.txt"
# GitHub reads the file path percent-encoded, as Octokit sends it (one path segment).
TABLE_PATH = urllib.parse.quote(TABLE, safe="")


class GithubError(Exception):
    pass


def die(code, message):
    print(f"commit_action_table: {message}", file=sys.stderr)
    sys.exit(code)


def env(name, default=None):
    value = os.environ.get(name, default)
    if not value:
        die(2, f"{name} is not set")
    return value


class Github:
    def __init__(self):
        self.api = env("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        self.repo = env("GITHUB_REPOSITORY")
        if self.repo.count("/") != 1 or any(c.isspace() for c in self.repo):
            die(2, f"GITHUB_REPOSITORY={self.repo!r}: expected OWNER/REPO")
        self._token = os.environ.get("GH_TOKEN") or env("GITHUB_TOKEN")
        timeout = os.environ.get("CICD_HTTP_TIMEOUT", "30")
        if not timeout.isdigit() or int(timeout) == 0:
            die(2, f"CICD_HTTP_TIMEOUT={timeout!r}: expected whole seconds")
        self.timeout = int(timeout)

    def call(self, method, path, body=None):
        """(status, JSON) of one call; 5xx and connection failures are retried 3 times."""
        url = f"{self.api}/repos/{self.repo}/{path}"
        data = None if body is None else json.dumps(body).encode()
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "cicd-release",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        last = ""
        for attempt in range(3):
            if attempt:
                time.sleep(attempt)
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return answer.status, json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as e:
                text = e.read()
                if e.code < 500:
                    try:
                        return e.code, json.loads(text or b"null")
                    except ValueError:
                        return e.code, None
                last = f"HTTP {e.code}"
            except (urllib.error.URLError, TimeoutError, OSError, ValueError) as e:
                last = str(getattr(e, "reason", e))
        raise GithubError(f"{method} {url}: {last} (after 3 attempts)")


def existing(gh, branch, table):
    """The head SHA of `branch` when it already holds `table`; exit 1 when it holds another."""
    quoted = urllib.parse.quote(branch, safe="")
    status, file = gh.call("GET", f"contents/{TABLE_PATH}?ref={quoted}")
    if status != 200 or not isinstance(file, dict):
        raise GithubError(f"reading {TABLE} on {branch}: HTTP {status}")
    held = base64.b64decode(file.get("content", "")).decode("utf-8", "replace")
    if held != table:
        die(1, f"{branch} exists and holds another {TABLE}; delete the branch to re-run")
    status, head = gh.call("GET", f"branches/{quoted}")
    sha = head.get("commit", {}).get("sha") if isinstance(head, dict) else None
    if status != 200 or not isinstance(sha, str):
        raise GithubError(f"reading the head of {branch}: HTTP {status}")
    return sha


def commit(gh, version, table, released):
    """Creates the branch at `released` and commits `table` on it; returns the commit SHA."""
    branch = f"action-v{version}"
    status, _ = gh.call("POST", "git/refs", {"ref": f"refs/heads/{branch}", "sha": released})
    if status == 422:
        return existing(gh, branch, table)
    if status != 201:
        raise GithubError(f"creating {branch}: HTTP {status}")
    blob = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", f"{released}:{TABLE}"],
        capture_output=True, text=True, check=False,
    )
    if blob.returncode != 0:
        die(2, f"{released}:{TABLE}: {blob.stderr.strip()}")
    body = {
        "message": f"action: binaries of v{version}",
        "content": base64.b64encode(table.encode()).decode(),
        "sha": blob.stdout.strip(),
        "branch": branch,
    }
    status, answer = gh.call("PUT", f"contents/{TABLE_PATH}", body)
    sha = answer.get("commit", {}).get("sha") if isinstance(answer, dict) else None
    if status not in (200, 201) or not isinstance(sha, str):
        raise GithubError(f"committing {TABLE} on {branch}: HTTP {status}")
    return sha


def report(version, sha, repo):
    line = f"uses: {repo}@{sha} # v{version}"
    print(f"the action's release of v{version}: {line}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(f"### The action's release\n\n```yaml\n- {line}\n```\n")
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as f:
            f.write(f"action-sha={sha}\n")


def main():
    if len(sys.argv) != 3:
        die(2, "usage: commit_action_table.py VERSION DIR")
    version, archives = sys.argv[1], sys.argv[2]
    if not version or any(c.isspace() or c in "/:~^" for c in version):
        die(2, f"version {version!r}: expected X.Y.Z[-PRE]")
    gh = Github()
    released = env("GITHUB_SHA")
    update = subprocess.run([str(ROOT / "action/update-checksums.sh"), gh.repo, version, archives])
    if update.returncode != 0:
        sys.exit(update.returncode)
    table = (ROOT / TABLE).read_text(encoding="utf-8")
    try:
        sha = commit(gh, version, table, released)
    except GithubError as e:
        die(3, str(e))
    report(version, sha, gh.repo)


if __name__ == "__main__":
    main()
