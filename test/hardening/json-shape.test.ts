/**
 * The bound on nesting and size of every JSON value a client sends, with the
 * hostile shapes that broke the device list: built as text and parsed, as the
 * gateway receives them, and checked against counts computed here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BoardFrames,
  FrameParser,
  MAX_JSON_DEPTH,
  MAX_JSON_VALUES,
  MAX_BATCH_SAMPLES,
  jsonShapeError,
} from '../../firmware-protocol/index.js';

const board = new FrameParser(BoardFrames);
const deepArrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObjects = (levels: number) => '{"a":'.repeat(levels) + 'null' + '}'.repeat(levels);

describe('JSON shape guard', () => {
  test('the 20,000-deep status that broke the device list is refused as BAD_FRAME, naming the field', () => {
    const text = `{"type":"status_update","status":{"x":${deepArrays(20_000)}}}`;
    assert.ok(text.length > 40_000);
    // The premise: JSON.parse takes it, JSON.stringify of it overflows the stack.
    const parsed: unknown = JSON.parse(text);
    assert.throws(() => JSON.stringify(parsed), RangeError);
    const r = board.parse(text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'BAD_FRAME');
    assert.equal(r.error.message, `status is nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  test('deep objects and deep arrays: exactly the limit passes, one more level is refused', () => {
    // The frame is level 1; `{"type":..,"status":{..}}` puts status at 2.
    for (const [name, make] of [['arrays', deepArrays], ['objects', deepObjects]] as const) {
      const at = (levels: number) => JSON.parse(`{"type":"status_update","status":{"v":${make(levels)}}}`) as unknown;
      // status (2) + its value: `levels` more containers.
      const fits = MAX_JSON_DEPTH - 2;
      assert.equal(jsonShapeError(at(fits)), null, `${name}: ${fits} levels inside status`);
      assert.match(String(jsonShapeError(at(fits + 1))), /^status is nested deeper than 32 levels$/, name);
      assert.equal(board.check(at(fits)).ok, true, name);
    }
  });

  test('a deep value inside an array names the array item; the guard itself never recurses', () => {
    const v = JSON.parse(`[1, ${deepObjects(200_000)}]`) as unknown;
    assert.equal(jsonShapeError(v), 'frame[1] is nested deeper than 32 levels');
  });

  test('wide objects and long arrays: the value count is bounded, and a full sample batch fits', () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < MAX_JSON_VALUES + 1; i++) wide['k' + i] = i;
    const msg = jsonShapeError({ type: 'status_update', status: wide });
    assert.match(String(msg), /more than 50000 values/);
    assert.match(String(jsonShapeError(new Array(MAX_JSON_VALUES + 1).fill(0))), /more than 50000 values/);
    // Many small objects count their members too.
    const many = Array.from({ length: MAX_JSON_VALUES / 2 }, () => ({ a: 1 }));
    assert.match(String(jsonShapeError({ many })), /more than 50000 values/);
    // The largest legitimate frame on the hot path.
    const batch = { type: 'batch_sensor_data', seq: 0, start_ms: 0, rate_hz: 200, samples: Array.from({ length: MAX_BATCH_SAMPLES }, () => [0, 0, 1, 0, 0, 0]) };
    assert.equal(jsonShapeError(batch), null);
    assert.equal(board.check(batch).ok, true);
  });

  test('primitives, empty containers and __proto__ keys are fine', () => {
    for (const v of [null, 1, 'x', true, [], {}, JSON.parse('{"__proto__":{"a":[1,2]}}') as unknown]) assert.equal(jsonShapeError(v), null);
    assert.equal(jsonShapeError(JSON.parse(`{"__proto__":${deepObjects(40)}}`)), '__proto__ is nested deeper than 32 levels');
  });
});
