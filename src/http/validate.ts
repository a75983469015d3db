import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { assertNoIssues, type Issue } from '../domain/errors.ts';
import { HttpProblem } from './problem.ts';

/** The JSON body parsed by `schema`; a ZodError becomes a problem naming each field. */
export function body<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  if (req.body === undefined) {
    throw new HttpProblem(
      'unsupported_media_type',
      'send the request body as JSON with Content-Type: application/json',
    );
  }
  return schema.parse(req.body);
}

export function params<S extends z.ZodType>(req: Request, schema: S): z.output<S> {
  return schema.parse(req.params);
}

/** Collects conversion issues (amounts, currencies) and reports them all at once. */
export function collect<T>(build: (issues: Issue[]) => T): T {
  const issues: Issue[] = [];
  const result = build(issues);
  assertNoIssues('invalid_request', 'the request is invalid', issues);
  return result;
}

/** C0 controls other than tab, line feed and carriage return, and DEL; PostgreSQL refuses U+0000 outright. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Where the first string holding a control character sits in a parsed value (`milestones[0].name`).
 * Walked with a stack of its own: a body can be nested deeper than the call stack goes.
 */
export function controlCharacterAt(value: unknown, path = ''): string | undefined {
  const pending: [unknown, string][] = [[value, path]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, at] = next;
    if (typeof item === 'string') {
      if (CONTROL.test(item)) return at || '(value)';
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) pending.push([item[i], `${at}[${i}]`]);
    } else if (item && typeof item === 'object' && !Buffer.isBuffer(item)) {
      for (const [key, inner] of Object.entries(item).reverse()) {
        const here = at ? `${at}.${key}` : key;
        if (CONTROL.test(key)) return here;
        pending.push([inner, here]);
      }
    }
  }
  return undefined;
}

const refusal = (where: string) =>
  new HttpProblem('invalid_request', `${where}: contains a control character (such as U+0000)`, [
    { path: where, code: 'control_character', message: `${where}: contains a control character` },
  ]);

/** Refuses a request whose path, query or JSON body holds a control character, naming where. */
export function refuseControlCharacters(): RequestHandler {
  return (req, _res, next) => {
    let path: string;
    try {
      path = decodeURIComponent(req.path);
    } catch {
      throw new HttpProblem('invalid_request', 'the request path is not valid percent-encoding');
    }
    const where =
      (CONTROL.test(path) ? 'path' : undefined) ??
      controlCharacterAt(req.query, 'query') ??
      controlCharacterAt(req.body, '');
    if (where) throw refusal(where || '(body)');
    next();
  };
}
