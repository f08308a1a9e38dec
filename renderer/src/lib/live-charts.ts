/**
 * The Live view's drawing: two uPlot charts per board (accelerometer,
 * gyroscope) redrawn from the ring buffers in one requestAnimationFrame loop.
 *
 * What keeps 20 boards at 200 Hz under a frame's budget:
 * - one loop for every chart, and a chart is redrawn only when its window
 *   moved (new samples, or the clock advanced) and it is on screen;
 * - each board's window is read once per frame into arrays allocated once,
 *   thinned to about one point per pixel column (each pair of columns keeps its extremes);
 * - the y range snaps to a few fixed spans, so axes do not rescale on every
 *   sample; no legend or cursor updates while streaming;
 * - when frames come late (a slow machine, many charts on screen), charts
 *   take turns: each is redrawn every 2nd, 3rd or 4th frame, so the page
 *   keeps answering at the display's rate instead of every chart dropping
 *   to the rate of all of them together.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { windowArrays, type BoardStream, type WindowArrays } from './ring.js';
import { SPANS, snapSpan, type ChartKind } from './live-charts-math.js';
import { chartColors, onSchemeChange, type ChartColors } from './live-charts-theme.js';

export type { ChartKind };

const COLORS = ['#d1495b', '#2e86ab', '#3b8b3b', '#6b4fbb'];
const UNITS: Record<ChartKind, string> = { accel: 'g', gyro: '°/s' };

interface Chart {
  el: HTMLElement;
  kind: ChartKind;
  plot: uPlot;
  visible: boolean;
  /** Drawn with a window, scale or history that changed since: drawn once more even off screen, so scrolling to it shows no stale window. */
  stale: boolean;
  width: number;
  span: number;
}

interface Board {
  id: string;
  charts: Chart[];
  buf: WindowArrays;
  /** |a| and |ω| of the points read, allocated once. */
  mag: [Float32Array, Float32Array];
  lastVersion: number;
  /** The ring drawn last: a backfill replaces it. */
  ring: unknown;
  lastEdge: number;
  points: number;
}

export interface LiveStats {
  frames: number;
  /** Time spent drawing in each of the last frames, ms (ring of 600), uPlot's deferred commit included. */
  workMs: Float64Array;
  /** Points drawn per board in its last redraw. */
  points: Record<string, number>;
  /** Frames over which every chart is redrawn once (1: every frame). */
  stride: number;
}

/** Frame interval (smoothed) above which charts start taking turns, and below which they stop. */
const SLOW_MS = 21;
const FAST_MS = 17.5;
const MAX_STRIDE = 4;

/** Upper bound of points per chart: a 4K-wide chart at one point per column. */
const MAX_POINTS = 4096;

function makeOptions(kind: ChartKind, width: number, height: number, windowS: () => number, spanOf: () => number, colors: () => ChartColors): uPlot.Options {
  // The three axes and the magnitude (|a| or |ω|), which shows a swing whatever the racket's orientation.
  const names = kind === 'accel' ? ['ax', 'ay', 'az', '|a|'] : ['gx', 'gy', 'gz', '|ω|'];
  return {
    width,
    height,
    // Values on hover: the legend follows the cursor only while the pointer is over the chart.
    legend: { show: true, live: true },
    cursor: { show: true, y: false, points: { show: false }, drag: { x: false, y: false, setScale: false } },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    pxAlign: 0,
    scales: {
      x: { time: false, range: () => [-windowS(), 0] },
      y: { range: () => [-spanOf(), spanOf()] },
    },
    axes: [
      { size: 28, values: (_u, ticks) => ticks.map((t) => `${t} s`), stroke: () => colors().axis, grid: { stroke: () => colors().grid }, ticks: { show: false } },
      { size: 52, label: UNITS[kind], labelSize: 14, stroke: () => colors().axis, grid: { stroke: () => colors().grid }, ticks: { show: false } },
    ],
    series: [{ label: 't', value: (_u, v) => (v === null || v === undefined ? '–' : `${v.toFixed(2)} s`) }, ...names.map((label, i) => ({ label, stroke: COLORS[i], width: i === 3 ? 1.75 : 1.25, points: { show: false }, value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : `${v.toFixed(kind === 'accel' ? 2 : 0)} ${UNITS[kind]}`) }))],
  };
}

