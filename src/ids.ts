import { randomBytes } from 'node:crypto';

/** Prefixed random ids (`ms_…`, `sch_…`) that say what they name wherever they turn up. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}
