// Fulcio, Rekor v1 and v2 and a TSA from npm @sigstore/mock, plus a GitHub Actions OIDC
// token endpoint, on one loopback port. Usage: node sigstore_mock.js OUTDIR
// (NODE_PATH = the node_modules holding @sigstore/mock). Writes OUTDIR/trust_config.json (a
// sigstore client trust config naming these services, Rekor v1), OUTDIR/trust_config_v2.json
// (the same, but its signing config names the Rekor v2 log and its trusted root holds that
// log's key too), OUTDIR/untrusted_ca.json (v1, another Fulcio root) and OUTDIR/token (the
// JWT the endpoint hands out), then prints `ready PORT` on stdout. Requests:
//   GET  /token?audience=sigstore   GitHub's ID-token endpoint (bearer = $REQUEST_TOKEN)
//   GET  /hang…                     never answers (a hostile token endpoint or Rekor)
//   POST /api/v2/signingCert        Fulcio: SAN = https://github.com/ + job_workflow_ref,
//                                   as Fulcio maps GitHub's tokens (the mock itself takes
//                                   one claim verbatim, so the claim is added here)
//   POST /api/v1/log/entries        Rekor v1 (409 + Location for an entry logged before)
//   GET  /api/v1/log/entries/UUID   Rekor v1: a logged entry
//   POST /api/v2/log/entries        Rekor v2: a hashedrekord v0.0.2 entry (TransparencyLogEntry)
//   POST /api/v1/timestamp          RFC 3161 TSA (DER request translated to the mock's JSON)
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const mock = require('@sigstore/mock');
const pkijs = require('pkijs');

const out = process.argv[2];
const REQUEST_TOKEN = process.env.REQUEST_TOKEN || 'runtime-request-token';
const b64u = (v) => Buffer.from(v).toString('base64url');

function githubToken() {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'https://token.actions.githubusercontent.com',
    aud: 'sigstore',
    sub: 'repo:acme/app:ref:refs/tags/v1.2.3',
    repository: 'acme/app',
    repository_owner: 'acme',
    ref: 'refs/tags/v1.2.3',
    ref_type: 'tag',
    sha: 'a'.repeat(40),
    workflow: 'release',
    event_name: 'push',
    workflow_ref: 'acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
    job_workflow_ref: 'acme/ci/.github/workflows/sign.yml@refs/heads/main',
    runner_environment: 'github-hosted',
    iat: now,
    nbf: now,
    exp: now + 300,
  };
  // No email claim; bytes chosen so the payload's base64url has `-` or `_` somewhere.
  claims.jti = crypto.randomBytes(24).toString('base64url') + '~~>>??';
  return `${b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'mock' }))}.${b64u(JSON.stringify(claims))}.${crypto.randomBytes(64).toString('base64url')}`;
}

// RFC 3161 clients send a DER TimeStampReq; the mock TSA reads sigstore-js's JSON form.
let pendingNonce;
function tsaJson(der) {
  const req = pkijs.TimeStampReq.fromBER(new Uint8Array(der).buffer);
  pendingNonce = req.nonce;
  const oid = req.messageImprint.hashAlgorithm.algorithmId;
  const names = { '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };
  return JSON.stringify({
    artifactHash: Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView).toString('base64'),
    hashAlgorithm: names[oid] || oid,
    nonce: 1, // replaced by the request's own INTEGER (see tstInfo below)
    certificates: req.certReq || false,
  });
}

// Rekor stores a dsse entry not as proposed but as its canonical body: the envelope's and
// payload's SHA-256 and each signature with its verifier (certificate or public key)
// re-encoded as standard PEM. The
// mock logs what it is given, so the proposal is turned into that body first.
function rekorDsseBody(body) {
  const e = JSON.parse(body);
  if (e.kind !== 'dsse' || !e.spec || !e.spec.proposedContent) return body;
  const c = e.spec.proposedContent;
  const env = JSON.parse(c.envelope);
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const given = Buffer.from(c.verifiers[0], 'base64').toString();
  const pem = given.includes('CERTIFICATE')
    ? new crypto.X509Certificate(given).toString()
    : crypto.createPublicKey(given).export({ type: 'spki', format: 'pem' });
  return JSON.stringify({
    apiVersion: e.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha(c.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((sg) => ({ signature: sg.sig, verifier: Buffer.from(pem).toString('base64') })),
    },
  });
}