export class LiveCharts {
  private readonly boards = new Map<string, Board>();
  private raf = 0;
  private windowS = 10;
  private lagMs = 150;
  private paused = false;
  private shared = false;
  /** The largest span per kind over every board, the range of every chart when the scale is shared. */
  private readonly sharedSpan: Record<ChartKind, number> = { accel: SPANS.accel[0]!, gyro: SPANS.gyro[0]! };
  private readonly observer: ResizeObserver;
  private readonly visibility: IntersectionObserver;
  readonly stats: LiveStats = { frames: 0, workMs: new Float64Array(600), points: {}, stride: 1 };
  private lastFrameAt = 0;
  private avgInterval = 16.7;
  private strideChangedAt = 0;
  /** The theme's axis and grid colours, read again when the system switches scheme. */
  private colors: ChartColors = chartColors();
  private readonly offScheme: () => void;

  constructor(private readonly streamOf: (id: string) => BoardStream | undefined) {
    this.offScheme = onSchemeChange(() => {
      this.colors = chartColors();
      for (const b of this.boards.values()) for (const c of b.charts) c.plot.redraw(false, true);
    });
    this.observer = new ResizeObserver((entries) => {
      for (const e of entries) {
        const c = this.chartOf(e.target as HTMLElement);
        if (!c) continue;
        const w = Math.max(120, Math.floor(e.contentRect.width));
        if (w !== c.width) {
          c.width = w;
          c.plot.setSize({ width: w, height: c.plot.height });
        }
      }
    });
    // Charts scrolled out of view cost nothing: a tablet shows a few boards at a time.
    this.visibility = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const c = this.chartOf(e.target as HTMLElement);
        if (c) c.visible = e.isIntersecting;
      }
    });
  }

  private chartOf(el: HTMLElement): Chart | undefined {
    for (const b of this.boards.values()) for (const c of b.charts) if (c.el === el) return c;
    return undefined;
  }

  setWindow(seconds: number): void {
    this.windowS = seconds;
    for (const b of this.boards.values()) {
      b.lastEdge = NaN;
      for (const c of b.charts) c.stale = true;
    }
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  /** One y-scale for every board (per kind), so boards can be compared at a glance. */
  setSharedScale(shared: boolean): void {
    this.shared = shared;
    for (const b of this.boards.values()) {
      b.lastEdge = NaN;
      for (const c of b.charts) c.stale = true;
    }
  }

  /** The y range a chart of `id` shows now (for a reader, and a test, that cannot see the canvas). */
  range(id: string, kind: ChartKind): [number, number] | null {
    const c = this.boards.get(id)?.charts.find((x) => x.kind === kind);
    if (!c) return null;
    const s = this.shared ? this.sharedSpan[kind] : c.span;
    return [-s, s];
  }

  /**
   * Puts the cursor at a fraction of a chart's width, as a pointer would, and returns what its
   * legend then says (a test drives this; a pointer in a headless browser is not always delivered).
   */
  hover(id: string, kind: ChartKind, fraction: number): string | null {
    const c = this.boards.get(id)?.charts.find((x) => x.kind === kind);
    if (!c) return null;
    const over = c.plot.over;
    c.plot.setCursor({ left: over.clientWidth * fraction, top: over.clientHeight / 2 });
    return c.plot.root.querySelector('.u-legend')?.textContent ?? null;
  }

  /** Adds a chart for a board; returns its remover (the Svelte action's destroy). */
  attach(id: string, kind: ChartKind, el: HTMLElement, height = 170): () => void {
    let b = this.boards.get(id);
    if (!b) {
      b = { id, charts: [], buf: windowArrays(MAX_POINTS), mag: [new Float32Array(MAX_POINTS), new Float32Array(MAX_POINTS)], lastVersion: -1, ring: null, lastEdge: NaN, points: 0 };
      this.boards.set(id, b);
    }
    const width = Math.max(120, Math.floor(el.clientWidth || 400));
    const chart: Chart = { el, kind, visible: true, stale: false, width, span: SPANS[kind][0]!, plot: undefined as unknown as uPlot };
    chart.plot = new uPlot(makeOptions(kind, width, height, () => this.windowS, () => (this.shared ? this.sharedSpan[kind] : chart.span), () => this.colors), [[], [], [], [], []], el);
    b.charts.push(chart);
    b.lastEdge = NaN;
    this.observer.observe(el);
    this.visibility.observe(el);
    this.start();
    return () => {
      this.observer.unobserve(el);
      this.visibility.unobserve(el);
      chart.plot.destroy();
      const board = this.boards.get(id);
      if (!board) return;
      board.charts = board.charts.filter((c) => c !== chart);
      if (board.charts.length === 0) {
        this.boards.delete(id);
        delete this.stats.points[id];
      }
      if (this.boards.size === 0) this.stop();
    };
  }

  private start(): void {
    if (this.raf) return;
    const loop = (): void => {
      this.raf = requestAnimationFrame(loop);
      this.frame();
    };
    this.raf = requestAnimationFrame(loop);
  }

  stop(): void {
    if (this.raf) cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  /** The x extent (seconds before the right edge) of what a chart draws now, and its point count. */
  extent(id: string, kind: ChartKind): { from: number; to: number; points: number } | null {
    const c = this.boards.get(id)?.charts.find((x) => x.kind === kind);
    const x = c?.plot.data[0];
    if (!x || x.length === 0) return null;
    return { from: x[0]!, to: x[x.length - 1]!, points: x.length };
  }

  /** The colours the axes and grid are drawn with now. */
  axisColors(): ChartColors {
    return { ...this.colors };
  }

  destroy(): void {
    this.stop();
    this.offScheme();
    this.observer.disconnect();
    this.visibility.disconnect();
    for (const b of this.boards.values()) for (const c of b.charts) c.plot.destroy();
    this.boards.clear();
  }

  private frame(): void {
    const t0 = performance.now();
    this.adapt(t0);
    const { stride } = this.stats;
    const turn = this.stats.frames % stride;
    if (!this.paused) {
      if (this.shared) {
        for (const kind of ['accel', 'gyro'] as const) {
          let m = SPANS[kind][0]!;
          for (const b of this.boards.values()) for (const c of b.charts) if (c.kind === kind) m = Math.max(m, c.span);
          this.sharedSpan[kind] = m;
        }
      }
      let i = 0;
      for (const b of this.boards.values()) if (i++ % stride === turn) this.drawBoard(b, t0);
    }
    const slot = this.stats.frames % this.stats.workMs.length;
    this.stats.frames++;
    // uPlot draws in a microtask after setData; one queued now runs after those, so the time includes the drawing.
    queueMicrotask(() => (this.stats.workMs[slot] = performance.now() - t0));
  }

  /** Adjusts the stride from the smoothed frame interval. */
  private adapt(now: number): void {
    const dt = this.lastFrameAt ? now - this.lastFrameAt : 16.7;
    this.lastFrameAt = now;
    // A frame after a hidden tab or a pause says nothing about drawing speed.
    if (dt > 250) return;
    this.avgInterval += (dt - this.avgInterval) * 0.1;
    const since = now - this.strideChangedAt;
    if (since < 1000) return;
    const s = this.stats.stride;
    // Slower at once, faster only after 5 s of keeping up: fewer back-and-forth steps on a machine at its limit.
    const next = this.avgInterval > SLOW_MS && s < MAX_STRIDE ? s + 1 : this.avgInterval < FAST_MS && s > 1 && since > 5000 ? s - 1 : s;
    if (next !== s) {
      this.stats.stride = next;
      this.strideChangedAt = now;
    }
  }

  private drawBoard(b: Board, now: number): void {
    const s = this.streamOf(b.id);
    if (!s) return;
    const edge = s.edge(now, this.lagMs);
    if (!Number.isFinite(edge)) return;
    if (s.ring.version === b.lastVersion && edge === b.lastEdge) return;
    if (s.ring !== b.ring) {
      b.ring = s.ring;
      for (const c of b.charts) c.stale = true;
    }
    const visible = b.charts.filter((c) => c.visible || c.stale);
    if (visible.length === 0) return;
    b.lastVersion = s.ring.version;
    b.lastEdge = edge;
    const width = Math.max(...visible.map((c) => c.width));
    const n = s.ring.read(b.buf, edge - this.windowS * 1000, edge, edge, Math.min(MAX_POINTS, width));
    b.points = n;
    this.stats.points[b.id] = n;
    const x = b.buf.x.subarray(0, n);
    for (const c of visible) {
      const off = c.kind === 'accel' ? 0 : 3;
      const ys = [b.buf.y[off]!.subarray(0, n), b.buf.y[off + 1]!.subarray(0, n), b.buf.y[off + 2]!.subarray(0, n)];
      const mag = b.mag[off === 0 ? 0 : 1].subarray(0, n);
      for (let i = 0; i < n; i++) mag[i] = Math.hypot(ys[0]![i]!, ys[1]![i]!, ys[2]![i]!);
      c.span = snapSpan(c.kind, [...ys, mag], c.span);
      c.plot.setData([x, ...ys, mag] as unknown as uPlot.AlignedData, true);
      c.stale = false;
    }
  }
}
