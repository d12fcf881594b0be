// Running the installers and the services' own tools (apt-get, mvn, initdb, pg_ctl, java).
// Rule: output is captured, never streamed, and a failure carries the command line and the
// tail of what it printed, so the one error a user sees says what went wrong.
import { spawn } from 'node:child_process';

/** Raised when a command exits non-zero, is killed, or cannot be started. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
  readonly code = 'KEYFLOW_COMMAND_FAILED';
  readonly command: string;
  readonly output: string;
  constructor(command: string, outcome: string, output: string, options?: ErrorOptions) {
    super(`${command} ${outcome}${output ? `:\n${tail(output, 30)}` : ''}`, options);
    this.command = command;
    this.output = output;
  }
}

export type RunOptions = Readonly<{
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}>;

/**
 * Run a command to completion and return what it printed on stdout.
 *
 * @example
 * const version = await run('java', ['-version']);
 */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  const shown = [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let all = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      all += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      all += chunk;
    });
    child.on('error', (error) => reject(new CommandFailedError(shown, `could not start (${error.message})`, all, { cause: error })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new CommandFailedError(shown, signal ? `was killed by ${signal}` : `exited with code ${String(code)}`, all));
    });
  });
}

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
