/**
 * JWTs beside minted device tokens (`--jwt-secret`, `--jwt-public-key`). The tokens are made
 * without jose: HS256 by hand with node:crypto's HMAC, RS256 and ES256 signed by the openssl
 * CLI, so the gateway's verification is checked against independent signers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { captureIO } from '../support/cli.js';
import { courtside } from '../../main/cli/courtside.js';

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function hs256(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** An ECDSA signature as openssl writes it (DER SEQUENCE of r, s) to JOSE's r || s, 32 bytes each. */
function derToJose(der: Buffer): Buffer {
  let i = 2;
  if (der[1]! & 0x80) i += der[1]! & 0x7f;
  const int = () => {
    assert.equal(der[i], 0x02);
    const len = der[i + 1]!;
    const v = der.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    const trimmed = v[0] === 0 ? v.subarray(1) : v;
    return Buffer.concat([Buffer.alloc(32 - trimmed.length), trimmed]);
  };
  return Buffer.concat([int(), int()]);
}

function opensslSign(dir: string, alg: 'RS256' | 'ES256', keyFile: string, claims: Record<string, unknown>, kid?: string): string {
  const input = `${b64(JSON.stringify({ alg, typ: 'JWT', ...(kid ? { kid } : {}) }))}.${b64(JSON.stringify(claims))}`;
  const inFile = join(dir, 'input');
  writeFileSync(inFile, input);
  const sig = execFileSync('openssl', ['dgst', '-sha256', '-sign', keyFile, inFile]);
  return `${input}.${(alg === 'ES256' ? derToJose(sig) : sig).toString('base64url')}`;
}

const SECRET = 'a-shared-secret-for-hs256-tests';

