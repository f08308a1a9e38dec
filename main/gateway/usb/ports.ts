/**
 * Serial ports with their USB identity. node serialport lists them through
 * `udevadm` on Linux, which containers and minimal systems lack (`spawn
 * udevadm ENOENT`); there we read the same facts from /sys/class/tty and
 * /dev/serial/by-id ourselves instead of failing.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SerialPort } from 'serialport';
import { boardHint, type UsbPortInfo } from '../../../firmware-protocol/usb.js';
import { errorText, usbErrorWithCause } from './errors.js';

export type SerialPortInfo = UsbPortInfo;

/** What node serialport's list() returns (the fields we use). */
export interface OsPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  pnpId?: string;
  locationId?: string;
  vendorId?: string;
  productId?: string;
}

export interface ListPortsOptions {
  /** node serialport's list (replaced in tests). */
  lister?: () => Promise<OsPortInfo[]>;
  /** Root of sysfs and /dev (tests point these at a fake tree). */
  sysRoot?: string;
  devRoot?: string;
  platform?: NodeJS.Platform;
  /** More device paths to list when they exist; a `*` in the last segment matches names (virtual boards, pty pairs). */
  extra?: readonly string[];
}

/** Device names that are serial ports a board can be on; legacy ttyS* UARTs are left out. */
const TTY_NAME = /^(ttyUSB|ttyACM|ttyWCH|ttyXRUSB|ttyAMA|ttyMFD|ttyO|rfcomm|ttyCH343USB)\d+$/;

function hex4(v: string | undefined | null): string | null {
  if (!v) return null;
  const s = v.trim().toLowerCase().replace(/^0x/, '');
  return /^[0-9a-f]{1,4}$/.test(s) ? s.padStart(4, '0') : null;
}

function readText(path: string): string | null {
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t === '' ? null : t;
  } catch {
    return null;
  }
}

/** /dev/serial/by-id links, keyed by the device path they point at. */
function byIdLinks(devRoot: string): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(devRoot, 'serial', 'by-id');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const target = resolve(dir, readlinkSync(join(dir, n)));
      out.set(join(devRoot, basename(target)), join(dir, n));
    } catch {
      /* a dangling link: the device is going away */
    }
  }
  return out;
}

