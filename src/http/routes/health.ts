import { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { redisTrouble } from '../../redis/connect.ts';

/** Liveness answers while the process runs; readiness only when Postgres and Redis answer. */
export function healthRoutes(deps: AppContext): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await Promise.all([
      check('database', () => deps.database.ping()),
      check('redis', async () => {
        // The connection's own word (ECONNREFUSED, auth refused…) says more than a ping timing out.
        const trouble = redisTrouble(deps.redis);
        if (trouble) throw new Error(trouble);
        await deps.redis.ping();
      }),
    ]);
    const ready = checks.every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}

async function check(name: string, probe: () => Promise<void>) {
  try {
    await withTimeout(probe(), 2000);
    return { name, ok: true };
  } catch (error) {
    return { name, ok: false, error: (error as Error).message };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
