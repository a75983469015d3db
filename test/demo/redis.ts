import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';

/** Whether something answers PING (or asks for AUTH, which is an answer too) on the URL. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch (error) {
    return /NOAUTH|WRONGPASS/.test((error as Error).message);
  } finally {
    redis.disconnect();
  }
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Makes sure Redis answers on `url`. When nothing listens on a local address, starts
 * `redis-server` from PATH on that port (no persistence) as a child process and waits for PING.
 * Answers the child to stop on exit, or nothing when Redis was already there.
 */
export async function ensureRedis(
  url: string,
  log: (line: string) => void,
): Promise<{ child: ChildProcess | undefined }> {
  if (await redisAnswers(url)) return { child: undefined };
  const parsed = new URL(url);
  if (!LOCAL_HOSTS.has(parsed.hostname) || parsed.protocol !== 'redis:') {
    throw new Error(`Redis does not answer on ${url}, and it is not a local address the demo could start`);
  }
  const port = parsed.port || '6379';
  log(`Redis is not running on ${url}: starting redis-server on port ${port} (no persistence)`);
  // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops the app first
  // and then this server, instead of pulling Redis away from under a draining worker.
  const child = spawn(
    'redis-server',
    ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output = (output + String(d)).slice(-4000)));
  child.stderr?.on('data', (d) => (output = (output + String(d)).slice(-4000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === 'ENOENT'
            ? `Redis does not answer on ${url} and redis-server is not on PATH; install Redis (e.g. apt-get install redis-server, brew install redis) or set REDIS_URL`
            : `redis-server could not start: ${error.message}`,
        ),
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
  failed.catch(() => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await Promise.race([redisAnswers(url, 500), failed]);
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING within 10 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.removeAllListeners('exit');
  return { child };
}