/** The sysfs directory of the USB device (the one with idVendor) above a tty. */
function usbDeviceDir(ttyDevice: string, sysRoot: string): string | null {
  let dir: string;
  try {
    dir = realpathSync(ttyDevice);
  } catch {
    return null;
  }
  const stop = resolve(sysRoot);
  for (let i = 0; i < 8 && dir.startsWith(stop) && dir !== stop; i++) {
    if (existsSync(join(dir, 'idVendor'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

/** Lists ports from sysfs alone (no udev): what `udevadm info -e` would have said. */
export function listSysfsPorts(sysRoot = '/sys', devRoot = '/dev'): SerialPortInfo[] {
  const classDir = join(sysRoot, 'class', 'tty');
  let names: string[];
  try {
    names = readdirSync(classDir);
  } catch {
    return [];
  }
  const links = byIdLinks(devRoot);
  const ports: SerialPortInfo[] = [];
  for (const name of names.filter((n) => TTY_NAME.test(n)).sort(naturalCompare)) {
    const deviceLink = join(classDir, name, 'device');
    if (!existsSync(deviceLink)) continue;
    const usb = usbDeviceDir(deviceLink, sysRoot);
    const path = join(devRoot, name);
    const vendor = usb ? hex4(readText(join(usb, 'idVendor'))) : null;
    const product = usb ? hex4(readText(join(usb, 'idProduct'))) : null;
    ports.push({
      path,
      vendor_id: vendor,
      product_id: product,
      serial_number: usb ? readText(join(usb, 'serial')) : null,
      manufacturer: usb ? readText(join(usb, 'manufacturer')) : null,
      product: usb ? readText(join(usb, 'product')) : null,
      location: usb ? basename(usb) : null,
      by_id: links.get(path) ?? null,
      hint: boardHint(vendor ?? undefined, product ?? undefined),
      source: 'sysfs',
    });
  }
  return ports;
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function fromOs(p: OsPortInfo, links: Map<string, string>): SerialPortInfo {
  const vendor = hex4(p.vendorId);
  const product = hex4(p.productId);
  return {
    path: p.path,
    vendor_id: vendor,
    product_id: product,
    serial_number: p.serialNumber ?? null,
    manufacturer: p.manufacturer ?? null,
    product: null,
    location: p.locationId ?? null,
    by_id: links.get(p.path) ?? (p.pnpId && !p.pnpId.includes('\\') ? `/dev/serial/by-id/${p.pnpId}` : null),
    hint: boardHint(vendor ?? undefined, product ?? undefined),
    source: 'os',
  };
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return true; // a dangling link: not a port (any more)
  }
}

/** Existing paths named by `extra` (a `*` in the last segment is a wildcard). */
export function expandExtra(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    if (!p) continue;
    const name = basename(p);
    if (!name.includes('*')) {
      if (existsSync(p)) out.push(p);
      continue;
    }
    const re = new RegExp('^' + name.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
    try {
      for (const n of readdirSync(dirname(p)).sort(naturalCompare)) {
        const full = join(dirname(p), n);
        if (re.test(n) && !isDir(full)) out.push(full);
      }
    } catch {
      /* folder not there (yet) */
    }
  }
  return [...new Set(out)];
}

/** Extra port patterns from COURTSIDE_EXTRA_PORTS (comma-separated). */
export function extraFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.COURTSIDE_EXTRA_PORTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function extraPort(path: string): SerialPortInfo {
  return { path, vendor_id: null, product_id: null, serial_number: null, manufacturer: null, product: null, location: null, by_id: null, hint: 'virtual', source: 'extra' };
}

/** Set once udevadm turned out to be missing: no point spawning it on every poll. */
let udevMissing = false;

async function osLister(): Promise<OsPortInfo[]> {
  if (udevMissing && process.platform === 'linux') throw new Error('udevadm is missing');
  try {
    return (await SerialPort.list()) as OsPortInfo[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /ENOENT/.test(errorText(err))) udevMissing = true;
    throw err;
  }
}

/**
 * Every serial port a board could be on. On Linux a failing udev lister falls
 * back to sysfs; elsewhere the OS lister is all there is, and its failure is
 * a PORT_LIST_FAILED.
 */
export async function listPorts(opts: ListPortsOptions = {}): Promise<SerialPortInfo[]> {
  const platform = opts.platform ?? process.platform;
  const sysRoot = opts.sysRoot ?? '/sys';
  const devRoot = opts.devRoot ?? '/dev';
  const lister = opts.lister ?? osLister;
  let ports: SerialPortInfo[];
  try {
    const links = platform === 'linux' ? byIdLinks(devRoot) : new Map<string, string>();
    ports = (await lister())
      .filter((p) => platform !== 'linux' || TTY_NAME.test(basename(p.path)))
      .map((p) => fromOs(p, links));
    // A container may have udevadm but no udev database: nothing listed, while sysfs knows the devices.
    if (platform === 'linux' && ports.length === 0) ports = listSysfsPorts(sysRoot, devRoot);
  } catch (err) {
    if (platform !== 'linux') throw usbErrorWithCause(err, 'PORT_LIST_FAILED', errorText(err));
    ports = listSysfsPorts(sysRoot, devRoot);
  }
  const known = new Set(ports.map((p) => p.path));
  for (const path of expandExtra([...(opts.extra ?? []), ...extraFromEnv()])) {
    if (!known.has(path)) ports.push(extraPort(path));
  }
  return ports;
}

/** True if a device path exists now (a vanished board's path disappears). */
export function portExists(path: string): boolean {
  if (/^COM\d+$/i.test(path)) return true; // Windows: only opening tells
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
