import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BACKEND } from '../../plugin-manifest/src/app/cards/api.ts';

const app = join(import.meta.dirname, '../../plugin-manifest/src/app');
const json = (path: string) => JSON.parse(readFileSync(join(app, path), 'utf8'));

describe('the card as HubSpot builds it', () => {
  it('bundles from its entry point, as HubSpot bundles it for the browser worker', async () => {
    const result = await build({
      entryPoints: [join(app, 'cards/BillingScheduleCard.tsx')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      jsx: 'automatic',
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    expect(code).toContain(BACKEND);
    // No native HTTP in the card: HubSpot disables it; every call goes through hubspot.fetch.
    expect(code).not.toMatch(/\bXMLHttpRequest\b/);
  });

  it('is a deal card on the record tab whose backend the app may fetch', () => {
    const card = json('cards/billing-schedule-hsmeta.json');
    expect(card).toMatchObject({
      type: 'card',
      config: { location: 'crm.record.tab', objectTypes: ['deals'] },
    });
    expect(existsSync(join(app, card.config.entrypoint.replace(/^\/app\//, '')))).toBe(true);
    expect(json('app-hsmeta.json').config.permittedUrls.fetch).toContain(BACKEND);
    const pkg = json('cards/package.json');
    const root = JSON.parse(readFileSync(join(app, '../../../package.json'), 'utf8'));
    // The versions HubSpot installs are the ones the tests ran with.
    for (const dep of ['@hubspot/ui-extensions', 'react'])
      expect(pkg.dependencies[dep]).toBe(root.devDependencies[dep]);
  });
});
