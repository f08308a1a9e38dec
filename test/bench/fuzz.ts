/**
 * `npm run fuzz`: the hostile-input run against `courtside serve`, as JSON.
 *   --frames N (default 200000)   --http N (default 20000)   --seed N (default 1)
 */
import { parseArgs } from 'node:util';
import { runFuzz } from '../support/fuzz.js';

const { values } = parseArgs({ options: { frames: { type: 'string' }, http: { type: 'string' }, seed: { type: 'string' } } });
const result = await runFuzz({ frames: Number(values.frames ?? 200_000), httpRequests: Number(values.http ?? 20_000), seed: Number(values.seed ?? 1) });
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
process.exit(result.crashed || result.unanswered_batches > 0 || result.http_5xx_other_than_503 > 0 || result.health_after !== 200 ? 1 : 0);