async function board(gw: TestGateway, id: string, token: string): Promise<number> {
  try {
    const c = await TestClient.connect(`${gw.url}/ws/esp32/${id}/?token=${encodeURIComponent(token)}`);
    assert.equal((await c.next()).type, 'connection_established');
    await c.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

describe('JWT: HS256 with --jwt-secret, issuer and audience, beside minted tokens', () => {
  let gw: TestGateway;
  before(async () => {
    // No deviceAuth given: keys for JWTs make token mode the default.
    gw = await startTestGateway({ jwtSecret: SECRET, jwtIssuer: 'courts.example', jwtAudience: 'courtside' });
  });
  after(() => gw.stop());
  const claims = (sub: string, extra: Record<string, unknown> = {}) => ({ sub, iss: 'courts.example', aud: 'courtside', exp: now() + 60, ...extra });

  test('a board with a good JWT connects; another sub, an expiry past, a changed signature, wrong iss/aud, alg none: 401', async () => {
    assert.equal(gw.options.deviceAuth, 'token');
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b1'), SECRET)), 101);
    assert.equal(await board(gw, 'jwt-b1', 'not-a-token'), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b2'), SECRET)), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b1', { exp: now() - 5 }), SECRET)), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b1'), 'another secret')), 401);
    const good = hs256(claims('jwt-b1'), SECRET);
    assert.equal(await board(gw, 'jwt-b1', good.slice(0, -2) + (good.endsWith('AA') ? 'BB' : 'AA')), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b1', { iss: 'elsewhere' }), SECRET)), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256(claims('jwt-b1', { aud: 'other' }), SECRET)), 401);
    assert.equal(await board(gw, 'jwt-b1', hs256({ sub: 'jwt-b1', iss: 'courts.example', aud: 'courtside' }, SECRET)), 401, 'no exp');
    const none = `${b64(JSON.stringify({ alg: 'none' }))}.${b64(JSON.stringify(claims('jwt-b1')))}.`;
    assert.equal(await board(gw, 'jwt-b1', none), 401);
  });

  test('room clients (identity token or query), signaling clients and players (sub = user id)', async () => {
    const room = await TestClient.connect(gw.url + '/');
    room.send({ device_id: 'jwt-room', identity: 'u', token: hs256(claims('jwt-room'), SECRET) });
    assert.equal((await room.next('room')).status, 'created_new');
    await room.close();
    const inQuery = await TestClient.connect(`${gw.url}/?token=${hs256(claims('jwt-room'), SECRET)}`);
    inQuery.send({ device_id: 'jwt-room', identity: 'u' });
    assert.equal((await inQuery.next('room')).status, 'reconnected');
    await inQuery.close();
    const other = await TestClient.connect(gw.url + '/');
    other.send({ device_id: 'jwt-room', identity: 'u', token: hs256(claims('someone-else'), SECRET) });
    assert.equal((await other.next('error')).code, 'UNAUTHORIZED');
    assert.equal((await other.closed).code, 4401);

    const sig = await TestClient.connect(gw.url + '/');
    assert.equal((await sig.ask({ type: 'register', client_id: 'jwt-sig', token: hs256(claims('jwt-sig'), SECRET) })).type, 'registered');
    await sig.close();

    const u = await TestClient.connect(`${gw.url}/ws/miniprogram/p9/?token=${hs256(claims('p9'), SECRET)}`);
    assert.equal((await u.next()).type, 'connection_established');
    await u.close();
    await assert.rejects(TestClient.connect(`${gw.url}/ws/miniprogram/p9/?token=${hs256(claims('p8'), SECRET)}`), { status: 401 });
  });

  test('a minted token still admits its board', async () => {
    const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
    const t = String((await op.ask({ type: 'create_device_token', device_id: 'jwt-minted', label: 'test' }, 'device_token')).token);
    await op.close();
    assert.equal(await board(gw, 'jwt-minted', t), 101);
    assert.equal(await board(gw, 'jwt-b1', t), 401);
  });
});

describe('JWT: RS256 (PEM) and ES256 (JWKS) public keys, tokens signed by openssl', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-jwt-'));
  const rsaKey = join(dir, 'rsa.pem');
  const rsaPub = join(dir, 'rsa.pub.pem');
  const ecKey = join(dir, 'ec.pem');
  const jwks = join(dir, 'keys.jwks');
  let rsaGw: TestGateway;
  let ecGw: TestGateway;
  before(async () => {
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsaKey], { stdio: 'ignore' });
    execFileSync('openssl', ['pkey', '-in', rsaKey, '-pubout', '-out', rsaPub], { stdio: 'ignore' });
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecKey], { stdio: 'ignore' });
    const ecPub = execFileSync('openssl', ['pkey', '-in', ecKey, '-pubout']).toString();
    writeFileSync(jwks, JSON.stringify({ keys: [{ ...createPublicKey(ecPub).export({ format: 'jwk' }), kid: 'court-1', alg: 'ES256', use: 'sig' }] }));
    rsaGw = await startTestGateway({ deviceAuth: 'token', jwtPublicKeyFile: rsaPub });
    ecGw = await startTestGateway({ deviceAuth: 'token', jwtPublicKeyFile: jwks });
  });
  after(async () => {
    await rsaGw.stop();
    await ecGw.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('RS256: good token in, other sub or expired out; HS256 keyed with the public key text is refused', async () => {
    assert.equal(await board(rsaGw, 'rs-b1', opensslSign(dir, 'RS256', rsaKey, { sub: 'rs-b1', exp: now() + 60 })), 101);
    assert.equal(await board(rsaGw, 'rs-b1', opensslSign(dir, 'RS256', rsaKey, { sub: 'rs-b2', exp: now() + 60 })), 401);
    assert.equal(await board(rsaGw, 'rs-b1', opensslSign(dir, 'RS256', rsaKey, { sub: 'rs-b1', exp: now() - 60 })), 401);
    assert.equal(await board(rsaGw, 'rs-b1', hs256({ sub: 'rs-b1', exp: now() + 60 }, readFileSync(rsaPub, 'utf8'))), 401);
    // Signed by a key the gateway does not know.
    assert.equal(await board(rsaGw, 'rs-b1', opensslSign(dir, 'ES256', ecKey, { sub: 'rs-b1', exp: now() + 60 })), 401);
  });

  test('ES256 from a JWKS file (kid), in the identity frame of a room client', async () => {
    assert.equal(await board(ecGw, 'es-b1', opensslSign(dir, 'ES256', ecKey, { sub: 'es-b1', exp: now() + 60 }, 'court-1')), 101);
    assert.equal(await board(ecGw, 'es-b1', opensslSign(dir, 'ES256', ecKey, { sub: 'es-b1', exp: now() + 60 }, 'unknown-kid')), 401);
    assert.equal(await board(ecGw, 'es-b1', opensslSign(dir, 'RS256', rsaKey, { sub: 'es-b1', exp: now() + 60 }, 'court-1')), 401);
    const room = await TestClient.connect(ecGw.url + '/');
    room.send({ device_id: 'es-room', identity: 'tablet', token: opensslSign(dir, 'ES256', ecKey, { sub: 'es-room', exp: now() + 60 }, 'court-1') });
    assert.equal((await room.next('room')).status, 'created_new');
    await room.close();
  });

  test('serve: a key file that is no key, or missing, is a one-line error with exit 2', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key\n');
    const env = { COURTSIDE_DISCOVERY: 'off' };
    const r = captureIO({ env });
    assert.equal(await courtside(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', join(dir, 'data'), '--jwt-public-key', junk], r.io), 2);
    assert.match(r.stderr(), /cannot use the JWT public key .*junk\.pem/);
    assert.equal(r.stderr().trim().split('\n').length, 1);
    const m = captureIO({ env });
    assert.equal(await courtside(['serve', '--port', '0', '--jwt-public-key', join(dir, 'nope.pem')], m.io), 2);
    assert.match(m.stderr(), /--jwt-public-key: no file/);
  });
});
