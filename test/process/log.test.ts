import { Writable } from 'node:stream';
import express from 'express';
import supertest from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestLog } from '../../src/http/request-log.ts';
import { createLogger } from '../../src/log.ts';

describe('log lines', () => {
  it("redact secrets (an OAuth code included) but keep QuickBooks' own error code", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // The app's logger, its redaction and all, writing to a sink the test reads.
    const logger = createLogger('info', sink);
    logger.warn(
      { pushId: 'push_1', errorCode: '6000', code: 'oauth-code-123', access_token: 'at-1' },
      'invoice not created',
    );
    const line = JSON.parse(lines.at(-1)!);
    expect(line).toMatchObject({ errorCode: '6000', code: '[redacted]', access_token: '[redacted]' });
    expect(lines.join('')).not.toContain('oauth-code-123');
  });
});

describe('request and job log lines', () => {
  it('name the request id (kept when the caller gives one) and the path without its query', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const app = express();
    app.use(requestLog(createLogger('info', sink)));
    app.get('/app/sign-in', (_req, res) => {
      res.locals.logger.info('inside the handler');
      res.status(303).end();
    });
    const given = await supertest(app)
      .get('/app/sign-in?link=secret-link-token')
      .set('X-Request-Id', 'req-42');
    expect(given.headers['x-request-id']).toBe('req-42');
    const made = await supertest(app).get('/app/sign-in').set('X-Request-Id', 'not ok\u00e9');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toContainEqual(expect.objectContaining({ reqId: 'req-42', msg: 'inside the handler' }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        reqId: 'req-42',
        msg: 'request',
        method: 'GET',
        path: '/app/sign-in',
        status: 303,
      }),
    );
    expect(JSON.stringify(lines)).not.toContain('secret-link-token');
  });
});
