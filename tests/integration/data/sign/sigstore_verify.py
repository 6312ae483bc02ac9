"""sigstore-python's offline `verify identity` for a DSSE bundle, as its CLI does it, except
for the last step: the CLI reads the statement with a model that requires `subject[].name`,
which cosign v3's signature statements (and cicd's) leave out. Here the certificate chain,
SCT, Rekor entry (inclusion proof, SET, canonical body), TSA stamp, signature over the DSSE
PAE and identity policy are all sigstore-python's `Verifier.verify_dsse`; the subject digest
is then compared in plain JSON.

usage: sigstore_verify.py TRUST_CONFIG BUNDLE SAN ISSUER SHA256_HEX
"""

import json
import sys

from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy

trust_path, bundle_path, san, issuer, digest = sys.argv[1:6]
trust = ClientTrustConfig.from_json(open(trust_path).read())
verifier = Verifier(trusted_root=trust.trusted_root)
bundle = Bundle.from_json(open(bundle_path, "rb").read())
type_, payload = verifier.verify_dsse(
    bundle=bundle, policy=policy.Identity(identity=san, issuer=issuer)
)
if type_ != "application/vnd.in-toto+json":
    sys.exit(f"FAIL: payload type {type_}")
statement = json.loads(payload)
subjects = [s.get("digest", {}).get("sha256") for s in statement.get("subject", [])]
if subjects != [digest]:
    sys.exit(f"FAIL: the statement's subjects {subjects} are not {digest}")
print("OK: verified by sigstore-python")
