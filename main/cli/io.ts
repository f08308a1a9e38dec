/**
 * What every `courtside` command talks to instead of `process`: its output
 * streams, environment, working directory and the stop request (Ctrl-C,
 * SIGTERM). The binary passes the process's; tests pass captured ones and
 * run commands in their own process.
 */

export interface Output {
  write(chunk: string): unknown;
  /** A terminal (live progress bars) or not (a line now and then). */
  readonly isTTY?: boolean;
}

export type StopReason = 'SIGINT' | 'SIGTERM';

export interface CommandIO {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Where relative file arguments start. */
  cwd: string;
  /**
   * Calls `listener` on Ctrl-C or SIGTERM until the returned function is
   * called. A subscription rather than an AbortSignal: while nobody listens,
   * the process keeps node's default and dies on Ctrl-C, so commands that
   * never listen (analyze, nvs, ports) stay killable.
   */
  onStop(listener: (reason: StopReason) => void): () => void;
  /** The command being run (`export`, `serve`...), set by the dispatcher: its errors start with it. */
  readonly command?: string;
}

/** What an error line of the running command starts with: `courtside export:`, or `courtside:` outside the dispatcher. */
export function errorPrefix(io: Pick<CommandIO, 'command'>): string {
  return io.command ? `courtside ${io.command}:` : 'courtside:';
}

export function processIO(): CommandIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onStop(listener) {
      const onInt = () => listener('SIGINT');
      const onTerm = () => listener('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      return () => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      };
    },
  };
}

/**
 * Resolves on the first stop request, then stops listening, so a second
 * Ctrl-C during the shutdown kills the process as usual.
 */
export function untilStopped(io: CommandIO): { stopped: Promise<StopReason>; dispose: () => void } {
  let dispose = () => {};
  const stopped = new Promise<StopReason>((resolve) => {
    dispose = io.onStop((reason) => {
      dispose();
      resolve(reason);
    });
  });
  return { stopped, dispose };
}

/** An AbortSignal aborted by every stop request, for work that takes one (flashing). */
export function stopSignal(io: CommandIO): { signal: AbortSignal; stoppedBy: () => StopReason | null; dispose: () => void } {
  const ac = new AbortController();
  let by: StopReason | null = null;
  const dispose = io.onStop((reason) => {
    by ??= reason;
    ac.abort();
  });
  return { signal: ac.signal, stoppedBy: () => by, dispose };
}

/** The exit code a shell gives a process ended by this signal (128 + its number). */
export function signalExitCode(reason: StopReason): number {
  return reason === 'SIGINT' ? 130 : 143;
}
