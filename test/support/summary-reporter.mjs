// Custom node:test reporter: counts leaf tests as JSON,
// {"passed","failed","skipped","failures"}; test/run.ts adds up its groups
// (unit, integration) and prints CI's closing line from the sums.
//
// The counts are also written, synchronously after every test, to the file
// named by COURTSIDE_TEST_SUMMARY: with --test-force-exit the runner may end
// before a reporter's output stream is flushed, never before this write.
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const file = process.env.COURTSIDE_TEST_SUMMARY;
  const totals = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const save = () => { if (file) writeFileSync(file, JSON.stringify(totals) + '\n'); };
  save();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    // Suites and file-level wrappers report too; count only leaves. A skipped
    // suite is the exception: its tests never report, so it counts as one skip.
    if (d.details?.type === 'suite' && !(d.skip || d.todo)) continue;
    if (event.type === 'test:fail' && d.details?.error?.failureType === 'subtestsFailed') continue;
    if (d.skip || d.todo) totals.skipped++;
    else if (event.type === 'test:pass') totals.passed++;
    else { totals.failed++; totals.failures.push(`${d.file ?? ''} :: ${d.name}`); }
    save();
  }
  yield JSON.stringify(totals) + '\n';
}
