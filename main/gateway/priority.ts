/** Delivery priority of what waits for a client (commands, queued room messages, notifications). */
export type Priority = 'high' | 'normal' | 'low';
/** Stored ranks: ascending order is delivery order. */
export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
export const priorityName = (rank: number): Priority => (rank <= 0 ? 'high' : rank >= 2 ? 'low' : 'normal');
