import type { Request } from 'express';
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
