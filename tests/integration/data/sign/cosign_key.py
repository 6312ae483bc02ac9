"""Writes a cosign key pair the way cosign documents it, with code cicd did not write:
python `cryptography` for the P-256 key, PKCS#8 and scrypt (N=32768, r=8, p=1), PyNaCl for
the secretbox. Usage: cosign_key.py PREFIX (password from COSIGN_PASSWORD)."""
import base64
import json
import os
import sys

import nacl.secret
import nacl.utils
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

prefix = sys.argv[1]
password = os.environ["COSIGN_PASSWORD"].encode()
key = ec.generate_private_key(ec.SECP256R1())
pkcs8 = key.private_bytes(
    serialization.Encoding.DER,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)
salt = os.urandom(32)
secret = Scrypt(salt=salt, length=32, n=32768, r=8, p=1).derive(password)
nonce = nacl.utils.random(24)
sealed = nacl.secret.SecretBox(secret).encrypt(pkcs8, nonce).ciphertext
body = json.dumps({
    "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
            "salt": base64.b64encode(salt).decode()},
    "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
    "ciphertext": base64.b64encode(sealed).decode(),
}).encode()
b64 = base64.b64encode(body).decode()
lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
with open(prefix + ".key", "w") as f:
    f.write("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n" + "\n".join(lines)
            + "\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n")
with open(prefix + ".pub", "wb") as f:
    f.write(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
