import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.ts';

/** A caller's own request id is kept when it looks like one; anything else gets a new one. */
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * One JSON line per request, with its id (also answered as X-Request-Id, and on every log line a
 * handler writes through `res.locals.logger`). The path only: a query can carry a link token.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.header('x-request-id');
    const reqId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const started = process.hrtime.bigint();
    res.setHeader('X-Request-Id', reqId);
    res.locals.logger = logger.child({ reqId });
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      };
      if (res.statusCode >= 500) (res.locals.logger as Logger).error(line, 'request failed');
      else (res.locals.logger as Logger).info(line, 'request');
    });
    next();
  };
}
