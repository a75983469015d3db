import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { connectRedis } from '../../src/redis/connect.ts';
import { LockLost, withLock } from '../../src/redis/lock.ts';
import { eventually } from '../support/net.ts';

const redis = connectRedis(
  process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  createLogger('silent'),
  'test-locks',
);
afterAll(() => redis.disconnect());
const key = () => `test:lock:${randomBytes(6).toString('hex')}`;

describe('a Redis lock', () => {
  it('runs one holder at a time', async () => {
    const k = key();
    const order: string[] = [];
    const holder = (name: string) =>
      withLock(redis, k, async () => {
        order.push(`${name} in`);
        await new Promise((r) => setTimeout(r, 100));
        order.push(`${name} out`);
      });
    await Promise.all([holder('a'), holder('b')]);
    const first = order[0]!.split(' ')[0];
    const second = first === 'a' ? 'b' : 'a';
    expect(order).toEqual([`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
  });

  it('tells its holder when another owner took the key: the signal aborts and assertHeld throws', async () => {
    const k = key();
    await withLock(
      redis,
      k,
      async (lock) => {
        lock.assertHeld();
        // As if the TTL had lapsed while this holder stalled, and another process took the lock.
        await redis.set(k, 'another owner', 'PX', 60_000);
        await eventually(
          async () => lock.signal.aborted,
          (aborted) => aborted,
          5_000,
        );
        expect(() => lock.assertHeld()).toThrow(LockLost);
        expect(lock.signal.reason).toBeInstanceOf(LockLost);
      },
      { ttlMs: 600, renew: true },
    );
    // The old holder's release left the new owner's lock alone.
    expect(await redis.get(k)).toBe('another owner');
  });

  it('counts a lock whose TTL ran out unrenewed as lost, even before anyone took it', async () => {
    const k = key();
    await withLock(
      redis,
      k,
      async (lock) => {
        lock.assertHeld();
        await eventually(
          () => redis.pttl(k),
          (left) => left < 0,
          5_000,
        );
        expect(() => lock.assertHeld()).toThrow(LockLost);
      },
      { ttlMs: 300 },
    );
  });

  it('keeps a renewed lock for as long as the work runs', async () => {
    const k = key();
    await withLock(
      redis,
      k,
      async (lock) => {
        const until = Date.now() + 1_000;
        while (Date.now() < until) {
          lock.assertHeld();
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(lock.signal.aborted).toBe(false);
      },
      { ttlMs: 300, renew: true },
    );
  });
});
