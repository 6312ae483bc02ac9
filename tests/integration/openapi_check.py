"""Validates recorded GitHub REST exchanges against GitHub's OpenAPI description.

usage: openapi_check.py API_GITHUB_COM_JSON EXCHANGES_JSON
Each exchange: {"method","path","query","headers":[[k,v]...],"status","body"}, and optionally
"host" (the origin, default https://api.github.com; uploads.github.com for asset uploads),
"request_body" (the JSON request body), "request_content_type" and "validate_response"
(false for answers a test injected). Both the request cicd sent and the stub's answer must
match the description; exit 1 otherwise.
"""
import json
import sys
from urllib.parse import parse_qs

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

spec_path, exchanges_path = sys.argv[1:3]
# GitHub's description is trusted; validating the description itself takes ~20 s.
spec = OpenAPI.from_file_path(spec_path, config=Config(spec_validator_cls=None))
failures = 0
exchanges = json.load(open(exchanges_path))
for ex in exchanges:
    headers = {k: v for k, v in ex["headers"]}
    args = {k: v[0] for k, v in parse_qs(ex["query"]).items()}
    body = ex.get("request_body")
    request = MockRequest(ex.get("host", "https://api.github.com"), ex["method"].lower(), ex["path"], args=args,
                          headers=headers, data=None if body is None else json.dumps(body).encode(),
                          content_type=ex.get("request_content_type") or "application/json")
    answer = b"" if ex["status"] == 204 else json.dumps(ex["body"]).encode()
    response = MockResponse(answer, status_code=ex["status"], content_type="application/json")
    checks = [("request", lambda: spec.validate_request(request))]
    if ex.get("validate_response", True):
        checks.append(("response", lambda: spec.validate_response(request, response)))
    for what, check in checks:
        try:
            check()
        except Exception as e:  # noqa: BLE001 - report every kind of validation failure
            failures += 1
            print(f"{what} {ex['method']} {ex['path']}?{ex['query']}: {type(e).__name__}: {e}")
print(f"{len(exchanges)} exchanges, {failures} failures")
sys.exit(1 if failures or not exchanges else 0)
