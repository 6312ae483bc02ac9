#!/usr/bin/env python3
"""Generate the `cicd check` benchmark corpus (deterministic, stdlib only).

Usage: gen-check-corpus.py OUT_DIR

Writes a repository-shaped tree into OUT_DIR:

  OUT_DIR/README.md
  OUT_DIR/.github/workflows/*.yml             ~200 workflows, 20-300 lines each
  OUT_DIR/.github/actions/<name>/action.yml    composite (and a few docker) actions
  OUT_DIR/.github/actions/<group>/<name>/action.yml   nested actions

and, next to OUT_DIR, a ground-truth list OUT_DIR.expected.tsv with one line per
unpinned reference the generator wrote: `file<TAB>line<TAB>kind<TAB>reference`
(kind is `action`, `image` or `image-matrix`; 1-based line; file relative to OUT_DIR).

"Pinned" means what `cicd check` and zizmor (policy `"*": hash-pin`, auditor persona)
require: actions and reusable workflows at a full 40-hex commit SHA, images by an
`@sha256:` digest.  Local `./` references are never counted.  A container given as
`image: ${{ matrix.image }}` gets one `image-matrix` entry on that line when at least
one of its matrix values is unpinned.  Roughly 40% of all references are unpinned.
The same seed always produces byte-identical output.
"""

import hashlib
import os
import random
import shutil
import sys

SEED = 0x5EED_C1CD
N_WORKFLOWS = 200
N_ACTIONS = 40

# name -> (tag prefix, latest version, extra non-tag refs people really use);
# a version of None means the action is only ever used by branch (the extras)
ACTIONS = {
    "actions/checkout": ("v", "4.2.2", []),
    "actions/setup-python": ("v", "5.3.0", []),
    "actions/setup-node": ("v", "4.1.0", []),
    "actions/setup-go": ("v", "5.2.0", []),
    "actions/setup-java": ("v", "4.5.0", []),
    "actions/cache": ("v", "4.2.0", []),
    "actions/upload-artifact": ("v", "4.5.0", []),
    "actions/download-artifact": ("v", "4.1.8", []),
    "actions/github-script": ("v", "7.0.1", []),
    "actions/labeler": ("v", "5.0.0", []),
    "actions/stale": ("v", "9.0.0", []),
    "actions/configure-pages": ("v", "5.0.0", []),
    "actions/upload-pages-artifact": ("v", "3.0.1", []),
    "actions/deploy-pages": ("v", "4.0.5", []),
    "actions/attest-build-provenance": ("v", "2.1.0", []),
    "actions/dependency-review-action": ("v", "4.5.0", []),
    "docker/login-action": ("v", "3.3.0", []),
    "docker/setup-buildx-action": ("v", "3.8.0", []),
    "docker/setup-qemu-action": ("v", "3.2.0", []),
    "docker/build-push-action": ("v", "6.10.0", []),
    "docker/metadata-action": ("v", "5.6.1", []),
    "github/codeql-action/init": ("v", "3.28.0", []),
    "github/codeql-action/autobuild": ("v", "3.28.0", []),
    "github/codeql-action/analyze": ("v", "3.28.0", []),
    "github/codeql-action/upload-sarif": ("v", "3.28.0", []),
    "aquasecurity/trivy-action": ("", "0.29.0", []),
    "sigstore/cosign-installer": ("v", "3.7.0", []),
    "anchore/sbom-action": ("v", "0.17.9", []),
    "softprops/action-gh-release": ("v", "2.2.0", []),
    "dtolnay/rust-toolchain": ("", None, ["stable", "nightly", "1.83.0", "master"]),
    "Swatinem/rust-cache": ("v", "2.7.5", []),
    "taiki-e/install-action": ("v", "2.46.9", ["nextest", "cargo-llvm-cov"]),
    "codecov/codecov-action": ("v", "5.1.2", []),
    "peaceiris/actions-gh-pages": ("v", "4.0.0", []),
    "pypa/gh-action-pypi-publish": ("v", "1.12.3", ["release/v1"]),
    "golangci/golangci-lint-action": ("v", "6.1.1", []),
    "goreleaser/goreleaser-action": ("v", "6.1.0", []),
    "aws-actions/configure-aws-credentials": ("v", "4.0.2", []),
    "aws-actions/amazon-ecr-login": ("v", "2.0.1", []),
    "azure/login": ("v", "2.2.0", []),
    "google-github-actions/auth": ("v", "2.1.7", []),
    "google-github-actions/setup-gcloud": ("v", "2.1.2", []),
    "hashicorp/setup-terraform": ("v", "3.1.2", []),
    "azure/setup-kubectl": ("v", "4.0.0", []),
    "azure/setup-helm": ("v", "4.2.0", []),
    "peter-evans/create-pull-request": ("v", "7.0.5", []),
    "release-drafter/release-drafter": ("v", "6.0.0", []),
    "ossf/scorecard-action": ("v", "2.4.0", []),
    "slackapi/slack-github-action": ("v", "2.0.0", []),
    "pnpm/action-setup": ("v", "4.0.0", []),
    "astral-sh/setup-uv": ("v", "5.1.0", []),
    "actions-rs/toolchain": ("v", "1.0.7", []),
    "reviewdog/action-shellcheck": ("v", "1.27.0", []),
    "EnricoMi/publish-unit-test-result-action": ("v", "2.18.0", []),
    "mikepenz/action-junit-report": ("v", "5.2.0", []),
}

REUSABLE_REMOTE = [
    "octo-org/platform-workflows/.github/workflows/go-ci.yml",
    "octo-org/platform-workflows/.github/workflows/container-release.yml",
    "octo-org/security/.github/workflows/scorecard.yml",
    "octo-org/platform-workflows/.github/workflows/helm-deploy.yml",
    "octo-org/.github/.github/workflows/python-lint.yml",
    "octo-org/.github/.github/workflows/semantic-pr.yml",
]

# image repository -> plausible tags
IMAGES = {
    "postgres": ["16", "15-alpine", "14.12", "16.4-bookworm"],
    "redis": ["7", "7-alpine", "7.4.1"],
    "mysql": ["8.0", "8.4", "5.7"],
    "mongo": ["7.0", "6.0.19"],
    "rabbitmq": ["3-management", "3.13-alpine"],
    "memcached": ["1.6-alpine"],
    "docker.elastic.co/elasticsearch/elasticsearch": ["8.15.0", "7.17.25"],
    "localstack/localstack": ["3", "3.8.1"],
    "bitnami/kafka": ["3.7", "3.8.1"],
    "minio/minio": ["RELEASE.2024-11-07T00-52-20Z"],
    "mcr.microsoft.com/mssql/server": ["2022-latest", "2019-CU28-ubuntu-20.04"],
    "registry": ["2", "2.8.3"],
    "ghcr.io/octo-org/test-fixtures": ["v12", "2024.11"],
}
JOB_IMAGES = {
    "node": ["20", "22-bookworm", "18-alpine", "20.18.1-slim"],
    "python": ["3.12", "3.12-slim", "3.11-bookworm", "3.13.1-alpine"],
    "golang": ["1.23", "1.22-bookworm", "1.23.4-alpine"],
    "rust": ["1.83", "1.83-slim-bookworm", "1-alpine"],
    "ubuntu": ["24.04", "22.04", "noble"],
    "debian": ["bookworm-slim", "12", "trixie"],
    "alpine": ["3.20", "3.21"],
    "fedora": ["41", "40"],
    "mcr.microsoft.com/dotnet/sdk": ["8.0", "9.0-bookworm-slim"],
    "ghcr.io/octo-org/ci-base": ["v3", "2024.12.1"],
    "public.ecr.aws/docker/library/amazonlinux": ["2023"],
    "quay.io/pypa/manylinux_2_28_x86_64": ["2024.11.16-1"],
}
STEP_IMAGES = {
    "hadolint/hadolint": ["v2.12.0", "v2.12.0-alpine"],
    "koalaman/shellcheck": ["stable", "v0.10.0"],
    "alpine": ["3.20", "3.21"],
    "ghcr.io/octo-org/release-tools": ["v1.4.0", "2.0"],
    "mikefarah/yq": ["4", "4.44.6"],
    "bitnami/kubectl": ["1.31", "1.31.4"],
    "hashicorp/terraform": ["1.10", "1.10.3"],
    "aquasec/trivy": ["0.58.0"],
    "zricethezav/gitleaks": ["v8.21.2"],
    "returntocorp/semgrep": ["1.99.0"],
}

