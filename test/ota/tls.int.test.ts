/**
 * With `--tls` the OTA download port speaks HTTPS with the gateway's own
 * certificate, the one boards pin: checked with a raw TLS connection (the
 * peer certificate's SHA-256) and an HTTPS request for an image.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { startTestGateway } from '../support/gateway.js';

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
