import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldRuns, median } from '../bench/median.js';

test('median of odd and even counts, unsorted input', () => {
  assert.equal(median([9, 1, 5]), 5);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('three runs fold to medians in the same shape, with the places that differed and their min-max', () => {
  const runs = [
    { bench: 'x', workloads: [{ mode: 'sample', p50: 3, cpu: 1.0 }], loaded: true, n: 50 },
    { bench: 'x', workloads: [{ mode: 'sample', p50: 9, cpu: 1.2 }], loaded: false, n: 50 },
    { bench: 'x', workloads: [{ mode: 'sample', p50: 4, cpu: 1.1 }], loaded: true, n: 50 },
  ];
  const { doc, ranges } = foldRuns(runs);
  assert.deepEqual(doc, { bench: 'x', workloads: [{ mode: 'sample', p50: 4, cpu: 1.1 }], loaded: true, n: 50 });
  assert.deepEqual(ranges, { 'workloads.0.p50': [3, 9], 'workloads.0.cpu': [1.0, 1.2] });
});

test('a run missing a number or with another array length keeps the first run there', () => {
  const { doc, ranges } = foldRuns([{ a: 1, l: [1, 2] }, { a: null, l: [1] }, { a: 3, l: [5, 6] }]);
  assert.deepEqual(doc, { a: 1, l: [1, 2] });
  assert.deepEqual(ranges, {});
});
