// Development only: piscina's threads load this file, which teaches them TypeScript (tsx)
// before importing the task. Built code (dist/) loads decode-task.js directly.
import { register } from 'tsx/esm/api';

register();
const task = await import('./decode-task.ts');
export const decode = task.decode;
