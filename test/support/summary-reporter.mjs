// Custom node:test reporter: counts leaf tests and writes them as one JSON
// line, {"passed","failed","skipped","failures"}; test/run.ts adds up its
// groups (unit, integration) and prints CI's closing line from the sums.
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0;
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    // Suites and file-level wrappers report too; count only leaves. A skipped
    // suite is the exception: its tests never report, so it counts as one skip.
    if (d.details?.type === 'suite' && !(d.skip || d.todo)) continue;
    if (event.type === 'test:fail' && d.details?.error?.failureType === 'subtestsFailed') continue;
    if (d.skip || d.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else { failed++; failures.push(`${d.file ?? ''} :: ${d.name}`); }
  }
  yield JSON.stringify({ passed, failed, skipped, failures }) + '\n';
}
