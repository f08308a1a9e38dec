/**
 * `serve --tls` as an operator runs it (the banner, the flags), and what
 * discovery tells boards about a TLS gateway (TXT `sha256`, probe answers
 * with wss:// and `cert_sha256`, checked against the exported schema).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveCommand } from '../../main/cli/serve.js';
import { captureIO, runInProcess } from '../support/cli.js';
import { opensslFingerprint, pinnedRequest, rawHttp } from '../support/tls.js';
import { gatewayTxt, parseProbeAnswer } from '../../firmware-protocol/discovery.js';
import { answerFor } from '../../main/gateway/discovery/probe.js';
import { firstError } from '../protocol/json-schema.js';

const FP = 'e43c4ec590bc5b9bb5029888a720776394440512ebfac05c208eac7250b57932';

describe('serve --tls', { timeout: 60_000 }, () => {
  test('the banner says https:// and wss://, gives the fingerprint openssl computes, and the operator URL carries it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-tls-'));
    const c = captureIO({ env: { ...process.env, COURTSIDE_DISCOVERY: 'off' } });
    const run = serveCommand(['--tls', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], c.io);
    try {
      const [, port, token, sha] = await c.waitFor(/operator: +https:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+)&sha256=([0-9a-f]{64})\n/);
      const fp = opensslFingerprint(join(dataDir, 'tls-cert.pem'));
      assert.equal(sha, fp);
      const colons = fp.toUpperCase().match(/../g)!.join(':');
      assert.match(c.stdout(), new RegExp(`\\n  tls: +SHA-256 ${colons}\\n`));
      assert.match(c.stdout(), new RegExp(`\\n  boards: +wss://127\\.0\\.0\\.1:${port}/ws/esp32/<device_code>/\\n`));
      assert.equal((await pinnedRequest(`https://127.0.0.1:${port}/api/status`, sha!, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.match(await rawHttp(Number(port), 'GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 /);
      c.stop('SIGTERM');
      assert.equal(await run, 0);
      assert.equal(c.stderr(), '');
    } finally {
      c.stop('SIGTERM');
      await run;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('bad TLS flags: one line, exit 2', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-tls-'));
    const cases: [string[], RegExp][] = [
      [['serve', '--data-dir', dataDir, '--tls-cert', 'a.pem'], /^courtside serve: --tls-cert and --tls-key go together\n$/],
      [['serve', '--data-dir', dataDir, '--tls-key', 'a.key'], /^courtside serve: --tls-cert and --tls-key go together\n$/],
      [['serve', '--data-dir', dataDir, '--tls=yes'], /^courtside serve: option --tls takes no value\n$/],
      [['simulate', '--url', 'wss://127.0.0.1:1', '--fingerprint', 'abc'], /^courtside simulate: --fingerprint must be 64 hex digits/],
      [['simulate', '--url', 'ws://127.0.0.1:1', '--fingerprint', FP], /^courtside simulate: --fingerprint needs a wss:\/\/ --url/],
    ];
    try {
      for (const [args, err] of cases) {
        const r = await runInProcess(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, err, args.join(' '));
        assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('own certificate files that cannot be read: one line, exit 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-tls-'));
    try {
      const r = await runInProcess(['serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', '--tls-cert', join(dataDir, 'none.pem'), '--tls-key', join(dataDir, 'none.key')], { env: { ...process.env, COURTSIDE_DISCOVERY: 'off' } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^courtside serve: cannot read the TLS certificate or key: .*none\.pem/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('discovery of a TLS gateway', () => {
  test('TXT has sha256 only with TLS; probe answers say wss:// and give cert_sha256, valid by the exported schema', () => {
    const base = { protocolVersion: 1, path: '/ws/esp32/', auth: 'open' as const, gatewayId: 'gw-1' };
    assert.deepEqual(gatewayTxt(base), { pv: '1', path: '/ws/esp32/', auth: 'open', id: 'gw-1' });
    assert.deepEqual(gatewayTxt({ ...base, certSha256: FP }), { pv: '1', path: '/ws/esp32/', auth: 'open', id: 'gw-1', sha256: FP });
    const schema = JSON.parse(readFileSync('firmware-protocol/schemas/discovery/server/courtside_here.json', 'utf8')) as Record<string, unknown>;
    const tls = answerFor(['192.168.4.2'], { gatewayId: 'gw-1', port: 8765, boardPath: '/ws/esp32/', auth: 'open', certSha256: FP });
    assert.deepEqual(tls.urls, ['wss://192.168.4.2:8765/']);
    assert.equal(tls.cert_sha256, FP);
    assert.ok(parseProbeAnswer(JSON.stringify(tls)).ok);
    assert.equal(firstError(schema, tls), null);
    assert.notEqual(firstError(schema, { ...tls, cert_sha256: 'AB:CD' }), null);
    assert.equal(parseProbeAnswer(JSON.stringify({ ...tls, cert_sha256: 'AB:CD' })).ok, false);
    const plain = answerFor(['192.168.4.2'], { gatewayId: 'gw-1', port: 8765, boardPath: '/ws/esp32/', auth: 'open' });
    assert.deepEqual(plain.urls, ['ws://192.168.4.2:8765/']);
    assert.equal('cert_sha256' in plain, false);
  });
});
