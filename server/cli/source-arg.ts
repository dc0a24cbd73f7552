import type { SourceSpec } from '../media/pipeline.js';

/** A user's `<file-or-url>` argument as a decoder source. */
export function sourceFromArg(arg: string): SourceSpec {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(arg) ? { kind: 'url', url: arg } : { kind: 'file', path: arg };
}
