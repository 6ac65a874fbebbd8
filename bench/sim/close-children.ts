import type { ChildProcess } from 'node:child_process';

/**
 * Stops simulator child processes: each is asked to close over IPC and killed if it has not exited 3 s later; each
 * leaves `live` (the set the bench's exit handler kills) once gone.
 */
export async function closeChildren(children: ReadonlyArray<{ proc: ChildProcess; send(msg: { type: 'close' }): void }>, live: Set<ChildProcess>): Promise<void> {
  await Promise.all(children.map(async (c) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    const exited = new Promise<void>((res) => c.proc.once('exit', () => res()));
    try {
      c.send({ type: 'close' });
    } catch {
      // IPC already gone.
    }
    const timer = setTimeout(() => c.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    live.delete(c.proc);
  }));
}
