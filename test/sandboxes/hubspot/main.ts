/**
 * Standalone HubSpot sandbox for the demo: `npx tsx test/sandboxes/hubspot/main.ts`.
 * Env: HUBSPOT_SANDBOX_PORT (default 4010), HUBSPOT_CLIENT_ID / HUBSPOT_CLIENT_SECRET / HUBSPOT_APP_ID
 * (defaults are the sandbox's fixed demo credentials), HUBSPOT_SANDBOX_AUTO_APPROVE=false for a consent page.
 */
import { startHubSpotSandbox } from './index.ts';

const PORTAL_ID = 24681357;

const sandbox = await startHubSpotSandbox({
  port: Number(process.env.HUBSPOT_SANDBOX_PORT ?? 4010),
  clientId: process.env.HUBSPOT_CLIENT_ID || undefined,
  clientSecret: process.env.HUBSPOT_CLIENT_SECRET || undefined,
  appId: process.env.HUBSPOT_APP_ID ? Number(process.env.HUBSPOT_APP_ID) : undefined,
  autoApprove: process.env.HUBSPOT_SANDBOX_AUTO_APPROVE !== 'false',
});
// The first portal added is the one the authorize page installs into.
sandbox.addPortal(PORTAL_ID, { hubDomain: 'obrien-demo.hubspot-sandbox.test' });
const seeded = sandbox.seedRealistic(PORTAL_ID);
if (process.env.HUBSPOT_WEBHOOK_URL)
  sandbox.configureWebhooks({ targetUrl: process.env.HUBSPOT_WEBHOOK_URL });

console.log(`HubSpot sandbox listening on ${sandbox.url}`);
console.log(
  `  portal ${PORTAL_ID}: ${seeded.deals.length} deals, ${seeded.companies.length} companies, ${seeded.contacts.length} contacts`,
);
console.log(`  client_id=${sandbox.clientId} client_secret=${sandbox.clientSecret} app_id=${sandbox.appId}`);
console.log(
  `  authorize: ${sandbox.url}/oauth/authorize?client_id=${sandbox.clientId}&redirect_uri=…&scope=…`,
);

const shutdown = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