PY_VERSIONS = ['"3.9"', '"3.10"', '"3.11"', '"3.12"', '"3.13"']
NODE_VERSIONS = ["18", "20", "22"]
GO_VERSIONS = ['"1.22"', '"1.23"']
OSES = ["ubuntu-latest", "ubuntu-24.04", "macos-latest", "windows-latest", "ubuntu-22.04"]
WORDS = [
    "api", "web", "worker", "cli", "core", "sdk", "gateway", "billing", "auth", "search",
    "ingest", "scheduler", "notifier", "frontend", "backend", "operator", "agent", "proxy",
    "exporter", "indexer", "mailer", "ledger", "reports", "uploader", "cache", "router",
]


def sha1hex(*parts):
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()


def sha256hex(*parts):
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class File:
    """Accumulates the lines of one file and the unpinned references in it."""

    def __init__(self, rel, rng, unpinned_rate):
        self.rel = rel
        self.rng = rng
        self.rate = unpinned_rate
        self.lines = []
        self.expected = []  # (line, kind, ref)
        self.counts = {"pinned": 0, "unpinned": 0}

    def add(self, text=""):
        self.lines.append(text)

    def extend(self, indent, block):
        for line in block.strip("\n").split("\n"):
            self.lines.append((" " * indent + line) if line else "")

    def _mark(self, unpinned, kind, ref):
        self.counts["unpinned" if unpinned else "pinned"] += 1
        if unpinned:
            self.expected.append((len(self.lines) + 1, kind, ref))

    def _quote(self, value):
        r = self.rng.random()
        if r < 0.08:
            return "'%s'" % value
        if r < 0.14:
            return '"%s"' % value
        return value

    # -- actions ---------------------------------------------------------------

    def action_ref(self, name, force=None):
        """Return (ref_string, trailing comment, unpinned?) for a `uses:` of name."""
        prefix, version, extra = ACTIONS[name]
        unpinned = self.rng.random() < self.rate if force is None else force
        if version is None:
            branch = self.rng.choice(extra)
            if unpinned:
                return "%s@%s" % (name, branch), "", True
            return "%s@%s" % (name, sha1hex(name, branch)), "  # %s" % branch, False
        major = version.split(".")[0]
        if not unpinned:
            sha = sha1hex(name.split("/")[0] + "/" + name.split("/")[1], version)
            comment = ""
            r = self.rng.random()
            if r < 0.7:
                comment = "  # %s%s" % (prefix, version)
            elif r < 0.85:
                comment = "  # %s%s" % (prefix, major)
            return "%s@%s" % (name, sha), comment, False
        r = self.rng.random()
        if extra and r < 0.35:
            ref = self.rng.choice(extra)
        elif r < 0.50:
            ref = prefix + major
        elif r < 0.72:
            ref = prefix + version
        elif r < 0.80:
            ref = prefix + ".".join(version.split(".")[:2])
        elif r < 0.88:
            ref = "main"
        elif r < 0.94:
            ref = "master"
        else:
            ref = sha1hex(name, version, "short")[:7]  # short SHA: not a pin
        return "%s@%s" % (name, ref), "", True

    def uses_step(self, indent, name, with_=None, step_name=None, step_id=None, force=None):
        ref, comment, unpinned = self.action_ref(name, force)
        pad = " " * indent
        first = True

        def lead():
            nonlocal first
            if first:
                first = False
                return pad + "- "
            return pad + "  "

        if step_name:
            self.add(lead() + "name: " + step_name)
        if step_id:
            self.add(lead() + "id: " + step_id)
        self._mark(unpinned, "action", ref)
        self.add(lead() + "uses: " + self._quote(ref) + comment)
        if with_:
            self.add(pad + "  with:")
            for k, v in with_:
                if "\n" in v:
                    self.add(pad + "    %s: |" % k)
                    for line in v.split("\n"):
                        self.add(pad + "      " + line)
                else:
                    self.add(pad + "    %s: %s" % (k, v))

    def local_step(self, indent, path, with_=None):
        pad = " " * indent
        self.add(pad + "- uses: " + path)
        if with_:
            self.add(pad + "  with:")
            for k, v in with_:
                self.add(pad + "    %s: %s" % (k, v))

    def run_step(self, indent, name, script, shell=None, env=None, cond=None, wd=None):
        pad = " " * indent
        self.add(pad + "- name: " + name)
        if cond:
            self.add(pad + "  if: " + cond)
        if wd:
            self.add(pad + "  working-directory: " + wd)
        if env:
            self.add(pad + "  env:")
            for k, v in env:
                self.add(pad + "    %s: %s" % (k, v))
        if shell:
            self.add(pad + "  shell: " + shell)
        lines = script.strip("\n").split("\n")
        if len(lines) == 1:
            self.add(pad + "  run: " + lines[0])
        else:
            self.add(pad + "  run: |")
            for line in lines:
                self.add(pad + "    " + line)

    # -- images ----------------------------------------------------------------

    def image_ref(self, repo, tags, force=None):
        unpinned = self.rng.random() < self.rate if force is None else force
        tag = self.rng.choice(tags)
        if not unpinned:
            digest = "sha256:" + sha256hex(repo, tag)
            if self.rng.random() < 0.75:
                return "%s:%s@%s" % (repo, tag, digest), False
            return "%s@%s" % (repo, digest), False
        r = self.rng.random()
        if r < 0.45:
            return "%s:%s" % (repo, tag), True
        if r < 0.75:
            return "%s:latest" % repo, True
        return repo, True

    def image_line(self, indent, key, repo, tags, force=None):
        ref, unpinned = self.image_ref(repo, tags, force)
        self._mark(unpinned, "image", ref)
        self.add(" " * indent + "%s: %s" % (key, self._quote(ref)))

    def docker_step(self, indent, repo, tags, args=None, step_name=None, force=None):
        ref, unpinned = self.image_ref(repo, tags, force)
        pad = " " * indent
        if step_name:
            self.add(pad + "- name: " + step_name)
            self._mark(unpinned, "image", "docker://" + ref)
            self.add(pad + "  uses: " + self._quote("docker://" + ref))
        else:
            self._mark(unpinned, "image", "docker://" + ref)
            self.add(pad + "- uses: " + self._quote("docker://" + ref))
        if args:
            self.add(pad + "  with:")
            self.add(pad + "    args: " + args)

    def text(self):
        return "\n".join(self.lines) + "\n"


