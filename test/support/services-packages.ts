/**
 * The system packages the tests need, checked by what they put on disk (so a
 * machine that got them some other way passes too). As root on Debian the
 * missing ones are installed with apt-get; anywhere else the caller gets the
 * list and the command to print.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

/** Debian's python3, where apt puts python3-websockets and python3-zeroconf (a pyenv python on PATH may lack them). */
const PYTHON = '/usr/bin/python3';

/** Where the usual Chromium and Chrome packages put the browser. */
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome', '/snap/bin/chromium'];

/** COURTSIDE_CHROMIUM when set (even if wrong: the tests then say so), else the first usual path that exists. */
export function findChromium(): string | undefined {
  const named = process.env.COURTSIDE_CHROMIUM;
  if (named) return named;
  return CHROMIUM_PATHS.find((p) => existsSync(p));
}

export function findProgram(name: string): string | undefined {
  // /usr/sbin is not on a normal user's PATH, and mariadbd lives there.
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  return dirs.map((d) => `${d}/${name}`).find((p) => existsSync(p));
}

interface Need {
  /** The Debian package. */
  pkg: string;
  /** Why the tests need it (shown when it is missing). */
  why: string;
  present(): boolean;
}

function pythonModules(): Set<string> {
  if (!existsSync(PYTHON)) return new Set();
  const r = spawnSync(PYTHON, ['-c', 'import importlib.util as u\nfor m in ("websockets", "zeroconf"):\n    print(m) if u.find_spec(m) else None'], { encoding: 'utf8' });
  return new Set((r.stdout ?? '').split('\n').filter(Boolean));
}

function needs(opts: { redis: boolean }): Need[] {
  let modules: Set<string> | undefined;
  const mod = (m: string) => (modules ??= pythonModules()).has(m);
  const prog = (name: string) => () => findProgram(name) !== undefined;
  const list: Need[] = [
    { pkg: 'python3', why: 'the Python clients and mDNS peers', present: () => existsSync(PYTHON) },
    { pkg: 'python3-websockets', why: "the room protocol's Python client", present: () => mod('websockets') },
    { pkg: 'python3-zeroconf', why: 'mDNS peers in network namespaces', present: () => mod('zeroconf') },
    { pkg: 'avahi-utils', why: 'mDNS tests', present: prog('avahi-browse') },
    { pkg: 'iproute2', why: 'network namespaces', present: prog('ip') },
    { pkg: 'socat', why: 'pty pairs standing in for boards', present: prog('socat') },
    { pkg: 'gcc', why: 'the C header for firmware authors must compile', present: prog('gcc') },
    { pkg: 'libc6-dev', why: 'C headers for the firmware header test', present: () => existsSync('/usr/include/stdint.h') },
    { pkg: 'chromium', why: 'the UI end-to-end tests (or set COURTSIDE_CHROMIUM)', present: () => findChromium() !== undefined },
    { pkg: 'fonts-dejavu-core', why: 'stable text in UI screenshots', present: () => existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') },
    { pkg: 'unzip', why: 'export checks', present: prog('unzip') },
    { pkg: 'openssl', why: 'serve --tls signs its certificate with it, and the TLS tests check fingerprints with it', present: prog('openssl') },
    { pkg: 'mariadb-server', why: 'the private MariaDB of a test run', present: () => !!findProgram('mariadbd') && !!findProgram('mariadb-install-db') },
  ];
  if (opts.redis) list.push({ pkg: 'redis-server', why: 'the private Redis of a test run', present: prog('redis-server') });
  return list;
}

export interface PackageCheck {
  missing: { pkg: string; why: string }[];
  /** Set when they cannot be installed here: what to tell the user. */
  message?: string;
}

function canApt(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && findProgram('apt-get') !== undefined;
}

function aptInstall(pkgs: string[], log: (line: string) => void): void {
  log(`installing with apt-get: ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // The tests start their own MariaDB and Redis: a package's postinst must not start (and enable)
  // a system service. policy-rc.d answering 101 is Debian's way to say so.
  const policy = '/usr/sbin/policy-rc.d';
  const addedPolicy = !existsSync(policy);
  if (addedPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const run = (args: string[]) => {
      const r = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed:\n${`${r.stdout}${r.stderr}`.split('\n').slice(-40).join('\n')}`);
    };
    run(['update', '-qq']);
    // force-unsafe-io: no fsync per unpacked file; a test machine that loses power is set up again anyway.
    run(['install', '-y', '-qq', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-unsafe-io', ...pkgs]);
  } finally {
    if (addedPolicy) rmSync(policy, { force: true });
  }
}

/** Installs what is missing when it can (root on Debian); otherwise says what to install. */
export function ensurePackages(opts: { redis: boolean; log: (line: string) => void }): PackageCheck {
  const missing = needs(opts).filter((n) => !n.present());
  if (missing.length === 0) return { missing: [] };
  const pkgs = missing.map((n) => n.pkg);
  if (canApt()) {
    aptInstall(pkgs, opts.log);
    const still = needs(opts).filter((n) => !n.present());
    if (still.length === 0) return { missing: [] };
    return { missing: still, message: `apt-get installed ${pkgs.join(' ')} but these are still missing: ${still.map((n) => n.pkg).join(' ')}` };
  }
  const lines = missing.map((n) => `  ${n.pkg.padEnd(20)} ${n.why}`);
  const message =
    `The tests need these packages (Debian names), which are not installed:\n${lines.join('\n')}\n` +
    `Install them with:\n  sudo apt-get install --no-install-recommends ${pkgs.join(' ')}\n` +
    '(as root, `npm test` installs them itself.)';
  return { missing, message };
}
