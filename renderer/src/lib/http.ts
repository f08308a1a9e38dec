/**
 * The HTTP half of the gateway client: `/api/*` with the operator token,
 * gateway errors turned into GatewayRequestError, downloads with the file
 * name the gateway gave. No DOM types beyond fetch's own, like client.ts.
 */
import { GatewayRequestError } from './errors.js';

export interface HttpInit {
  method?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as the bytes they are (firmware uploads). */
  raw?: ArrayBuffer;
}

export class GatewayHttp {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchFn: typeof fetch,
  ) {}

  /** Resolves with the JSON body, rejects with a GatewayRequestError. */
  async json<T = unknown>(path: string, init: HttpInit = {}): Promise<T> {
    const res = await this.fetchRaw(path, init);
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new GatewayRequestError('BAD_REPLY', `not JSON: ${text.slice(0, 80)}`, path, res.status);
    }
    return body as T;
  }

  /** A file (exports): its bytes and the name the gateway gave it. */
  async download(path: string): Promise<{ data: ArrayBuffer; filename: string; type: string }> {
    const res = await this.fetchRaw(path, {});
    const cd = res.headers.get('content-disposition') ?? '';
    const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
    const filename = m ? decodeURIComponent(m[1]!) : path.split('/').filter(Boolean).pop() ?? 'download';
    return { data: await res.arrayBuffer(), filename, type: res.headers.get('content-type') ?? 'application/octet-stream' };
  }

  private async fetchRaw(path: string, init: HttpInit): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (init.raw !== undefined) headers['content-type'] = 'application/octet-stream';
    else if (init.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(this.baseUrl + path, {
        method: init.method ?? 'GET',
        headers,
        body: init.raw !== undefined ? new Uint8Array(init.raw) : init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    } catch (err) {
      throw new GatewayRequestError('NETWORK', err instanceof Error ? err.message : String(err), path);
    }
    if (!res.ok) {
      let code = `HTTP_${res.status}`;
      let message = res.statusText;
      try {
        const j = (await res.json()) as { error?: { code?: string; message?: string } };
        if (j.error?.code) code = j.error.code;
        if (j.error?.message) message = j.error.message;
      } catch {
        /* not JSON: keep the status text */
      }
      throw new GatewayRequestError(code, message, path, res.status);
    }
    return res;
  }
}