# ----------------------------------------------------------------------------
# job generators: each appends one job (indent 2) to f and returns its id
# ----------------------------------------------------------------------------


def permissions(f, indent, perms):
    pad = " " * indent
    if not perms:
        f.add(pad + "permissions: {}")
        return
    f.add(pad + "permissions:")
    for p in perms:
        f.add(pad + "  " + p)


def checkout(f, steps_indent, rng):
    with_ = []
    r = rng.random()
    if r < 0.5:
        with_.append(("persist-credentials", "false"))
    if rng.random() < 0.2:
        with_.append(("fetch-depth", "0"))
    f.uses_step(steps_indent, "actions/checkout", with_ or None)


def job_header(f, jid, name, runs_on, needs=None, perms=None, timeout=None, cond=None, env=None):
    f.add("  %s:" % jid)
    if name:
        f.add("    name: " + name)
    if needs:
        if len(needs) == 1:
            f.add("    needs: " + needs[0])
        else:
            f.add("    needs: [%s]" % ", ".join(needs))
    if cond:
        f.add("    if: " + cond)
    f.add("    runs-on: " + runs_on)
    if perms is not None:
        permissions(f, 4, perms)
    if timeout:
        f.add("    timeout-minutes: %d" % timeout)
    if env:
        f.add("    env:")
        for k, v in env:
            f.add("      %s: %s" % (k, v))


def lang_setup(f, rng, lang, ind=6, matrix=False):
    if lang == "python":
        ver = "${{ matrix.python-version }}" if matrix else rng.choice(PY_VERSIONS)
        f.uses_step(ind, "actions/setup-python", [("python-version", ver), ("cache", "pip")])
        f.run_step(ind, "Install dependencies", "python -m pip install --upgrade pip\npip install -r requirements-dev.txt\npip install -e .")
    elif lang == "node":
        ver = "${{ matrix.node-version }}" if matrix else rng.choice(NODE_VERSIONS)
        if rng.random() < 0.3:
            f.uses_step(ind, "pnpm/action-setup", [("version", "9")])
            f.uses_step(ind, "actions/setup-node", [("node-version", ver), ("cache", "pnpm")])
            f.run_step(ind, "Install", "pnpm install --frozen-lockfile")
        else:
            f.uses_step(ind, "actions/setup-node", [("node-version", ver), ("cache", "npm")])
            f.run_step(ind, "Install", "npm ci")
    elif lang == "go":
        ver = "${{ matrix.go-version }}" if matrix else rng.choice(GO_VERSIONS)
        f.uses_step(ind, "actions/setup-go", [("go-version", ver), ("cache", "true")])
        f.run_step(ind, "Download modules", "go mod download")
    elif lang == "rust":
        f.uses_step(ind, "dtolnay/rust-toolchain", [("components", "clippy, rustfmt")])
        f.uses_step(ind, "Swatinem/rust-cache", None)
    elif lang == "java":
        f.uses_step(ind, "actions/setup-java", [("distribution", "temurin"), ("java-version", "21"), ("cache", "gradle")])


TEST_CMDS = {
    "python": "pytest -q --cov=src --cov-report=xml --junitxml=junit.xml",
    "node": "npm test -- --ci --reporters=default --reporters=jest-junit",
    "go": "go test -race -coverprofile=coverage.out ./...",
    "rust": "cargo test --workspace --all-features --locked",
    "java": "./gradlew check --no-daemon",
}
LINT_CMDS = {
    "python": "ruff check .\nruff format --check .\nmypy src",
    "node": "npm run lint\nnpm run typecheck",
    "go": "go vet ./...\ngofmt -l . | tee /dev/stderr | (! read)",
    "rust": "cargo fmt --all -- --check\ncargo clippy --all-targets --all-features -- -D warnings",
    "java": "./gradlew spotlessCheck --no-daemon",
}


def j_lint(f, rng, ctx, jid):
    lang = ctx["lang"]
    job_header(f, jid, "Lint", "ubuntu-latest", perms=["contents: read"], timeout=rng.choice([10, 15, 20]))
    f.add("    steps:")
    checkout(f, 6, rng)
    lang_setup(f, rng, lang)
    f.run_step(6, "Lint", LINT_CMDS[lang])
    if lang == "go" and rng.random() < 0.6:
        f.uses_step(6, "golangci/golangci-lint-action", [("version", "v1.62"), ("args", "--timeout=5m")])
    if rng.random() < 0.3:
        f.uses_step(6, "reviewdog/action-shellcheck", [("reporter", "github-pr-review"), ("path", "scripts")])
    if rng.random() < 0.3:
        f.docker_step(6, "hadolint/hadolint", STEP_IMAGES["hadolint/hadolint"], args="hadolint Dockerfile", step_name="Hadolint")
    return jid


def j_test_matrix(f, rng, ctx, jid):
    lang = ctx["lang"]
    f.add("  %s:" % jid)
    f.add("    name: Test (${{ matrix.os }})")
    f.add("    runs-on: ${{ matrix.os }}")
    f.add("    strategy:")
    f.add("      fail-fast: false")
    f.add("      matrix:")
    oses = rng.sample(OSES, rng.randint(1, 3))
    f.add("        os: [%s]" % ", ".join(oses))
    if lang == "python":
        f.add("        python-version: [%s]" % ", ".join(rng.sample(PY_VERSIONS, rng.randint(2, 4))))
    elif lang == "node":
        f.add("        node-version: [%s]" % ", ".join(rng.sample(NODE_VERSIONS, 2)))
    elif lang == "go":
        f.add("        go-version: [%s]" % ", ".join(GO_VERSIONS))
    if rng.random() < 0.4:
        f.add("        include:")
        f.add("          - os: ubuntu-latest")
        f.add("            experimental: true")
    f.add("    steps:")
    checkout(f, 6, rng)
    lang_setup(f, rng, lang, matrix=lang in ("python", "node", "go"))
    if rng.random() < 0.5:
        f.uses_step(6, "actions/cache", [("path", "~/.cache/pre-commit"), ("key", "pre-commit-${{ runner.os }}-${{ hashFiles('.pre-commit-config.yaml') }}")], step_name="Cache pre-commit")
    f.run_step(6, "Test", TEST_CMDS[lang], shell="bash")
    if rng.random() < 0.6:
        f.uses_step(6, "codecov/codecov-action", [("token", "${{ secrets.CODECOV_TOKEN }}"), ("fail_ci_if_error", "true")])
    if rng.random() < 0.5:
        f.uses_step(6, "actions/upload-artifact", [("name", "test-results-${{ matrix.os }}"), ("path", "junit.xml"), ("retention-days", "7")], step_name="Upload test results")
    return jid


