import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as it passed through the proxy. */
export interface Passing {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * Where a matching request is stopped: `request` keeps it from the platform (it never arrives
 * there), `response` lets the platform do the work and keeps its answer from the app.
 */
export type HoldAt = 'request' | 'response';

export interface HoldRule {
  name: string;
  at: HoldAt;
  when: (r: Passing) => boolean;
}

interface Held {
  rule: string;
  passing: Passing;
  /** The platform's answer, once it did the work (holds at `response`). */
  answered: boolean;
  res: ServerResponse;
  release(): void;
}

/**
 * A real HTTP proxy between the app and a platform sandbox that can stop the app at an exact
 * step from outside its process: a request held before it reaches the platform, or after the
 * platform did the work but before its answer comes back. A held request stays open until the
 * test lets it go or the client dies (a SIGKILLed worker); a held request whose client died is
 * never sent on. `rewrite` changes what reaches the platform (e.g. drops `requestid`, as an
 * Intuit that does not honour it).
 */
export async function startProxy(opts: { rewriteUrl?: (url: string) => string } = {}) {
  let target = '';
  const rules: HoldRule[] = [];
  const held: Held[] = [];
  const caught = new Map<string, number>();
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const log: Array<Passing & { status: number }> = [];
  const notify = () => {
    for (const w of waiters) w();
  };

  const forward = (p: Passing) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const to = new URL(opts.rewriteUrl ? opts.rewriteUrl(p.url) : p.url, target);
      const headers = { ...p.headers, host: to.host };
      delete headers.connection;
      const upstream = request(to, { method: p.method, headers }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(p.body);
    });

  const reply = (
    res: ServerResponse,
    answer: { status: number; headers: IncomingMessage['headers']; body: Buffer },
  ) => {
    if (res.destroyed || res.writableEnded) return;
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const passing: Passing = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const rule = rules.find((r) => r.when(passing));
    const send = async () => {
      try {
        const answer = await forward(passing);
        log.push({ ...passing, status: answer.status });
        return answer;
      } catch (error) {
        log.push({ ...passing, status: 0 });
        throw error;
      }
    };
    if (!rule) {
      try {
        reply(res, await send());
      } catch {
        res.destroy();
      }
      return;
    }
    caught.set(rule.name, (caught.get(rule.name) ?? 0) + 1);
    if (rule.at === 'request') {
      const h: Held = {
        rule: rule.name,
        passing,
        answered: false,
        res,
        release: () => {
          held.splice(held.indexOf(h), 1);
          // A client that died while held never reaches the platform.
          if (res.destroyed || res.socket?.destroyed) return;
          send().then(
            (a) => reply(res, a),
            () => res.destroy(),
          );
        },
      };
      held.push(h);
      res.on('close', () => {
        const i = held.indexOf(h);
        if (i >= 0 && !res.writableEnded) held.splice(i, 1);
      });
      notify();
      return;
    }
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send();
    } catch {
      res.destroy();
      return;
    }
    const h: Held = {
      rule: rule.name,
      passing,
      answered: true,
      res,
      release: () => {
        held.splice(held.indexOf(h), 1);
        reply(res, answer);
      },
    };
    held.push(h);
    notify();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    /** The platform's origin; set once its sandbox runs. */
    set target(url: string) {
      target = url;
    },
    log,
    /** Stops requests matching `rule` from now on (first matching rule wins). */
    hold(rule: HoldRule) {
      rules.push(rule);
    },
    /** How many requests a rule has stopped so far, and how many of them are still held. */
    caught: (name: string) => caught.get(name) ?? 0,
    holding: (name: string) => held.filter((h) => h.rule === name).length,
    /** Waits until `count` requests are held by the rule `name`. */
    async waitHeld(name: string, count: number, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (held.filter((h) => h.rule === name).length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `${name}: ${held.filter((h) => h.rule === name).length} of ${count} requests held within ${timeoutMs} ms`,
          );
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, 200);
          waiters.add(done);
        });
      }
    },
    /** No more holds; what is held goes on (requests whose client died are dropped). */
    releaseAll() {
      rules.length = 0;
      for (const h of [...held]) h.release();
    },
    /**
     * No more holds, and what is held is dropped: never sent on, never answered. After a kill
     * (the client's sockets may not have been seen closing yet, so they cannot be told apart).
     */
    dropAll() {
      rules.length = 0;
      for (const h of held.splice(0)) h.res.destroy();
    },
    async close() {
      rules.length = 0;
      for (const h of [...held]) h.res.destroy();
      held.length = 0;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Proxy = Awaited<ReturnType<typeof startProxy>>;

/** Intuit treating every request as new: the `requestid` replay is not relied upon. */
export const withoutRequestId = (url: string) => {
  const [path, query] = url.split('?');
  if (!query || !/(^|&)requestid=/.test(query)) return url;
  const params = new URLSearchParams(query);
  params.delete('requestid');
  const rest = params.toString();
  return rest ? `${path}?${rest}` : path!;
};
