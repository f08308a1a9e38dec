/**
 * Discovery answers only where boards can connect: `courtside serve --host`
 * in namespace a, boards in namespace b on two links. With a loopback host
 * nothing is advertised on the LAN and the probe socket is bound to that
 * address; with the address of one link, only that link hears of the
 * gateway. `ss` (the kernel's own socket table) is the independent truth for
 * what is bound.
 */
import { after, afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createNetnsPair, type NetnsPair, type NsChild } from '../support/netns.js';
import { buildUi } from '../e2e/support.js';

const FIX = 'test/discovery/fixtures';
const TOKEN = 'netns-operator-token-0123';
const PROBE = JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'racket-1' });

describe('discovery follows the address the gateway listens on', { timeout: 120_000 }, () => {
  let net: NetnsPair;
  let gw: NsChild | undefined;
  const dataDir = `/tmp/courtside-netns-scope-${process.pid}`;

  async function serve(host: string): Promise<void> {
    net ??= await createNetnsPair({ links: 2 });
    gw = net.spawn(net.a, ['env', '-u', 'COURTSIDE_DISCOVERY', process.execPath, '--import', 'tsx', 'main/cli.ts', 'serve', '--host', host, '--port', '8765', '--data-dir', dataDir, '--db', ':memory:', '--operator-token', TOKEN, '--log-level', 'info']);
    const until = Date.now() + 20_000;
    while (!/operator:/.test(gw.stdoutText() + gw.stderr())) {
      if (Date.now() > until) throw new Error(`gateway did not start: ${gw.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Announcements go out right after the start; give the first one a moment.
    await new Promise((r) => setTimeout(r, 500));
  }
  afterEach(async () => {
    gw?.kill();
    await gw?.exited;
    gw = undefined;
  });
  after(async () => {
    await net?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function udpSockets(): Promise<string[]> {
    const r = await net.run(net.a, ['ss', '-Hulpn']);
    return r.stdout.split('\n').filter((l) => /node/.test(l)).map((l) => l.trim().split(/\s+/)[3]!);
  }
  async function probeAnswers(to: string): Promise<string[]> {
    const c = net.node(net.b, `${FIX}/probe.ts`, [JSON.stringify({ port: 8766, waitMs: 1500, sends: [{ to, payload: PROBE }] })]);
    await c.waitFor((m) => m.event === 'done', 15_000, 'probe done');
    return c.messages.filter((m) => m.event === 'answer').map((m) => JSON.parse(m.text as string).urls[0] as string);
  }
  async function gatewaysHeard(iface: string): Promise<{ addresses: string[] }[]> {
    const r = await net.run(net.b, [process.execPath, '--import', 'tsx', `${FIX}/discover.ts`, '--seconds', '2', '--json', '--interface', iface], 20_000);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { serviceType: string; addresses: string[] }[]).filter((d) => d.serviceType === '_courtside._tcp');
  }

  test('--host 127.0.0.1: no mDNS on the LAN, probe bound to 127.0.0.1, no answer from the LAN', async () => {
    await serve('127.0.0.1');
    const bound = await udpSockets();
    assert.ok(bound.includes('127.0.0.1:8766'), bound.join(' '));
    assert.ok(!bound.some((b) => b.endsWith(':5353')), `mDNS socket open: ${bound.join(' ')}`);
    assert.deepEqual(await probeAnswers('10.77.0.255'), []);
    assert.deepEqual(await probeAnswers('10.77.0.1'), []);
    assert.deepEqual(await gatewaysHeard('csl0'), []);
    assert.match(gw!.stdoutText() + gw!.stderr(), /not advertised, the gateway listens on a loopback address only/);
    // The gateway itself says no board can reach it.
    const r = await net.run(net.a, [process.execPath, '--import', 'tsx', `${FIX}/fetch.ts`, 'http://127.0.0.1:8765/api/status', TOKEN]);
    const body = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { body: { board_addresses: unknown } }).body;
    assert.deepEqual(body.board_addresses, [{ address: '127.0.0.1', interface: 'lo', loopback: true }]);
  });

  test('--host on one link: only that link hears of the gateway, with that address', async () => {
    const [l0, l1] = net.links;
    await serve(l1!.a);
    const heard1 = await gatewaysHeard(l1!.name);
    assert.equal(heard1.length, 1, JSON.stringify(heard1));
    assert.deepEqual(heard1[0]!.addresses, [l1!.a]);
    assert.deepEqual(await gatewaysHeard(l0!.name), []);
    assert.deepEqual(await probeAnswers(l1!.a.replace(/\.1$/, '.255')), [`ws://${l1!.a}:8765/`]);
    assert.deepEqual(await probeAnswers(l0!.a.replace(/\.1$/, '.255')), []);
  });

  for (const viewport of ['1366x800', '390x844']) {
    test(`Provisioning pre-fills the LAN address with its interface, not the page's 127.0.0.1 (${viewport})`, async () => {
      await buildUi();
      net ??= await createNetnsPair({ links: 2 });
      const c = net.node(net.a, `${FIX}/ui-prefill.ts`, [viewport]);
      const m = await c.waitFor((x) => x.event === 'prefill', 60_000, 'prefill');
      // The first LAN interface of namespace a, as `ip` set it up.
      const first = net.links[0]!;
      assert.equal(m.single, first.a);
      assert.equal(m.bulk, first.a);
      assert.equal(m.from, `From interface ${first.name}, where the gateway listens.`);
      assert.ok((m.overflow as number) <= 0, `page ${m.overflow as number} px wider than the viewport`);
    });
  }
});