// Rekor v2 logs a `hashedRekordRequestV002` as the entry body it specifies (rekor-tiles'
// `Entry`: kind hashedrekord, apiVersion 0.0.2, spec.hashedRekordV002 {data, signature}) and
// answers the bundle's TransparencyLogEntry: no integrated time, no SET, an inclusion proof
// with a signed checkpoint. The mock's v2 log (`logV2`) logs what it is given under the
// kind it guesses and names a leaf index beyond its one-leaf tree; the body is built here
// and the entry is leaf 0 of that tree, as the mock's v1 proofs are.
async function rekorV2Entry(tlog, body) {
  const req = JSON.parse(body).hashedRekordRequestV002;
  if (!req || !req.digest || !req.signature || !req.signature.verifier) {
    return { statusCode: 400, response: 'expected a hashedRekordRequestV002 entry' };
  }
  const entry = {
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: {
      hashedRekordV002: {
        data: { algorithm: 'SHA2_256', digest: req.digest },
        signature: { content: req.signature.content, verifier: req.signature.verifier },
      },
    },
  };
  const e = await tlog.logV2(entry);
  const response = {
    logIndex: '0',
    logId: { keyId: Buffer.from(e.logId.keyId).toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
    canonicalizedBody: Buffer.from(e.canonicalizedBody).toString('base64'),
    inclusionProof: {
      logIndex: '0',
      rootHash: Buffer.from(e.inclusionProof.rootHash).toString('base64'),
      treeSize: e.inclusionProof.treeSize,
      hashes: [],
      checkpoint: { envelope: e.inclusionProof.checkpoint.envelope },
    },
  };
  return { statusCode: 201, response: JSON.stringify(response) };
}

// Fulcio for GitHub: the SAN is the job_workflow_ref as a URL.
function withSan(body) {
  const json = JSON.parse(body);
  const jwt = json.credentials.oidcIdentityToken.split('.');
  const claims = JSON.parse(Buffer.from(jwt[1], 'base64url').toString());
  claims.fulcio_san = `https://github.com/${claims.job_workflow_ref}`;
  jwt[1] = b64u(JSON.stringify(claims));
  json.credentials.oidcIdentityToken = jwt.join('.');
  return JSON.stringify(json);
}

const pemBody = (der) => Buffer.from(der).toString('base64');

// The logs' keys: the log ID is SHA-256 of the DER key, which the mock's v2 checkpoints
// also carry as their signature's key hint (its first four bytes).
function trustedRoot(caRoot, tlogKeys, ctlog, tsa, start) {
  const keyId = (k) => crypto.createHash('sha256').update(k).digest('base64');
  const validFor = { start };
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: tlogKeys.map((tlogKey) => ({
      baseUrl: 'https://rekor.mock', hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: pemBody(tlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: keyId(tlogKey) },
    })),
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: 'https://fulcio.mock',
      certChain: { certificates: [{ rawBytes: pemBody(caRoot) }] },
      validFor,
    }],
    ctlogs: [{
      baseUrl: 'https://ctfe.mock', hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: pemBody(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: Buffer.from(ctlog.logID).toString('base64') },
    }],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: 'https://tsa.mock',
      certChain: { certificates: [{ rawBytes: pemBody(tsa.intCertificate) }, { rawBytes: pemBody(tsa.rootCertificate) }] },
      validFor,
    }],
  };
}

