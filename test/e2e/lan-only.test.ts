/**
 * A board seen only on the LAN, in a real browser: Devices lists it as not
 * connected (seen on LAN), Live never offers it, while a connected board is
 * offered. The LAN view comes through the gateway's `lanDevices` hook from a
 * stand-in part, since mDNS may not leave this machine (the real mDNS merge
 * is tested across network namespaces in test/discovery/netns-serve.test.ts).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartFactory } from '../../main/gateway/core.js';
import type { DiscoveredService } from '../../main/gateway/discovery/browse.js';
import { sessionsPart } from '../../main/gateway/sessions/part.js';
import { settingsPart } from '../../main/gateway/settings-part.js';
import { startFleet, type Fleet } from '../../main/simulator/fleet.js';
import { noBrowser, startHarness, type Harness } from './support.js';

/** What the discovery part would report for a board that advertises over mDNS but never connected. */
const lanBoard = (now: number): DiscoveredService => ({
  name: 'racket-lan',
  fqdn: 'racket-lan._courtside-dev._tcp.local',
  host: 'racket-lan.local',
  addresses: ['192.0.2.77'],
  port: 80,
  serviceType: '_courtside-dev._tcp',
  txt: { id: 'racket-lan', fw: '1.4.2', board: 'esp32-s3' },
  firstSeen: now - 5000,
  lastSeen: now - 1000,
  deviceId: 'racket-lan',
  interface: 'wlan0',
});

const lanStandIn: PartFactory = (core) => ({ name: 'lan-stand-in', hooks: { lanDevices: () => [lanBoard(core.clock.now())] } });

describe('a board seen only on the LAN', { skip: noBrowser }, () => {
  let h: Harness;
  let fleet: Fleet;
  before(async () => {
    h = await startHarness({ gateway: { parts: [sessionsPart(), settingsPart(), lanStandIn] } });
    fleet = startFleet({ url: h.gw.url, devices: 1, rateHz: 50, mode: 'batch', streamAlways: true });
    await fleet.ready;
  });
  after(async () => {
    await fleet.stop();
    await h.close();
  });

  test('Devices shows it not connected and seen on LAN; Live offers only the connected board', async () => {
    // The gateway's own answer first: the independent truth the UI must follow.
    const list = (await (await h.gw.http('/api/devices')).json()) as { devices: { device_id: string; online: boolean; source: string }[] };
    assert.deepEqual(list.devices.map((d) => [d.device_id, d.online, d.source]).sort(), [['racket-1', true, 'connected'], ['racket-lan', false, 'lan']]);

    await h.open('devices');
    const lanRow = h.page.locator('tr[data-device="racket-lan"]');
    await lanRow.getByTestId('not-connected').waitFor();
    await lanRow.getByTestId('seen-on-lan').waitFor();
    assert.equal(await lanRow.getByText('online', { exact: true }).count(), 0);
    assert.equal(await lanRow.getByRole('button').count(), 0, 'no command buttons for a board that never connected');
    await h.page.locator('tr[data-device="racket-1"]').getByText('online', { exact: true }).waitFor();
    await h.shot('devices-lan-only');

    await h.open('live');
    // A board's own checkbox in the picker: the page's other one (the shared scale) is there before any board is.
    await h.page.locator('.picker li input[type="checkbox"]').first().waitFor();
    const offered = await h.page.locator('.picker li').allInnerTexts();
    assert.deepEqual(offered.map((t) => t.trim()), ['racket-1']);
    assert.deepEqual(h.errors, []);
  });
});
