import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SCOPES } from '../src/hubspot/oauth.ts';
import { CONTRACTS, render } from '../webhooks/generate.ts';

const root = join(import.meta.dirname, '..');
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

describe('webhooks/ contracts', () => {
  it.each(Object.keys(CONTRACTS))(
    '%s is what the app parses with (npm run contracts regenerates it)',
    (path) => {
      const committed = readFileSync(join(root, 'webhooks', path), 'utf8');
      expect(JSON.parse(committed)).toEqual(JSON.parse(render(CONTRACTS[path as keyof typeof CONTRACTS])));
    },
  );
});

/** The 2026.03 project format, as HubSpot's CLI templates write it (reference §3.1). */
const Project = z.strictObject({
  name: z.string().min(1),
  srcDir: z.literal('src'),
  platformVersion: z.literal('2026.03'),
});
const httpsUrl = z.url({ protocol: /^https$/ });
const App = z.strictObject({
  uid: z.string().regex(/^[a-z0-9_]+$/),
  type: z.literal('app'),
  config: z.strictObject({
    name: z.string().min(1),
    description: z.string().min(1),
    distribution: z.literal('marketplace'),
    auth: z.strictObject({
      type: z.literal('oauth'),
      redirectUrls: z.array(httpsUrl).min(1),
      requiredScopes: z.array(z.string()),
      optionalScopes: z.array(z.string()),
      conditionallyRequiredScopes: z.array(z.string()),
    }),
    permittedUrls: z.strictObject({
      fetch: z.array(httpsUrl),
      iframe: z.array(httpsUrl),
      img: z.array(httpsUrl),
    }),
    support: z.strictObject({
      supportEmail: z.email(),
      documentationUrl: httpsUrl,
      supportUrl: httpsUrl,
      supportPhone: z.string().optional(),
    }),
  }),
});
const Webhooks = z.strictObject({
  uid: z.string().regex(/^[a-z0-9_]+$/),
  type: z.literal('webhooks'),
  config: z.strictObject({
    settings: z.strictObject({ targetUrl: httpsUrl, maxConcurrentRequests: z.int().min(5) }),
    subscriptions: z.strictObject({
      crmObjects: z.array(
        z.strictObject({
          subscriptionType: z.enum([
            'object.creation',
            'object.deletion',
            'object.propertyChange',
            'object.merge',
            'object.restore',
            'object.associationChange',
          ]),
          objectType: z.string(),
          propertyName: z.string().optional(),
          active: z.boolean(),
        }),
      ),
      legacyCrmObjects: z.array(
        z.object({ subscriptionType: z.string(), propertyName: z.string().optional(), active: z.boolean() }),
      ),
      hubEvents: z.array(z.object({ subscriptionType: z.string(), active: z.boolean() })),
    }),
  }),
});

describe('plugin-manifest/', () => {
  const app = App.parse(json('plugin-manifest/src/app/app-hsmeta.json'));
  const hooks = Webhooks.parse(json('plugin-manifest/src/app/webhooks/webhooks-hsmeta.json'));

  it('is a 2026.03 project with an OAuth marketplace app', () => {
    expect(Project.parse(json('plugin-manifest/hsproject.json')).platformVersion).toBe('2026.03');
    expect(app.config.auth.type).toBe('oauth');
  });

  it('asks for exactly the scopes the backend requests, and calls back where the backend listens', () => {
    expect([...app.config.auth.requiredScopes].sort()).toEqual([...SCOPES].sort());
    expect(new URL(app.config.auth.redirectUrls[0]!).pathname).toBe('/oauth/hubspot/callback');
    const origin = new URL(app.config.auth.redirectUrls[0]!).origin;
    expect(app.config.permittedUrls.fetch).toContain(origin);
    expect(new URL(hooks.config.settings.targetUrl).origin).toBe(origin);
    expect(new URL(hooks.config.settings.targetUrl).pathname).toBe('/webhooks/hubspot');
  });

  it('subscribes to deal stage, amount, owner and pipeline changes and deal deletion', () => {
    const subscribed = hooks.config.subscriptions.crmObjects
      .filter((s) => s.active && s.objectType === 'deal')
      .map((s) => `${s.subscriptionType}:${s.propertyName ?? ''}`)
      .sort();
    expect(subscribed).toEqual([
      'object.deletion:',
      'object.propertyChange:amount',
      'object.propertyChange:dealstage',
      'object.propertyChange:hubspot_owner_id',
      'object.propertyChange:pipeline',
    ]);
  });
});