function signingConfig(base, start, rekorVersion) {
  const svc = (url, v) => ({ url, majorApiVersion: v, validFor: { start }, operator: 'sigstore.mock' });
  return {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [svc(base, 1)],
    oidcUrls: [],
    rekorTlogUrls: [svc(base, rekorVersion)],
    tsaUrls: [svc(`${base}/api/v1/timestamp`, 1)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
}

async function main() {
  const key = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctlog = await mock.initializeCTLog(key());
  const ca = await mock.initializeCA(key(), ctlog);
  const otherCa = await mock.initializeCA(key(), ctlog);
  const tlogKey = key();
  const tlogV2Key = key();
  const tsa = await mock.initializeTSA(key());
  // Whole seconds: sigstore-tsa's DER decoder (the `der` crate) refuses a GeneralizedTime
  // with fractional seconds, which RFC 3161 allows and the mock writes.
  tsa.getCurrentTime = () => { const d = new Date(); d.setUTCMilliseconds(0); return d; };
  // The request's nonce as it came (a 64-bit value the mock would re-encode non-canonically).
  const tstInfo = tsa.tstInfo.bind(tsa);
  tsa.tstInfo = (req) => {
    const t = tstInfo(req);
    if (pendingNonce) t.nonce = pendingNonce; else delete t.nonce;
    return t;
  };
  const fulcio = mock.fulcioHandler(ca, { subjectClaim: 'fulcio_san' });
  const token = githubToken();
  let rekor;
  let tlogV2;
  // Rekor logs an entry once: the same body again is answered 409 with the entry's UUID in
  // `Location` and the message, and GET /api/v1/log/entries/UUID returns it.
  const logged = new Map(); // sha256(body) -> uuid
  const entries = new Map(); // uuid -> response JSON
  const rekorOnce = async (body) => {
    const key = crypto.createHash('sha256').update(body).digest('hex');
    const uuid = logged.get(key);
    if (uuid) {
      return {
        statusCode: 409,
        headers: { Location: `/api/v1/log/entries/${uuid}` },
        response: JSON.stringify({ code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${uuid}` }),
      };
    }
    const r = await rekor.fn(body);
    if (r.statusCode === 201) {
      const id = Object.keys(JSON.parse(r.response))[0];
      logged.set(key, id);
      entries.set(id, r.response);
    }
    return r;
  };
  const handlers = {
    '/api/v2/signingCert': (b) => fulcio.fn(withSan(b)),
    '/api/v1/log/entries': (b) => rekorOnce(rekorDsseBody(b)),
    '/api/v2/log/entries': (b) => rekorV2Entry(tlogV2, b),
    '/api/v1/timestamp': (b) => mock.tsaHandler(tsa).fn(tsaJson(b)),
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (url.pathname.startsWith('/hang')) return; // never answers
      const entry = url.pathname.match(/^\/api\/v1\/log\/entries\/([0-9a-f]+)$/);
      if (req.method === 'GET' && entry) {
        const found = entries.get(entry[1]);
        res.writeHead(found ? 200 : 404, { 'Content-Type': 'application/json' });
        return res.end(found || '{"code":404,"message":"no such entry"}');
      }
      if (url.pathname === '/token') {
        const ok = req.headers.authorization === `bearer ${REQUEST_TOKEN}` &&
          url.searchParams.get('audience') === 'sigstore';
        res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
        return res.end(ok ? JSON.stringify({ count: 1, value: token }) : '{"message":"bad"}');
      }
      const h = handlers[url.pathname];
      if (req.method !== 'POST' || !h) { res.writeHead(404); return res.end(); }
      const body = Buffer.concat(chunks);
      // The TSA takes DER; the others JSON.
      let r;
      try {
        r = await h(url.pathname === '/api/v1/timestamp' ? body : body.toString());
      } catch (e) {
        r = { statusCode: 400, response: String(e) };
      }
      res.writeHead(r.statusCode, { 'Content-Type': r.contentType || 'application/json', ...(r.headers || {}) });
      res.end(r.response);
    });
  });
  server.listen(0, '127.0.0.1', async () => {
    const port = server.address().port;
    const base = `http://127.0.0.1:${port}`;
    const tlog = await mock.initializeTLog(base, tlogKey);
    rekor = mock.rekorHandler(tlog);
    tlogV2 = await mock.initializeTLog(base, tlogV2Key);
    const start = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const config = (caRoot, tlogKeys, rekorVersion) => ({
      mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
      trustedRoot: trustedRoot(caRoot, tlogKeys, ctlog, tsa, start),
      signingConfig: signingConfig(base, start, rekorVersion),
    });
    const write = (name, c) => fs.writeFileSync(path.join(out, name), JSON.stringify(c));
    write('trust_config.json', config(ca.rootCertificate, [tlog.publicKey], 1));
    write('trust_config_v2.json', config(ca.rootCertificate, [tlog.publicKey, tlogV2.publicKey], 2));
    write('untrusted_ca.json', config(otherCa.rootCertificate, [tlog.publicKey], 1));
    fs.writeFileSync(path.join(out, 'token'), token);
    process.stdout.write(`ready ${port}\n`);
  });
}

main().catch((e) => { console.error(e); process.exit(1); });
