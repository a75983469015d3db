/**
 * Standalone QuickBooks sandbox for the demo: `npx tsx test/sandboxes/quickbooks/main.ts`.
 * Env: QBO_SANDBOX_PORT (4020), QBO_SANDBOX_REALM_ID, QBO_CLIENT_ID / QBO_CLIENT_SECRET (shared with the
 * app), QBO_WEBHOOK_VERIFIER_TOKEN, QBO_SANDBOX_WEBHOOK_URL (+ QBO_SANDBOX_WEBHOOK_FORMAT), QBO_SANDBOX_CONSENT.
 */
import { startQuickBooksSandbox } from './index.ts';
import type { ConsentMode } from './oauth.ts';

const env = process.env;
const realmId = env.QBO_SANDBOX_REALM_ID ?? '9341453050071616';
const consent = (['approve', 'prompt', 'deny'] as const).find((m) => m === env.QBO_SANDBOX_CONSENT) as
  | ConsentMode
  | undefined;

const sandbox = await startQuickBooksSandbox({
  port: Number(env.QBO_SANDBOX_PORT ?? 4020),
  host: env.QBO_SANDBOX_HOST ?? '127.0.0.1',
  ...(env.QBO_CLIENT_ID ? { clientId: env.QBO_CLIENT_ID } : {}),
  ...(env.QBO_CLIENT_SECRET ? { clientSecret: env.QBO_CLIENT_SECRET } : {}),
  ...(env.QBO_WEBHOOK_VERIFIER_TOKEN ? { verifierToken: env.QBO_WEBHOOK_VERIFIER_TOKEN } : {}),
  ...(consent ? { consent } : {}),
});
sandbox.addRealm(realmId, {
  companyName: 'Sandbox Company US',
  country: 'US',
  homeCurrency: 'USD',
  multiCurrency: true,
});

if (env.QBO_SANDBOX_WEBHOOK_URL) {
  sandbox.configureWebhooks({
    url: env.QBO_SANDBOX_WEBHOOK_URL,
    format: env.QBO_SANDBOX_WEBHOOK_FORMAT === 'legacy' ? 'legacy' : 'cloudevents',
    ...(env.QBO_WEBHOOK_VERIFIER_TOKEN
      ? { verifierToken: env.QBO_WEBHOOK_VERIFIER_TOKEN }
      : { verifierToken: 'sandbox-verifier' }),
  });
}

const lines = [
  `QuickBooks Online sandbox listening on ${sandbox.url}`,
  `  realm               ${realmId} (US, USD, multicurrency on)`,
  `  client id / secret  ${sandbox.clientId} / ${sandbox.clientSecret}`,
  `  QBO_AUTH_URL        ${sandbox.authorizeUrl}`,
  `  QBO_TOKEN_URL       ${sandbox.tokenUrl}`,
  `  QBO_REVOKE_URL      ${sandbox.revokeUrl}`,
  `  QBO_API_BASE_URL    ${sandbox.apiBaseUrl}`,
  `  invoices page       ${sandbox.url}/invoices`,
  `  admin API           ${sandbox.url}/__sandbox/…`,
];
console.log(lines.join('\n'));

const stop = () => {
  sandbox.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
