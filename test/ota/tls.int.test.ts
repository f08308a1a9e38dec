/**
 * With `--tls` the OTA download port speaks HTTPS with the gateway's own
 * certificate, the one boards pin: checked with a raw TLS connection (the
 * peer certificate's SHA-256) and an HTTPS request for an image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startTestGateway } from '../support/gateway.js';
import { opensslFingerprint } from '../support/tls.js';
import { ManualClock } from '../../main/shared/clock.js';
import { CERT_FILE, KEY_FILE } from '../../main/gateway/tls/cert.js';

const hex = (colons: string) => colons.replace(/:/g, '').toLowerCase();

test('OTA downloads under --tls: HTTPS on the OTA port with the certificate the gateway pins', async () => {
  const gw = await startTestGateway({ tls: true });
  try {
    const fp = gw.fingerprint!;
    const status = (await gw.parts.find((p) => p.name === 'ota')!.status!()) as { ota: { port: number; scheme: string } };
    assert.equal(status.ota.scheme, 'https');
    const cert = await new Promise<PeerCertificate>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: status.ota.port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate());
        s.end();
      });
      s.on('error', reject);
    });
    assert.equal(hex(cert.fingerprint256), fp, 'the OTA port presents the gateway certificate');
    // A download without a board's token is refused over HTTPS, not served in clear.
    const code = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: status.ota.port, path: `/ota/${'0'.repeat(64)}.bin`, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.ok(code === 403 || code === 404, `an image without a token: ${code}`);
  } finally {
    await gw.stop();
  }
});

test('a certificate renewed while running: the OTA port presents the new one (what boards now pin)', async () => {
  const clock = new ManualClock(Date.now());
  const gw = await startTestGateway({ tls: true, clock, heartbeatIntervalMs: 3_600_000 });
  try {
    const first = gw.fingerprint!;
    const port = ((await gw.parts.find((p) => p.name === 'ota')!.status!()) as { ota: { port: number } }).ota.port;
    const certFile = join(gw.dataDir, CERT_FILE);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', join(gw.dataDir, KEY_FILE), '-days', '10', '-subj', '/CN=old', '-out', certFile], { stdio: 'ignore' });
    clock.advance(24 * 3600 * 1000 + 1);
    const now = opensslFingerprint(certFile);
    assert.notEqual(now, first);
    assert.equal(gw.fingerprint, now);
    assert.equal(await peerFingerprint(port), now);
  } finally {
    await gw.stop();
  }
});

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(hex(s.getPeerCertificate().fingerprint256));
      s.end();
    });
    s.on('error', reject);
  });
}
