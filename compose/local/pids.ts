// Processes that `up` started, found again through their pid files. Rule: a pid counts only
// while it is alive, not a zombie, and its command line still names the expected program,
// so a stale pid file left by a reboot (or a recycled pid) never makes us signal a stranger.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Write a pid file. */
export async function writePidFile(file: string, pid: number): Promise<void> {
  await writeFile(file, `${pid}\n`);
}

/**
 * The pid recorded in `file` if that process is running and its command line contains
 * `marker`; otherwise undefined (and a stale file is removed).
 *
 * @example
 * const pid = await livePid('.keyflow/services/kafka/kafka.pid', 'kafka.Kafka');
 */
export async function livePid(file: string, marker: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0 && (await isRunning(pid)) && (await commandLine(pid)).includes(marker)) return pid;
  await rm(file, { force: true });
  return undefined;
}

/** True while the process exists and is not a zombie (pid 1 here may never reap it). */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The command line of a process, arguments separated by spaces ('' if gone). */
export async function commandLine(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * Send SIGTERM, wait up to `graceMs` for the process to exit, then SIGKILL it.
 * Resolves to how it ended.
 */
export async function terminate(pid: number, graceMs: number): Promise<'exited' | 'killed'> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) return 'exited';
    await sleep(200);
  }
  signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (Date.now() < killDeadline && (await isRunning(pid))) await sleep(100);
  return 'killed';
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // Already gone between the check and the signal: that is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