def services_block(f, rng, n):
    f.add("    services:")
    for repo in rng.sample(sorted(IMAGES), n):
        sid = repo.split("/")[-1].split("-")[0].replace(".", "")
        f.add("      %s:" % sid)
        f.image_line(8, "image", repo, IMAGES[repo])
        if repo == "postgres":
            f.extend(8, """
env:
  POSTGRES_USER: app
  POSTGRES_PASSWORD: ${{ secrets.TEST_DB_PASSWORD }}
  POSTGRES_DB: app_test
ports:
  - 5432:5432
options: >-
  --health-cmd "pg_isready -U app"
  --health-interval 10s
  --health-timeout 5s
  --health-retries 5""")
        elif repo == "redis":
            f.extend(8, """
ports:
  - 6379:6379
options: --health-cmd "redis-cli ping" --health-interval 10s --health-timeout 5s --health-retries 5""")
        elif repo == "mysql":
            f.extend(8, """
env:
  MYSQL_ROOT_PASSWORD: ${{ secrets.TEST_DB_PASSWORD }}
  MYSQL_DATABASE: app_test
ports:
  - 3306:3306""")
        elif rng.random() < 0.6:
            f.extend(8, """
ports:
  - %d:%d""" % ((rng.randint(2000, 9999),) * 2))


def j_services(f, rng, ctx, jid):
    lang = ctx["lang"]
    job_header(f, jid, "Integration tests", "ubuntu-latest", needs=ctx["prev"][-1:] or None,
               perms=["contents: read"], timeout=30,
               env=[("DATABASE_URL", "postgres://app:${{ secrets.TEST_DB_PASSWORD }}@localhost:5432/app_test"), ("REDIS_URL", "redis://localhost:6379/0")])
    services_block(f, rng, rng.randint(1, 3))
    f.add("    steps:")
    checkout(f, 6, rng)
    lang_setup(f, rng, lang)
    f.run_step(6, "Run migrations", "make migrate")
    f.run_step(6, "Integration tests", TEST_CMDS[lang].replace("./...", "./integration/...") + "\n" + "echo \"integration suite finished\"")
    if rng.random() < 0.4:
        f.uses_step(6, "EnricoMi/publish-unit-test-result-action", [("files", "junit.xml")], step_name="Publish results")
    return jid


def j_container(f, rng, ctx, jid):
    repo = rng.choice(sorted(JOB_IMAGES))
    job_header(f, jid, "Build in %s" % repo.split("/")[-1], "ubuntu-latest", perms=["contents: read"])
    if rng.random() < 0.5:
        f.image_line(4, "container", repo, JOB_IMAGES[repo])
    else:
        f.add("    container:")
        f.image_line(6, "image", repo, JOB_IMAGES[repo])
        if repo.startswith("ghcr.io"):
            f.extend(6, """
credentials:
  username: ${{ github.actor }}
  password: ${{ secrets.GITHUB_TOKEN }}""")
        if rng.random() < 0.5:
            f.add("      options: --user 1001 --cpus 2")
        if rng.random() < 0.4:
            f.extend(6, """
env:
  CI: "true"
  HOME: /tmp/home""")
        if rng.random() < 0.3:
            f.extend(6, """
volumes:
  - /tmp/cache:/cache""")
    if rng.random() < 0.35:
        services_block(f, rng, 1)
    f.add("    steps:")
    checkout(f, 6, rng)
    f.run_step(6, "Toolchain info", "uname -a\ncat /etc/os-release || true")
    f.run_step(6, "Build", rng.choice(["make -j\"$(nproc)\" all", "./build.sh --release", "cmake -B build -S . && cmake --build build -j"]))
    f.run_step(6, "Test", rng.choice(["make check", "ctest --test-dir build --output-on-failure", "./build.sh test"]))
    if rng.random() < 0.5:
        f.uses_step(6, "actions/upload-artifact", [("name", "build-${{ github.sha }}"), ("path", "build/out/")])
    return jid


def j_docker(f, rng, ctx, jid):
    svc = ctx["svc"]
    job_header(f, jid, "Build and push image", "ubuntu-latest", needs=ctx["prev"][-1:] or None,
               perms=["contents: read", "packages: write", "id-token: write", "attestations: write"], timeout=45,
               env=[("REGISTRY", "ghcr.io"), ("IMAGE_NAME", "${{ github.repository }}/%s" % svc)])
    f.add("    outputs:")
    f.add("      digest: ${{ steps.build.outputs.digest }}")
    f.add("    steps:")
    checkout(f, 6, rng)
    if rng.random() < 0.6:
        f.uses_step(6, "docker/setup-qemu-action", None, step_name="Set up QEMU")
    f.uses_step(6, "docker/setup-buildx-action", None, step_name="Set up Buildx")
    f.uses_step(6, "docker/login-action", [("registry", "${{ env.REGISTRY }}"), ("username", "${{ github.actor }}"), ("password", "${{ secrets.GITHUB_TOKEN }}")], step_name="Log in to GHCR")
    if rng.random() < 0.3:
        f.uses_step(6, "aws-actions/configure-aws-credentials", [("role-to-assume", "arn:aws:iam::123456789012:role/ci-ecr-push"), ("aws-region", "us-east-1")])
        f.uses_step(6, "aws-actions/amazon-ecr-login", None, step_id="ecr")
    f.uses_step(6, "docker/metadata-action", [("images", "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}"), ("tags", "type=ref,event=branch\ntype=ref,event=pr\ntype=semver,pattern={{version}}\ntype=sha")], step_name="Docker metadata", step_id="meta")
    f.uses_step(6, "docker/build-push-action", [("context", "."), ("file", "./%s/Dockerfile" % svc), ("platforms", "linux/amd64,linux/arm64"), ("push", "${{ github.event_name != 'pull_request' }}"), ("tags", "${{ steps.meta.outputs.tags }}"), ("labels", "${{ steps.meta.outputs.labels }}"), ("cache-from", "type=gha"), ("cache-to", "type=gha,mode=max")], step_name="Build and push", step_id="build")
    if rng.random() < 0.5:
        f.uses_step(6, "sigstore/cosign-installer", None)
        f.run_step(6, "Sign image", "cosign sign --yes \"${REGISTRY}/${IMAGE_NAME}@${DIGEST}\"", env=[("DIGEST", "${{ steps.build.outputs.digest }}")], cond="github.event_name != 'pull_request'")
    if rng.random() < 0.4:
        f.uses_step(6, "anchore/sbom-action", [("image", "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}@${{ steps.build.outputs.digest }}"), ("format", "cyclonedx-json")])
    if rng.random() < 0.5:
        f.uses_step(6, "aquasecurity/trivy-action", [("image-ref", "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}@${{ steps.build.outputs.digest }}"), ("format", "sarif"), ("output", "trivy.sarif"), ("severity", "CRITICAL,HIGH")], step_name="Scan image")
        f.uses_step(6, "github/codeql-action/upload-sarif", [("sarif_file", "trivy.sarif")], step_name="Upload scan results")
    if rng.random() < 0.4:
        f.uses_step(6, "actions/attest-build-provenance", [("subject-name", "${{ env.REGISTRY }}/${{ env.IMAGE_NAME }}"), ("subject-digest", "${{ steps.build.outputs.digest }}"), ("push-to-registry", "true")])
    return jid


