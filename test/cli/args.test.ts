/** The one flag parser behind every `courtside` command: messages, suggestions, value checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choiceFlag, closest, editDistance, intFlag, numberFlag, parse, runCommand, UsageError } from '../../main/cli/args.js';
import { captureIO } from '../support/cli.js';

const options = {
  port: { type: 'string', short: 'p' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
  interface: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(argv: string[], positionals = false): string {
  try {
    parse(argv, options, positionals);
  } catch (err) {
    assert.ok(err instanceof UsageError);
    assert.equal(err.exitCode, 2);
    return err.message;
  }
  assert.fail(`${argv.join(' ')} parsed`);
}

test('values in both spellings, repeats, short flags and positionals', () => {
  const { values, positionals } = parse(['-p', '80', '--data-dir=/d', '--interface', 'a', '--interface=b', 'x', '--', '--json'], options, true);
  assert.deepEqual({ ...values }, { port: '80', 'data-dir': '/d', interface: ['a', 'b'] });
  assert.deepEqual(positionals, ['x', '--json']);
});

test('edit distance: insertions, deletions, substitutions, and a swap of neighbours as one', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('port', 'port'), 0);
  assert.equal(editDistance('prot', 'port'), 1);
  assert.equal(editDistance('jsno', 'json'), 1);
  assert.equal(editDistance('data-dri', 'data-dir'), 1);
  assert.equal(editDistance('ca', 'abc'), 3);
});

test('closest: only near candidates, and the nearest of several', () => {
  assert.equal(closest('prot', ['host', 'port', 'db']), 'port');
  assert.equal(closest('hots', ['host', 'port']), 'host');
  assert.equal(closest('bogus', ['host', 'port', 'db']), undefined);
  assert.equal(closest('xy', ['db']), undefined);
  assert.equal(closest('DATA-DIR', ['data-dir']), 'data-dir');
});

test('unknown options: the nearest flag, or a pointer to --help', () => {
  assert.equal(usage(['--prot', '1']), 'unknown option --prot (did you mean --port?)');
  assert.equal(usage(['--prot=1']), 'unknown option --prot (did you mean --port?)');
  assert.equal(usage(['--data-dri', 'x']), 'unknown option --data-dri (did you mean --data-dir?)');
  assert.equal(usage(['--bogus']), 'unknown option --bogus (see --help)');
  assert.equal(usage(['-x']), 'unknown option -x (see --help)');
  // One dash before a word: parseArgs reads letters, the user meant the word.
  assert.equal(usage(['-json']), 'unknown option -json (did you mean --json?)');
});

test('missing, ambiguous and unwanted values; stray arguments', () => {
  assert.equal(usage(['--port']), 'option --port needs a value');
  assert.equal(usage(['-p']), 'option --port needs a value');
  assert.equal(usage(['--port', '-1']), "option --port got a value starting with '-'; write it as --port=VALUE");
  assert.equal(usage(['--json=yes']), 'option --json takes no value');
  assert.equal(usage(['extra']), "unexpected argument 'extra' (see --help)");
});

test('intFlag, numberFlag, choiceFlag', () => {
  assert.equal(intFlag('port', undefined, 0, 10), undefined);
  assert.equal(intFlag('port', '7', 0, 10), 7);
  assert.throws(() => intFlag('port', '7.5', 0, 10), { message: "--port must be a whole number, got '7.5'" });
  assert.throws(() => intFlag('port', '11', 0, 10), { message: '--port must be between 0 and 10, got 11' });
  assert.equal(numberFlag('rate', '2.5e1', { min: 1, max: 100 }), 25);
  assert.throws(() => numberFlag('rate', '', { min: 1, max: 100 }), { message: "--rate must be a number from 1 to 100, got ''" });
  assert.throws(() => numberFlag('n', '2.5', { min: 1, max: 9, integer: true }), { message: "--n must be an integer from 1 to 9, got '2.5'" });
  assert.equal(numberFlag('s', '0.01', { above: 0, max: 3 }), 0.01);
  assert.throws(() => numberFlag('s', '0', { above: 0, max: 3 }), { message: "--s must be a number above 0 up to 3, got '0'" });
  assert.equal(choiceFlag('mode', 'open', ['open', 'token']), 'open');
  assert.throws(() => choiceFlag('mode', 'tokn', ['open', 'token']), { message: "--mode must be one of open, token, got 'tokn' (did you mean token?)" });
  assert.throws(() => choiceFlag('mode', 'maybe', ['open', 'token']), { message: "--mode must be one of open, token, got 'maybe'" });
});

test('runCommand: a usage error is one line with the prefix and exit 2; other errors pass through', async () => {
  const c = captureIO();
  assert.equal(await runCommand(c.io, async () => { throw new UsageError('two\nlines'); }, { prefix: 'courtside x', seeHelp: true }), 2);
  assert.equal(c.stderr(), 'courtside x: two lines (see --help)\n');
  const d = captureIO();
  assert.equal(await runCommand(d.io, async () => { throw new UsageError('unknown option --a (did you mean --b?)'); }, { seeHelp: true }), 2);
  assert.equal(d.stderr(), 'courtside: unknown option --a (did you mean --b?)\n');
  await assert.rejects(runCommand(captureIO().io, async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await runCommand(captureIO().io, async () => 7), 7);
});

test('range errors cannot contradict themselves: a value read as another number says so', () => {
  // 1e-400 is above 0 as written but 0 as a number; 1e400 is Infinity; 20 nines round up.
  assert.throws(() => numberFlag('lever-arm', '1e-400', { above: 0, max: 3 }), { message: "--lever-arm must be a number above 0 up to 3, got '1e-400' (read as 0)" });
  assert.throws(() => numberFlag('rate', '1e400', { min: 1, max: 2000 }), { message: "--rate must be a number from 1 to 2000, got '1e400' (read as Infinity)" });
  assert.throws(() => intFlag('port', '99999999999999999999', 0, 65535), { message: '--port must be between 0 and 65535, got 99999999999999999999 (read as 100000000000000000000)' });
  // No bound left undefined in the sentence.
  assert.throws(() => numberFlag('x', '11', { max: 10 }), { message: "--x must be a number up to 10, got '11'" });
  // Plain cases read as before.
  assert.throws(() => intFlag('port', '70000', 0, 65535), { message: '--port must be between 0 and 65535, got 70000' });
});
