/**
 * The Live view's backfill: the samples a board streamed in the last minutes,
 * as the gateway still holds them, so a chart opened (or widened) now starts
 * full instead of empty. Live samples after that come as `sensor_samples`.
 */
import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Int, Str, reply } from './wire.js';

const RequestId = Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()]));

function request<P extends TProperties, T extends string>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: RequestId, ...props }, { $id: `Operator_${type}`, title: type });
}

/** The longest backfill the gateway keeps per board, seconds. */
export const RECENT_SAMPLES_SECONDS = 300;
/** Above this rate a board's recent samples are kept decimated (every k-th), so a board costs at most 300 s x 200 samples. */
export const RECENT_SAMPLES_MAX_HZ = 200;

export const LiveOperatorFrames = {
  get_recent_samples: request('get_recent_samples', {
    device_id: Type.String({ minLength: 1, maxLength: 128 }),
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: RECENT_SAMPLES_SECONDS, description: 'How far back from the board\'s newest sample. Default 60.' })),
  }),
} as const;

/** A run of samples at one rate without a gap: sample i is at `start_ms + i * 1000 / rate_hz` (board clock). */
export const RecentRunSchema = Type.Object({
  start_ms: Type.Number(),
  rate_hz: Type.Number({ description: 'The rate as kept: the board\'s rate divided by `decimation`; 0 for samples sent one per frame (then each run is one sample).' }),
  samples: Type.Array(Type.Array(Type.Number(), { minItems: 6, maxItems: 6 }), { description: '[ax, ay, az, gx, gy, gz]: g and degrees/s, as the board sent them.' }),
});
export type RecentRun = Static<typeof RecentRunSchema>;

export const LiveReplyFrames = {
  recent_samples: reply('recent_samples', {
    device_id: Str,
    seconds: Int,
    decimation: Type.Integer({ minimum: 1, description: '1: every sample the board sent; k: every k-th (boards above 200 Hz).' }),
    runs: Type.Array(RecentRunSchema, { description: 'Oldest first; empty when the gateway holds nothing of this board.' }),
  }),
} as const;
export type RecentSamplesReply = Static<typeof LiveReplyFrames.recent_samples>;

export const LiveReplyTypeOf = { get_recent_samples: 'recent_samples' } as const;
