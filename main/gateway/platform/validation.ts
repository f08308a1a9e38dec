/**
 * The Node WebSocket module's validation middleware: bounds on a frame's
 * size and its content's, the types allowed, and text made safe to show in
 * a page (HTML's special characters escaped in `content.text`). A refused
 * frame gets BAD_FRAME with the frame's id; the handler never sees it.
 */
import { gatewayError } from '../errors.js';
import type { MessageMiddleware } from './platform.js';

export interface ValidationOptions {
  /** Bytes of the whole frame as JSON. Default 10000. */
  maxMessageLength?: number;
  /** Bytes of `content` as JSON. Default 8000. */
  maxContentLength?: number;
  /** Types let through; default every type. */
  allowedTypes?: string[];
  /** Escape `& < > " '` in `content.text`. Default false. */
  enableSanitization?: boolean;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function validationMiddleware(o: ValidationOptions = {}): MessageMiddleware {
  const maxMessage = o.maxMessageLength ?? 10_000;
  const maxContent = o.maxContentLength ?? 8_000;
  const allowed = o.allowedTypes ? new Set(o.allowedTypes) : null;
  const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v) ?? '').length;
  return {
    type: 'message',
    handler(message, _connection, next) {
      if (allowed && !allowed.has(message.type)) throw gatewayError('BAD_FRAME', `type '${message.type.slice(0, 64)}' is not allowed here`);
      const size = bytes(message);
      if (size > maxMessage) throw gatewayError('BAD_FRAME', `frame of ${size} bytes is over the ${maxMessage} allowed`);
      const contentSize = bytes(message.content ?? null);
      if (contentSize > maxContent) throw gatewayError('BAD_FRAME', `content of ${contentSize} bytes is over the ${maxContent} allowed`);
      const c = message.content as { text?: unknown } | undefined;
      if (o.enableSanitization && c && typeof c.text === 'string') c.text = c.text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
      return next();
    },
  };
}
