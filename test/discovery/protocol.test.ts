import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSED_SERVICE_TYPES,
  PROBE_PORT,
  discoveredDeviceId,
  gatewayBaseUrl,
  gatewayTxt,
  parseProbe,
  parseProbeAnswer,
  probeAnswerFrame,
  probeFrame,
} from '../../firmware-protocol/discovery.js';

test('a well-formed probe parses; extra fields are allowed for later firmware', () => {
  const r = parseProbe('{"type":"courtside_probe","v":1,"device_id":"racket-1","fw":"2.0"}');
  assert.ok(r.ok);
  assert.equal(r.value.device_id, 'racket-1');
  assert.deepEqual(probeFrame('racket-1'), { type: 'courtside_probe', v: 1, device_id: 'racket-1' });
});

test('malformed probes are rejected with a reason', () => {
  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[1,2]', /object/],
    ['{"type":"courtside_probe","v":1}', /device_id is required/],
    ['{"type":"courtside_probe","v":1,"device_id":""}', /device_id/],
    ['{"type":"courtside_probe","v":0,"device_id":"a"}', /v must be at least 1/],
    ['{"type":"courtside_probe","v":1.5,"device_id":"a"}', /v/],
    ['{"type":"hello","v":1,"device_id":"a"}', /type must be "courtside_probe"/],
    [JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'x'.repeat(129) }), /device_id must be at most 128/],
  ];
  for (const [text, why] of bad) {
    const r = parseProbe(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, why, text);
  }
});

test('the probe answer round-trips through its own validator', () => {
  const a = probeAnswerFrame({ gatewayId: 'gw', urls: ['ws://10.0.0.2:8765/'], boardPath: '/ws/esp32/', auth: 'open' });
  assert.deepEqual(a, { type: 'courtside_here', v: 1, gateway_id: 'gw', urls: ['ws://10.0.0.2:8765/'], board_path: '/ws/esp32/', auth: 'open' });
  const r = parseProbeAnswer(JSON.stringify(a));
  assert.ok(r.ok);
  assert.equal(parseProbeAnswer(JSON.stringify({ ...a, urls: [] })).ok, false);
  assert.equal(parseProbeAnswer(JSON.stringify({ ...a, auth: 'maybe' })).ok, false);
});

test('TXT, device ids, URLs and constants', () => {
  assert.deepEqual(gatewayTxt({ protocolVersion: 1, path: '/ws/esp32/', auth: 'token', gatewayId: 'gw-1' }), { pv: '1', path: '/ws/esp32/', auth: 'token', id: 'gw-1' });
  assert.equal(discoveredDeviceId({ id: 'racket-9' }, 'esp32-abc'), 'racket-9');
  assert.equal(discoveredDeviceId({ id: '' }, 'esp32-abc'), 'esp32-abc');
  assert.equal(discoveredDeviceId({}, 'esp32-abc'), 'esp32-abc');
  assert.equal(gatewayBaseUrl('192.168.1.4', 8765), 'ws://192.168.1.4:8765/');
  assert.equal(gatewayBaseUrl('fe80::1', 8765), 'ws://[fe80::1]:8765/');
  assert.equal(PROBE_PORT, 8766);
  assert.deepEqual([...BROWSED_SERVICE_TYPES], ['_courtside-dev._tcp', '_esphomelib._tcp', '_arduino._tcp', '_wled._tcp', '_http._tcp']);
});
