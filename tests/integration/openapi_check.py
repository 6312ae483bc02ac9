"""Validates recorded GitHub REST exchanges against GitHub's OpenAPI description.

usage: openapi_check.py API_GITHUB_COM_JSON EXCHANGES_JSON
Each exchange: {"method","path","query","headers":[[k,v]...],"status","body"}. Both the
request cicd sent and the stub's answer must match the description; exit 1 otherwise.
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
    request = MockRequest("https://api.github.com", ex["method"].lower(), ex["path"], args=args, headers=headers)
    response = MockResponse(json.dumps(ex["body"]).encode(), status_code=ex["status"], content_type="application/json")
    for what, check in (("request", lambda: spec.validate_request(request)),
                        ("response", lambda: spec.validate_response(request, response))):
        try:
            check()
        except Exception as e:  # noqa: BLE001 - report every kind of validation failure
            failures += 1
            print(f"{what} {ex['method']} {ex['path']}?{ex['query']}: {type(e).__name__}: {e}")
print(f"{len(exchanges)} exchanges, {failures} failures")
sys.exit(1 if failures or not exchanges else 0)
