import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../webhooks');

/** A sample payload from webhooks/, with fields overridden for the test at hand. */
export function sample<T = Record<string, unknown>>(
  path: string,
  overrides: Record<string, unknown> = {},
): T {
  const data = JSON.parse(readFileSync(join(root, path), 'utf8'));
  return (Array.isArray(data) ? data.map((e) => ({ ...e, ...overrides })) : { ...data, ...overrides }) as T;
}
