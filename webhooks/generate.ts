import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AcceptancePayload } from '../src/acceptance/payload.ts';
import { HubSpotEvent } from '../src/hubspot/events.ts';
import { MAX_QBO_EVENTS, QboCloudEvent, QboLegacyNotifications } from '../src/quickbooks/index.ts';

/** The JSON Schemas here are generated from the zod schemas the app parses with: `npm run contracts`. */
export const CONTRACTS = {
  'hubspot/schema.json': {
    title: 'HubSpot webhook batch',
    description:
      'POST /webhooks/hubspot: a JSON array of up to 100 events (see README.md for the v3 signature).',
    schema: z.array(HubSpotEvent).max(100),
  },
  'acceptance/schema.json': {
    title: 'Acceptance webhook',
    description:
      'POST /webhooks/acceptance: one acceptance report (see README.md for X-Acceptance-Signature).',
    schema: AcceptancePayload,
  },
  'quickbooks/cloudevents.schema.json': {
    title: 'QuickBooks Online webhook (CloudEvents)',
    description:
      'POST /webhooks/quickbooks: a JSON array of CloudEvents 1.0, type qbo.<entity>.<operation>.v1 (see README.md for intuit-signature).',
    schema: z.array(QboCloudEvent).max(MAX_QBO_EVENTS),
  },
  'quickbooks/legacy.schema.json': {
    title: 'QuickBooks Online webhook (legacy eventNotifications)',
    description: 'POST /webhooks/quickbooks: the format before CloudEvents, still accepted.',
    schema: QboLegacyNotifications,
  },
};

export function render(entry: (typeof CONTRACTS)[keyof typeof CONTRACTS]): string {
  const schema = z.toJSONSchema(entry.schema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: entry.title, description: entry.description }, null, 2)}\n`;
}

if (process.argv[1] === import.meta.filename) {
  for (const [path, entry] of Object.entries(CONTRACTS))
    writeFileSync(join(import.meta.dirname, path), render(entry));
}
