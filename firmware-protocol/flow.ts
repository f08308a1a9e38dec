/**
 * Flow control frames the gateway sends on its own: what an operator lost
 * when it read too slowly. No I/O.
 */
import { Type, type Static } from '@sinclair/typebox';

/**
 * To an operator whose unread frames passed a quarter of the send-buffer cap:
 * live sample batches were left out meanwhile (never events or replies), and
 * this says how many, once it reads again. Past the whole cap the connection
 * is closed (1008).
 */
export const SamplesDroppedFrame = Type.Object(
  {
    type: Type.Literal('samples_dropped'),
    batches: Type.Integer({ minimum: 1, description: 'Sensor batches left out of sensor_samples frames.' }),
    samples: Type.Integer({ minimum: 0, description: 'Samples in those batches.' }),
    since: Type.String({ description: 'When the first was left out (ISO 8601).' }),
    reason: Type.String(),
  },
  { $id: 'SamplesDroppedFrame', title: 'samples_dropped' },
);
export type SamplesDroppedFrame = Static<typeof SamplesDroppedFrame>;