def j_docker_steps(f, rng, ctx, jid):
    job_header(f, jid, "Repository checks", "ubuntu-latest", perms=["contents: read"])
    f.add("    steps:")
    checkout(f, 6, rng)
    for repo in rng.sample(sorted(STEP_IMAGES), rng.randint(1, 4)):
        args = {
            "hadolint/hadolint": "hadolint --failure-threshold warning Dockerfile",
            "koalaman/shellcheck": "-x scripts/*.sh",
            "mikefarah/yq": "eval '.version' chart/Chart.yaml",
            "bitnami/kubectl": "kustomize deploy/overlays/staging",
            "hashicorp/terraform": "fmt -check -recursive infra/",
            "aquasec/trivy": "fs --exit-code 1 --severity CRITICAL .",
            "zricethezav/gitleaks": "detect --source . --no-banner",
            "returntocorp/semgrep": "semgrep scan --config auto --error",
        }.get(repo, "sh -c 'echo checking'")
        f.docker_step(6, repo, STEP_IMAGES[repo], args=args, step_name=rng.choice([None, "Run " + repo.split("/")[-1]]))
    return jid


def j_release(f, rng, ctx, jid):
    lang = ctx["lang"]
    job_header(f, jid, "Release", "ubuntu-latest", needs=ctx["prev"][-2:] or None,
               perms=["contents: write", "id-token: write"], cond="startsWith(github.ref, 'refs/tags/v')")
    if rng.random() < 0.5:
        f.add("    environment:")
        f.add("      name: release")
        f.add("      url: https://github.com/${{ github.repository }}/releases")
    f.add("    steps:")
    f.uses_step(6, "actions/checkout", [("fetch-depth", "0"), ("persist-credentials", "false")])
    lang_setup(f, rng, lang)
    if lang == "go":
        f.uses_step(6, "goreleaser/goreleaser-action", [("distribution", "goreleaser"), ("version", "~> v2"), ("args", "release --clean")], step_name="GoReleaser")
    elif lang == "python":
        f.run_step(6, "Build sdist and wheel", "python -m pip install build\npython -m build")
        f.uses_step(6, "pypa/gh-action-pypi-publish", [("print-hash", "true")], step_name="Publish to PyPI")
    elif lang == "node":
        f.run_step(6, "Publish", "npm publish --provenance --access public", env=[("NODE_AUTH_TOKEN", "${{ secrets.NPM_TOKEN }}")])
    else:
        f.run_step(6, "Build release artifacts", "mkdir -p dist\nmake dist VERSION=\"${GITHUB_REF_NAME#v}\"\nsha256sum dist/* > dist/SHA256SUMS")
    if rng.random() < 0.5:
        f.uses_step(6, "actions/download-artifact", [("path", "dist"), ("merge-multiple", "true")])
    f.uses_step(6, "softprops/action-gh-release", [("files", "dist/*"), ("generate_release_notes", "true"), ("draft", rng.choice(["true", "false"]))], step_name="Create GitHub release")
    if rng.random() < 0.3:
        f.uses_step(6, "slackapi/slack-github-action", [("webhook", "${{ secrets.SLACK_WEBHOOK_URL }}"), ("webhook-type", "incoming-webhook"), ("payload", "text: \"Released ${{ github.ref_name }}\"\nchannel: releases")], step_name="Notify Slack")
    return jid


def j_codeql(f, rng, ctx, jid):
    lang = {"python": "python", "node": "javascript-typescript", "go": "go", "rust": "rust", "java": "java-kotlin"}[ctx["lang"]]
    f.add("  %s:" % jid)
    f.add("    name: Analyze (${{ matrix.language }})")
    f.add("    runs-on: ubuntu-latest")
    permissions(f, 4, ["actions: read", "contents: read", "security-events: write"])
    f.add("    strategy:")
    f.add("      fail-fast: false")
    f.add("      matrix:")
    f.add("        language: [%s]" % ", ".join(sorted({lang, "actions"})))
    f.add("    steps:")
    checkout(f, 6, rng)
    f.uses_step(6, "github/codeql-action/init", [("languages", "${{ matrix.language }}"), ("queries", "security-extended")], step_name="Initialize CodeQL")
    if rng.random() < 0.5:
        f.uses_step(6, "github/codeql-action/autobuild", None)
    f.uses_step(6, "github/codeql-action/analyze", [("category", "/language:${{ matrix.language }}")], step_name="Perform CodeQL Analysis")
    return jid


def j_reusable_call(f, rng, ctx, jid):
    f.add("  %s:" % jid)
    if ctx["prev"] and rng.random() < 0.5:
        f.add("    needs: " + ctx["prev"][-1])
    if rng.random() < 0.35 and ctx["local_reusables"]:
        f.add("    uses: ./.github/workflows/%s" % rng.choice(ctx["local_reusables"]))
    else:
        target = rng.choice(REUSABLE_REMOTE)
        unpinned = rng.random() < f.rate
        if unpinned:
            ref = "%s@%s" % (target, rng.choice(["main", "v2", "v2.3.0", "master"]))
        else:
            ref = "%s@%s" % (target, sha1hex(target, "v2.3.0"))
        f._mark(unpinned, "action", ref)
        f.add("    uses: " + f._quote(ref) + ("" if unpinned else "  # v2.3.0"))
    permissions(f, 4, ["contents: read", "packages: write", "id-token: write"][: rng.randint(1, 3)])
    f.add("    with:")
    f.add("      service: " + ctx["svc"])
    f.add("      environment: " + rng.choice(["staging", "production", "dev"]))
    if rng.random() < 0.5:
        f.add("      dry-run: ${{ github.event_name == 'pull_request' }}")
    if rng.random() < 0.5:
        f.add("    secrets: inherit")
    else:
        f.add("    secrets:")
        f.add("      registry-token: ${{ secrets.REGISTRY_TOKEN }}")
    return jid


def j_deploy(f, rng, ctx, jid):
    env = rng.choice(["staging", "production"])
    job_header(f, jid, "Deploy to %s" % env, "ubuntu-latest", needs=ctx["prev"][-1:] or None,
               perms=["contents: read", "id-token: write"], cond="github.ref == 'refs/heads/main'")
    f.add("    environment: " + env)
    f.add("    concurrency:")
    f.add("      group: deploy-%s" % env)
    f.add("      cancel-in-progress: false")
    f.add("    steps:")
    checkout(f, 6, rng)
    cloud = rng.choice(["aws", "gcp", "azure"])
    if cloud == "aws":
        f.uses_step(6, "aws-actions/configure-aws-credentials", [("role-to-assume", "${{ vars.DEPLOY_ROLE_ARN }}"), ("aws-region", "eu-west-1")])
    elif cloud == "gcp":
        f.uses_step(6, "google-github-actions/auth", [("workload_identity_provider", "${{ vars.WIF_PROVIDER }}"), ("service_account", "deployer@octo-prod.iam.gserviceaccount.com")])
        f.uses_step(6, "google-github-actions/setup-gcloud", None)
    else:
        f.uses_step(6, "azure/login", [("client-id", "${{ secrets.AZURE_CLIENT_ID }}"), ("tenant-id", "${{ secrets.AZURE_TENANT_ID }}"), ("subscription-id", "${{ secrets.AZURE_SUBSCRIPTION_ID }}")])
    if rng.random() < 0.5:
        f.uses_step(6, "azure/setup-kubectl", None)
        f.uses_step(6, "azure/setup-helm", None)
        f.run_step(6, "Helm upgrade", "helm upgrade --install %s ./chart \\\n  --namespace %s --create-namespace \\\n  --set image.digest=\"${DIGEST}\" \\\n  --wait --timeout 10m" % (ctx["svc"], env), env=[("DIGEST", "${{ needs.%s.outputs.digest }}" % ctx["prev"][-1] if ctx["prev"] else "${{ github.sha }}")])
    else:
        f.uses_step(6, "hashicorp/setup-terraform", [("terraform_version", "1.10.3")])
        f.run_step(6, "Terraform apply", "terraform init -input=false\nterraform apply -input=false -auto-approve -var \"env=%s\"" % env, wd="infra/%s" % env)
    if rng.random() < 0.35:
        f.docker_step(6, "bitnami/kubectl", STEP_IMAGES["bitnami/kubectl"], args="rollout status deploy/%s -n %s" % (ctx["svc"], env), step_name="Wait for rollout")
    if ctx["local_actions"] and rng.random() < 0.5:
        f.local_step(6, "./.github/actions/" + rng.choice(ctx["local_actions"]), [("environment", env)])
    return jid


