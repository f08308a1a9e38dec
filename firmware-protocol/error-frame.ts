/**
 * The `error` frame of every WebSocket endpoint as a schema: the frame codes
 * of errors.ts, plus the USB codes that only usb_* requests on /ws/admin/ get.
 */
import { Type, type Static } from '@sinclair/typebox';
import { FrameErrorCodes } from './errors.js';
import { UsbErrorCodeNames } from './usb.js';

export const ErrorCodes = [...Object.keys(FrameErrorCodes), ...UsbErrorCodeNames.filter((c) => !(c in FrameErrorCodes))];

export const ErrorFrameSchema = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(ErrorCodes.map((c) => Type.Literal(c)), {
    description: 'Stable; match on this, not on message. The USB codes (PORT_NOT_FOUND, ...) come only from usb_* requests on /ws/admin/.',
  }),
  message: Type.String({ description: 'For people; may name the field or value at fault.' }),
  // Number, not integer: a refused request's id is echoed as it came, even when it was not a valid id.
  id: Type.Optional(Type.Union([Type.String(), Type.Number()], { description: 'Echo of the request id (operator endpoint).' })),
});
/** An error frame as a client receives it (any endpoint, USB codes included). */
export type ErrorFrameJson = Static<typeof ErrorFrameSchema>;
