import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BACKEND } from '../../plugin-manifest/src/app/cards/api.ts';

const app = join(import.meta.dirname, '../../plugin-manifest/src/app');
const json = (path: string) => JSON.parse(readFileSync(join(app, path), 'utf8'));

const EXTENSIONS = [
  { what: 'the deal card', meta: 'cards/billing-schedule-hsmeta.json', dir: 'cards' },
  { what: 'the settings page', meta: 'settings/settings-hsmeta.json', dir: 'settings' },
];

describe.each(EXTENSIONS)('$what as HubSpot builds it', ({ meta, dir }) => {
  it('bundles from its entry point, as HubSpot bundles it for the browser worker', async () => {
    const entry = json(meta).config.entrypoint.replace(/^\/app\//, '');
    const result = await build({
      entryPoints: [join(app, entry)],
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

  it('has its own package with the versions the tests ran with, and a backend the app may fetch', () => {
    expect(json('app-hsmeta.json').config.permittedUrls.fetch).toContain(BACKEND);
    const pkg = json(`${dir}/package.json`);
    const root = JSON.parse(readFileSync(join(app, '../../../package.json'), 'utf8'));
    // The versions HubSpot installs are the ones the tests ran with.
    for (const dep of ['@hubspot/ui-extensions', 'react'])
      expect(pkg.dependencies[dep]).toBe(root.devDependencies[dep]);
  });
});

describe('the extension configuration', () => {
  it('puts the card on the deal record tab and the settings page in the app settings', () => {
    const card = json('cards/billing-schedule-hsmeta.json');
    expect(card).toMatchObject({
      type: 'card',
      config: { location: 'crm.record.tab', objectTypes: ['deals'] },
    });
    expect(json('settings/settings-hsmeta.json').type).toBe('settings');
    for (const { meta } of EXTENSIONS)
      expect(existsSync(join(app, json(meta).config.entrypoint.replace(/^\/app\//, '')))).toBe(true);
  });
});