def j_docs(f, rng, ctx, jid):
    job_header(f, jid, "Docs", "ubuntu-latest", perms=["contents: read", "pages: write", "id-token: write"])
    f.add("    environment:")
    f.add("      name: github-pages")
    f.add("      url: ${{ steps.deployment.outputs.page_url }}")
    f.add("    steps:")
    checkout(f, 6, rng)
    f.uses_step(6, "actions/setup-python", [("python-version", '"3.12"')])
    f.run_step(6, "Build site", "pip install -r docs/requirements.txt\nmkdocs build --strict --site-dir _site")
    if rng.random() < 0.5:
        f.uses_step(6, "actions/configure-pages", None)
        f.uses_step(6, "actions/upload-pages-artifact", [("path", "_site")])
        f.uses_step(6, "actions/deploy-pages", None, step_id="deployment")
    else:
        f.uses_step(6, "peaceiris/actions-gh-pages", [("github_token", "${{ secrets.GITHUB_TOKEN }}"), ("publish_dir", "./_site")], step_id="deployment")
    return jid


def j_rust(f, rng, ctx, jid):
    job_header(f, jid, "Rust checks", rng.choice(["ubuntu-latest", "ubuntu-24.04"]), perms=["contents: read"],
               env=[("CARGO_TERM_COLOR", "always"), ("RUSTFLAGS", "-D warnings")])
    f.add("    steps:")
    checkout(f, 6, rng)
    if rng.random() < 0.2:
        f.uses_step(6, "actions-rs/toolchain", [("toolchain", "stable"), ("override", "true")])
    else:
        f.uses_step(6, "dtolnay/rust-toolchain", [("components", "clippy, rustfmt")])
    f.uses_step(6, "Swatinem/rust-cache", [("cache-on-failure", "true")])
    f.uses_step(6, "taiki-e/install-action", [("tool", "cargo-nextest,cargo-deny")])
    f.run_step(6, "Clippy", "cargo clippy --workspace --all-targets --locked")
    f.run_step(6, "Tests", "cargo nextest run --workspace --locked\ncargo test --doc --locked")
    f.run_step(6, "Deny", "cargo deny check")
    return jid


def j_local(f, rng, ctx, jid):
    job_header(f, jid, "Build with shared actions", "ubuntu-latest", perms=["contents: read"])
    f.add("    steps:")
    checkout(f, 6, rng)
    for a in rng.sample(ctx["local_actions"], min(len(ctx["local_actions"]), rng.randint(1, 3))):
        f.local_step(6, "./.github/actions/" + a, [("token", "${{ secrets.GITHUB_TOKEN }}")] if rng.random() < 0.3 else None)
    f.run_step(6, "Build", "make build")
    return jid


def j_housekeeping(f, rng, ctx, jid):
    kind = rng.choice(["stale", "labeler", "scorecard", "dependency-review", "create-pr"])
    if kind == "stale":
        job_header(f, jid, "Stale", "ubuntu-latest", perms=["issues: write", "pull-requests: write"])
        f.add("    steps:")
        f.uses_step(6, "actions/stale", [("days-before-stale", "60"), ("days-before-close", "14"), ("stale-issue-label", "stale"), ("exempt-issue-labels", "pinned,security")])
    elif kind == "labeler":
        job_header(f, jid, "Label PR", "ubuntu-latest", perms=["contents: read", "pull-requests: write"])
        f.add("    steps:")
        f.uses_step(6, "actions/labeler", [("sync-labels", "true")])
    elif kind == "scorecard":
        job_header(f, jid, "Scorecard", "ubuntu-latest", perms=["security-events: write", "id-token: write", "contents: read"])
        f.add("    steps:")
        f.uses_step(6, "actions/checkout", [("persist-credentials", "false")])
        f.uses_step(6, "ossf/scorecard-action", [("results_file", "results.sarif"), ("results_format", "sarif"), ("publish_results", "true")])
        f.uses_step(6, "github/codeql-action/upload-sarif", [("sarif_file", "results.sarif")])
    elif kind == "dependency-review":
        job_header(f, jid, "Dependency review", "ubuntu-latest", perms=["contents: read", "pull-requests: write"])
        f.add("    steps:")
        checkout(f, 6, rng)
        f.uses_step(6, "actions/dependency-review-action", [("fail-on-severity", "high"), ("comment-summary-in-pr", "on-failure")])
    else:
        job_header(f, jid, "Update generated files", "ubuntu-latest", perms=["contents: write", "pull-requests: write"])
        f.add("    steps:")
        checkout(f, 6, rng)
        f.run_step(6, "Regenerate", "make generate\ngit status --porcelain")
        f.uses_step(6, "peter-evans/create-pull-request", [("commit-message", "\"chore: regenerate\""), ("branch", "bot/regenerate"), ("title", "\"chore: regenerate files\"")])
    f.uses_step(6, "actions/github-script", [("script", "core.info(`run ${context.runId} for ${context.repo.repo}`)")], step_name="Log run")
    return jid


def j_matrix_container(f, rng, ctx, jid):
    # Container image taken from a matrix expression.  The matrix values are the
    # references; the ground truth puts one entry on the `image: ${{ matrix.image }}`
    # line when at least one value is unpinned (that is where a finding points).
    f.add("  %s:" % jid)
    f.add("    name: Distro test (${{ matrix.image }})")
    f.add("    runs-on: ubuntu-latest")
    f.add("    strategy:")
    f.add("      matrix:")
    f.add("        image:")
    refs = []
    for repo in rng.sample(["debian", "ubuntu", "fedora", "alpine"], rng.randint(2, 3)):
        ref, unpinned = f.image_ref(repo, JOB_IMAGES[repo])
        f.counts["unpinned" if unpinned else "pinned"] += 1
        refs.append((ref, unpinned))
        f.add("          - " + f._quote(ref))
    f.add("    container:")
    bad = [r for r, u in refs if u]
    if bad:
        f.expected.append((len(f.lines) + 1, "image-matrix", ",".join(bad)))
    f.add("      image: ${{ matrix.image }}")
    f.add("    steps:")
    checkout(f, 6, rng)
    f.run_step(6, "Smoke test", "./scripts/install-deps.sh\nmake smoke")
    return jid


