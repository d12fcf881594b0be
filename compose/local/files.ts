// Two small file questions every service asks: is it there, and how does its log end.
import { access, readFile } from 'node:fs/promises';
import { tail } from './exec.ts';

/** True when `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file, or a note that there is none. */
export async function fileTail(file: string, lines = 20): Promise<string> {
  try {
    return tail(await readFile(file, 'utf8'), lines);
  } catch {
    return `(no log at ${file})`;
  }
}
