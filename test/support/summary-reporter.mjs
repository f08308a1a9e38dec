// Custom node:test reporter: counts leaf tests and prints CI's closing line.
export default async function* summary(source) {
  let passed = 0, failed = 0, skipped = 0;
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    // Suites and file-level wrappers report too; count only leaves.
    if (d.details?.type === 'suite') continue;
    if (event.type === 'test:fail' && d.details?.error?.failureType === 'subtestsFailed') continue;
    if (d.skip || d.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else { failed++; failures.push(`${d.file ?? ''} :: ${d.name}`); }
  }
  if (failures.length) yield `\nfailed tests:\n${failures.map((f) => '  ' + f).join('\n')}\n`;
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