POOLS = {
    "ci": [j_lint, j_test_matrix, j_services, j_container, j_docker_steps, j_rust, j_local, j_matrix_container],
    "docker": [j_docker, j_docker_steps, j_container, j_services, j_deploy],
    "release": [j_test_matrix, j_docker, j_release, j_reusable_call],
    "deploy": [j_reusable_call, j_deploy, j_docker, j_local],
    "security": [j_codeql, j_docker_steps, j_housekeeping],
    "docs": [j_docs, j_lint],
    "housekeeping": [j_housekeeping],
    "nightly": [j_test_matrix, j_services, j_container, j_docker_steps, j_matrix_container],
    "callers": [j_reusable_call, j_reusable_call, j_lint],
}
KIND_WEIGHTS = [("ci", 34), ("docker", 18), ("release", 12), ("deploy", 10), ("security", 8),
                ("docs", 5), ("housekeeping", 6), ("nightly", 7), ("callers", 10)]

TRIGGERS = {
    "ci": """
on:
  push:
    branches: [main]
  pull_request:
    branches: [main, "release/**"]""",
    "docker": """
on:
  push:
    branches: [main]
    tags: ["v*"]
  pull_request:
    paths:
      - "Dockerfile"
      - "src/**\"""",
    "release": """
on:
  push:
    tags:
      - "v*.*.*"
  workflow_dispatch:""",
    "deploy": """
on:
  workflow_dispatch:
    inputs:
      environment:
        description: Target environment
        required: true
        default: staging
        type: choice
        options: [staging, production]
  push:
    branches: [main]""",
    "security": """
on:
  push:
    branches: [main]
  pull_request:
  schedule:
    - cron: "27 4 * * 1\"""",
    "docs": """
on:
  push:
    branches: [main]
    paths: ["docs/**", "mkdocs.yml"]""",
    "housekeeping": """
on:
  schedule:
    - cron: "0 3 * * *"
  pull_request_target:
    types: [opened, synchronize]""",
    "nightly": """
on:
  schedule:
    - cron: "17 2 * * *"
  workflow_dispatch:""",
    "callers": """
on:
  push:
    branches: [main]
  pull_request:""",
    "reusable": """
on:
  workflow_call:
    inputs:
      service:
        type: string
        required: true
      environment:
        type: string
        default: staging
      dry-run:
        type: boolean
        default: false
    secrets:
      registry-token:
        required: false""",
}


def pick_rate(rng):
    r = rng.random()
    if r < 0.28:
        return 0.0  # fully pinned repo-hygiene files
    if r < 0.43:
        return 1.0  # nobody ever pinned anything here
    return rng.uniform(0.2, 0.55)


def pick_size(rng):
    r = rng.random()
    if r < 0.30:
        return rng.randint(20, 60)
    if r < 0.70:
        return rng.randint(60, 130)
    if r < 0.90:
        return rng.randint(130, 220)
    return rng.randint(220, 300)


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for k, w in pairs:
        x -= w
        if x <= 0:
            return k
    return pairs[-1][0]


def gen_workflow(rng, rel, kind, local_actions, local_reusables):
    f = File(rel, rng, pick_rate(rng))
    target = pick_size(rng)
    lang = rng.choice(["python", "python", "node", "node", "go", "go", "rust", "java"])
    svc = rng.choice(WORDS)
    title = {"ci": "CI", "docker": "Docker", "release": "Release", "deploy": "Deploy", "security": "Security",
             "docs": "Docs", "housekeeping": "Housekeeping", "nightly": "Nightly", "callers": "Pipeline",
             "reusable": "Reusable"}[kind]
    f.add("name: %s %s" % (title, svc))
    f.extend(0, TRIGGERS[kind])
    f.add("")
    if rng.random() < 0.7:
        permissions(f, 0, ["contents: read"] if rng.random() < 0.8 else [])
        f.add("")
    if kind not in ("reusable", "release", "deploy") and rng.random() < 0.6:
        f.add("concurrency:")
        f.add("  group: ${{ github.workflow }}-${{ github.ref }}")
        f.add("  cancel-in-progress: true")
        f.add("")
    if rng.random() < 0.4:
        f.add("env:")
        f.add("  FORCE_COLOR: \"1\"")
        f.add("  SERVICE: " + svc)
        f.add("")
    f.add("jobs:")
    ctx = {"lang": lang, "svc": svc, "prev": [], "local_actions": local_actions, "local_reusables": local_reusables}
    pool = POOLS.get(kind, POOLS["ci"])
    used = {}
    while True:
        gen = pool[len(ctx["prev"])] if len(ctx["prev"]) < len(pool) and kind != "reusable" and rng.random() < 0.5 else rng.choice(pool)
        if gen is j_local and not local_actions:
            gen = j_lint
        base = gen.__name__[2:].replace("_", "-")
        used[base] = used.get(base, 0) + 1
        jid = base if used[base] == 1 else "%s-%d" % (base, used[base])
        snapshot = (len(f.lines), len(f.expected), dict(f.counts))
        if ctx["prev"]:
            f.add("")
        gen(f, rng, ctx, jid)
        if len(f.lines) > 300 and ctx["prev"]:
            # roll back the job that overflowed and stop
            del f.lines[snapshot[0]:]
            del f.expected[snapshot[1]:]
            f.counts = snapshot[2]
            break
        ctx["prev"].append(jid)
        if len(f.lines) >= target:
            break
    while len(f.lines) < 20:
        f.add("# keep in sync with docs/ci.md")
    return f


def gen_reusable(rng, rel, local_actions):
    f = gen_workflow(rng, rel, "reusable", local_actions, [])
    return f


ACTION_NAMES = [
    "setup-python-env", "setup-node-env", "setup-go-env", "setup-rust", "cache-deps", "docker-login",
    "build-image", "push-image", "sign-image", "scan-image", "generate-sbom", "publish-chart",
    "deploy-k8s", "deploy-lambda", "notify-slack", "upload-coverage", "release-notes", "version-bump",
    "lint-docker", "terraform-plan", "terraform-apply", "e2e-tests", "db-migrate", "smoke-test",
    "bootstrap", "codegen", "check-licenses", "setup-java-env", "build-docs", "package-wheel",
    "install-tools", "fetch-secrets",
]
NESTED = [("setup", "python"), ("setup", "node"), ("setup", "toolchain"), ("deploy", "staging"),
          ("deploy", "production"), ("security", "trivy"), ("security", "cosign"), ("ci", "report")]


