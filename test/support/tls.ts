/**
 * TLS for tests: HTTPS requests and WebSockets that pin a fingerprint (the
 * simulator's pinnedConnection, as boards do), a loopback TCP proxy that
 * keeps every byte it forwards, and certificates made by the openssl command
 * (an independent maker and reader of what the gateway writes).
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { ClientOptions } from 'ws';
import { pinnedConnection } from '../../main/simulator/pinned-tls.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** `ws` options that pin `fingerprint`. */
export function pinnedWs(fingerprint: string): ClientOptions {
  return { createConnection: pinnedConnection(fingerprint) as unknown as ClientOptions['createConnection'] };
}

/** An HTTPS request that goes out only to a server with that certificate. */
export function pinnedRequest(url: string, fingerprint: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, createConnection: pinnedConnection(fingerprint) as never }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A plain-TCP request written by hand (no client library adding or hiding anything). */
export function rawHttp(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got += d));
    s.on('end', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.write(text);
  });
}

export interface Capture {
  port: number;
  /** Every byte client -> gateway and gateway -> client, all connections together. */
  up(): Buffer;
  down(): Buffer;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 to `targetPort`, keeping what passes through: the wire, as a sniffer on the LAN sees it. */
export async function captureProxy(targetPort: number): Promise<Capture> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const gw = createConnection(targetPort, '127.0.0.1');
    for (const s of [client, gw]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.on('data', (d: Buffer) => (up.push(Buffer.from(d)), gw.write(d)));
    gw.on('data', (d: Buffer) => (down.push(Buffer.from(d)), client.write(d)));
    client.on('end', () => gw.end());
    gw.on('end', () => client.end());
    client.on('close', () => gw.destroy());
    gw.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    up: () => Buffer.concat(up),
    down: () => Buffer.concat(down),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** `AB:CD:...` as the openssl command computes it for a PEM file: the reference the gateway's fingerprint is checked against. */
export function opensslFingerprint(certFile: string): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile], { encoding: 'utf8' });
  return /Fingerprint=([0-9A-F:]+)/i.exec(out)![1]!.replace(/:/g, '').toLowerCase();
}

/** The subjectAltName line as openssl prints it. */
export function opensslNames(certFile: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', certFile], { encoding: 'utf8' });
}

/** A self-signed certificate and key made by openssl alone (the operator's own files). */
export function opensslSelfSigned(dir: string, name: string): { certFile: string; keyFile: string } {
  const certFile = `${dir}/${name}.crt`;
  const keyFile = `${dir}/${name}.key`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { certFile, keyFile };
}
