/**
 * The gateway's Clock is the one shared with the simulator and the UI client
 * (main/shared/clock.ts, free of Node and gateway imports so the UI bundle can
 * take it); gateway modules keep importing it from here.
 */
export { createSystemClock, ManualClock, systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