def gen_action(rng, rel, name, docker=False):
    f = File(rel, rng, pick_rate(rng))
    pretty = name.replace("-", " ").capitalize()
    f.add("name: %s" % pretty)
    f.add("description: %s for octo-org services" % pretty)
    f.add("author: platform-team")
    f.add("inputs:")
    inputs = rng.sample(["token", "environment", "version", "working-directory", "image", "registry", "cache-key", "dry-run"], rng.randint(1, 4))
    for i in inputs:
        f.add("  %s:" % i)
        f.add("    description: The %s to use" % i.replace("-", " "))
        f.add("    required: %s" % ("true" if i in ("token",) else "false"))
        if i != "token":
            f.add("    default: %s" % {"environment": "staging", "version": "latest-stable", "working-directory": ".",
                                         "image": "\"\"", "registry": "ghcr.io", "cache-key": "v1", "dry-run": "\"false\""}[i])
    if docker:
        f.add("runs:")
        f.add("  using: docker")
        repo = rng.choice(["ghcr.io/octo-org/release-tools", "alpine", "mikefarah/yq"])
        ref, unpinned = f.image_ref(repo, STEP_IMAGES[repo])
        f._mark(unpinned, "image", "docker://" + ref)
        f.add("  image: docker://" + ref)
        f.add("  args:")
        f.add("    - ${{ inputs.%s }}" % inputs[0])
        return f
    f.add("outputs:")
    f.add("  result:")
    f.add("    description: Result of the step")
    f.add("    value: ${{ steps.main.outputs.result }}")
    f.add("runs:")
    f.add("  using: composite")
    f.add("  steps:")
    candidates = [
        ("actions/setup-python", [("python-version", "${{ inputs.version }}")] if "version" in inputs else None),
        ("actions/setup-node", [("node-version", "20")]),
        ("actions/setup-go", [("go-version-file", "go.mod")]),
        ("actions/cache", [("path", "~/.cache"), ("key", "${{ runner.os }}-deps-${{ hashFiles('**/lockfiles') }}")]),
        ("docker/login-action", [("registry", "ghcr.io"), ("username", "${{ github.actor }}"), ("password", "${{ inputs.token }}" if "token" in inputs else "${{ github.token }}")]),
        ("docker/setup-buildx-action", None),
        ("docker/build-push-action", [("context", "."), ("push", "true"), ("tags", "ghcr.io/octo-org/app:${{ github.sha }}")]),
        ("sigstore/cosign-installer", None),
        ("aquasecurity/trivy-action", [("scan-type", "fs"), ("scan-ref", ".")]),
        ("anchore/sbom-action", [("path", "."), ("format", "spdx-json")]),
        ("azure/setup-helm", None),
        ("hashicorp/setup-terraform", [("terraform_wrapper", "false")]),
        ("slackapi/slack-github-action", [("webhook", "${{ env.SLACK_WEBHOOK_URL }}"), ("webhook-type", "incoming-webhook")]),
        ("actions/upload-artifact", [("name", "report"), ("path", "report/")]),
        ("codecov/codecov-action", [("files", "coverage.xml")]),
        ("dtolnay/rust-toolchain", [("toolchain", "stable")]),
        ("Swatinem/rust-cache", None),
        ("taiki-e/install-action", [("tool", "just")]),
        ("astral-sh/setup-uv", [("enable-cache", "true")]),
        ("mikepenz/action-junit-report", [("report_paths", "'**/junit.xml'")]),
    ]
    n = rng.randint(1, 6)
    for name_, with_ in rng.sample(candidates, n):
        f.uses_step(4, name_, with_)
        if rng.random() < 0.6:
            f.run_step(4, rng.choice(["Prepare", "Configure", "Verify", "Report"]),
                       "echo \"::group::%s\"\n%s\necho \"::endgroup::\"" % (name, rng.choice(["make prepare", "./scripts/ci/%s.sh" % name, "env | sort | grep -v TOKEN"])),
                       shell="bash")
    if rng.random() < 0.25:
        repo = rng.choice(["mikefarah/yq", "koalaman/shellcheck"])
        f.docker_step(4, repo, STEP_IMAGES[repo], args="--version")
    f.add("    - id: main")
    f.add("      shell: bash")
    if "working-directory" in inputs:
        f.add("      working-directory: ${{ inputs.working-directory || '.' }}")
    else:
        f.add("      env:")
        f.add("        INPUT_DRY_RUN: ${{ inputs.dry-run || 'false' }}")
    f.add("      run: |")
    f.add("        set -euo pipefail")
    f.add("        echo \"result=ok\" >> \"$GITHUB_OUTPUT\"")
    return f


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen-check-corpus.py OUT_DIR\n")
        return 2
    out = sys.argv[1].rstrip("/")
    if os.path.exists(out):
        # Only ever replace an earlier corpus (or an empty directory), never anything else.
        readme = os.path.join(out, "README.md")
        marker = os.path.isfile(readme) and "gen-check-corpus.py" in open(readme).read()
        if os.listdir(out) and not marker:
            sys.stderr.write("gen-check-corpus: %s exists and is not a generated corpus; refusing\n" % out)
            return 1
        shutil.rmtree(out)
    rng = random.Random(SEED)
    files = []

    # composite / docker actions
    local_actions = []
    flat = rng.sample(ACTION_NAMES, N_ACTIONS - len(NESTED))
    for i, name in enumerate(flat):
        rel = ".github/actions/%s/action.yml" % name
        files.append(gen_action(rng, rel, name, docker=(i % 9 == 4)))
        local_actions.append(name)
    for group, name in NESTED:
        rel = ".github/actions/%s/%s/action.yml" % (group, name)
        files.append(gen_action(rng, rel, "%s-%s" % (group, name)))
        local_actions.append("%s/%s" % (group, name))

    # reusable workflows first, so callers can reference them
    local_reusables = []
    for i in range(12):
        wname = "_%s-%s.yml" % (rng.choice(["build", "deploy", "test", "publish"]), rng.choice(WORDS))
        while wname in local_reusables:
            wname = "_%s-%s.yml" % (rng.choice(["build", "deploy", "test", "publish"]), rng.choice(WORDS))
        local_reusables.append(wname)
        files.append(gen_reusable(rng, ".github/workflows/" + wname, local_actions))

    names = set(local_reusables)
    while len([f for f in files if f.rel.startswith(".github/workflows/")]) < N_WORKFLOWS:
        kind = weighted(rng, KIND_WEIGHTS)
        stem = {"ci": "ci", "docker": "docker", "release": "release", "deploy": "deploy", "security": "codeql",
                "docs": "docs", "housekeeping": "maintenance", "nightly": "nightly", "callers": "pipeline"}[kind]
        name = "%s-%s.yml" % (stem, rng.choice(WORDS))
        n = 2
        while name in names:
            name = "%s-%s-%d.yml" % (stem, rng.choice(WORDS), n)
            n += 1
        names.add(name)
        files.append(gen_workflow(rng, ".github/workflows/" + name, kind, local_actions, local_reusables))

    os.makedirs(out)
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write("# octo-org/monorepo\n\nSynthetic repository used to benchmark `cicd check`.\n"
                 "Generated by scripts/bench/gen-check-corpus.py; do not edit.\n")
    expected = []
    pinned = unpinned = 0
    sizes = []
    for f in sorted(files, key=lambda x: x.rel):
        path = os.path.join(out, f.rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(f.text())
        sizes.append(len(f.lines))
        pinned += f.counts["pinned"]
        unpinned += f.counts["unpinned"]
        for line, kind, ref in f.expected:
            expected.append("%s\t%d\t%s\t%s" % (f.rel, line, kind, ref))
    with open(out + ".expected.tsv", "w") as fh:
        fh.write("\n".join(expected) + "\n")
    wf = [s for f, s in zip(sorted(files, key=lambda x: x.rel), sizes) if "/workflows/" in f.rel]
    sys.stderr.write(
        "gen-check-corpus: %d files (%d workflows, %d actions), %d lines; workflow size %d-%d;"
        " %d references, %d unpinned (%.0f%%)\n"
        % (len(files), len(wf), len(files) - len(wf), sum(sizes), min(wf), max(wf), pinned + unpinned,
           unpinned, 100.0 * unpinned / max(1, pinned + unpinned)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
