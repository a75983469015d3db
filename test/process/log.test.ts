import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
