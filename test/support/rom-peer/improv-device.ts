/**
 * The device side of Improv Wi-Fi over serial, written from the published
 * spec (improv-wifi.com/serial) and the reference device SDK's parser:
 * packets `IMPROV` + version 1 + type + length + data + checksum (sum of every
 * earlier byte, low 8 bits); RPC data is command, length, payload. A packet
 * with a bad checksum gets error state 0x01 (invalid RPC), an unknown command
 * 0x02, credentials that do not connect 0x03. Independent of the client under
 * test on purpose.
 */
const HEADER = Buffer.from('IMPROV', 'ascii');
export const ImprovType = { CURRENT_STATE: 0x01, ERROR_STATE: 0x02, RPC: 0x03, RPC_RESULT: 0x04 } as const;
export const ImprovState = { AUTHORIZATION_REQUIRED: 0x01, AUTHORIZED: 0x02, PROVISIONING: 0x03, PROVISIONED: 0x04 } as const;
export const ImprovError = { NONE: 0x00, INVALID_RPC: 0x01, UNKNOWN_RPC: 0x02, UNABLE_TO_CONNECT: 0x03, UNKNOWN: 0xff } as const;
const Cmd = { WIFI_SETTINGS: 0x01, GET_CURRENT_STATE: 0x02, GET_DEVICE_INFO: 0x03, GET_WIFI_NETWORKS: 0x04 } as const;

export interface WifiNetwork {
  ssid: string;
  rssi: number;
  secured: boolean;
  /** The password that works (absent: any password is wrong for a secured network). */
  password?: string;
}

export interface ImprovDeviceOptions {
  firmware?: string;
  version?: string;
  chip?: string;
  deviceName?: string;
  networks?: WifiNetwork[];
  /** URL returned after provisioning (the spec's "redirect" URL). */
  url?: string;
  /** The next packet the device sends has its checksum off by one. */
  badChecksumOnce?: boolean;
}

export function improvPacket(type: number, data: Buffer, corrupt = false): Buffer {
  const body = Buffer.concat([HEADER, Buffer.from([1, type, data.length]), data]);
  let sum = 0;
  for (const b of body) sum = (sum + b) & 0xff;
  // The device SDKs end a packet with a newline after the checksum so log readers see line breaks.
  return Buffer.concat([body, Buffer.from([corrupt ? (sum + 1) & 0xff : sum, 0x0a])]);
}

function strings(list: string[]): Buffer {
  return Buffer.concat(list.map((s) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([b.length]), b]);
  }));
}

export class ImprovDevice {
  state: number = ImprovState.AUTHORIZED;
  /** Credentials that were accepted (the board would store them). */
  credentials: { ssid: string; password: string } | null = null;
  /** Packets received with a bad checksum. */
  badChecksums = 0;
  private buf: number[] = [];
  private badOnce: boolean;

  constructor(
    private readonly opts: ImprovDeviceOptions,
    private readonly send: (bytes: Buffer) => void,
    /** Called with the delay (ms) and a step: the provisioning attempt takes a moment, like a real join. */
    private readonly later: (fn: () => void, ms: number) => void = (fn, ms) => void setTimeout(fn, ms),
  ) {
    this.badOnce = !!opts.badChecksumOnce;
  }

  private packet(type: number, data: Buffer): void {
    const corrupt = this.badOnce;
    this.badOnce = false;
    this.send(improvPacket(type, data, corrupt));
  }

  private result(command: number, list: string[]): void {
    const payload = strings(list);
    this.packet(ImprovType.RPC_RESULT, Buffer.concat([Buffer.from([command, payload.length]), payload]));
  }

  private setError(e: number): void {
    this.packet(ImprovType.ERROR_STATE, Buffer.from([e]));
  }

  private setState(s: number): void {
    this.state = s;
    this.packet(ImprovType.CURRENT_STATE, Buffer.from([s]));
  }

  /** Bytes from the host; non-Improv bytes are ignored (as the firmware's console would). */
  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      const pos = this.buf.length;
      // parse_improv_serial_byte: header, version, then type/length, data, checksum.
      if (pos < 6) {
        if (byte === HEADER[pos]) this.buf.push(byte);
        else this.buf = byte === HEADER[0] ? [byte] : [];
        continue;
      }
      if (pos === 6) {
        if (byte === 1) this.buf.push(byte);
        else this.buf = [];
        continue;
      }
      this.buf.push(byte);
      if (this.buf.length < 9) continue;
      const len = this.buf[8]!;
      if (this.buf.length < 9 + len + 1) continue;
      const packet = Buffer.from(this.buf);
      this.buf = [];
      let sum = 0;
      for (let i = 0; i < packet.length - 1; i++) sum = (sum + packet[i]!) & 0xff;
      if (sum !== packet[packet.length - 1]) {
        this.badChecksums++;
        this.setError(ImprovError.INVALID_RPC);
        continue;
      }
      if (packet[7] === ImprovType.RPC) this.rpc(packet.subarray(9, 9 + len));
    }
  }

  private rpc(data: Buffer): void {
    if (data.length < 2 || data[1] !== data.length - 2) return this.setError(ImprovError.INVALID_RPC);
    const command = data[0]!;
    const payload = data.subarray(2);
    switch (command) {
      case Cmd.GET_CURRENT_STATE:
        this.setState(this.state);
        if (this.state === ImprovState.PROVISIONED) this.result(command, this.opts.url ? [this.opts.url] : []);
        return;
      case Cmd.GET_DEVICE_INFO:
        return this.result(command, [this.opts.firmware ?? 'courtside-fw', this.opts.version ?? '1.0.0', this.opts.chip ?? 'ESP32', this.opts.deviceName ?? 'Courtside board']);
      case Cmd.GET_WIFI_NETWORKS:
        for (const n of this.opts.networks ?? []) this.result(command, [n.ssid, String(n.rssi), n.secured ? 'YES' : 'NO']);
        return this.result(command, []);
      case Cmd.WIFI_SETTINGS: {
        const ssidLen = payload[0];
        if (ssidLen === undefined || 2 + ssidLen > payload.length) return this.setError(ImprovError.INVALID_RPC);
        const ssid = payload.subarray(1, 1 + ssidLen).toString('utf8');
        const passLen = payload[1 + ssidLen];
        if (passLen === undefined || 2 + ssidLen + passLen !== payload.length) return this.setError(ImprovError.INVALID_RPC);
        const password = payload.subarray(2 + ssidLen).toString('utf8');
        this.setError(ImprovError.NONE);
        this.setState(ImprovState.PROVISIONING);
        this.later(() => {
          const net = (this.opts.networks ?? []).find((n) => n.ssid === ssid);
          const ok = net && (!net.secured || net.password === password);
          if (!ok) {
            this.state = ImprovState.AUTHORIZED;
            return this.setError(ImprovError.UNABLE_TO_CONNECT);
          }
          this.credentials = { ssid, password };
          this.setState(ImprovState.PROVISIONED);
          this.result(command, this.opts.url ? [this.opts.url] : []);
        }, 30);
        return;
      }
      default:
        return this.setError(ImprovError.UNKNOWN_RPC);
    }
  }
}
