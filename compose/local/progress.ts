// Progress lines, so a cold `up` (apt, Maven downloads, a JVM starting) is never silent.
// They go to stderr, leaving stdout to the answers a script may parse (`status`).

/** Print one progress line, e.g. `keyflow services: installing redis-server (apt)…`. */
export function say(message: string): void {
  process.stderr.write(`keyflow services: ${message}\n`);
}
