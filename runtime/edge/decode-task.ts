// The piscina task: decode one request body off the edge's event loop. It runs the same pure
// function as the inline path, so both give the same answer.
import { decodeBody, type DecodeOptions, type DecodedBody } from '../../http/index.ts';

export type DecodeTask = { readonly bytes: Uint8Array; readonly options: DecodeOptions };

/** Decode one body (the pool's task). */
export function decode(task: DecodeTask): DecodedBody {
  return decodeBody(task.bytes, task.options);
}
