import type { HubSpotSandbox } from '../sandboxes/hubspot/index.ts';
import type { QuickBooksSandbox } from '../sandboxes/quickbooks/index.ts';

/** The verifier token the tests' QuickBooks webhooks are signed with. */
export const QBO_VERIFIER = 'sandbox-webhook-verifier';

/** The variables that point the app, through the real SDKs, at the two local sandboxes. */
export function sandboxEnv(hs: HubSpotSandbox, qbo: QuickBooksSandbox): Record<string, string> {
  return {
    HUBSPOT_CLIENT_ID: hs.clientId,
    HUBSPOT_CLIENT_SECRET: hs.clientSecret,
    HUBSPOT_APP_ID: String(hs.appId),
    HUBSPOT_API_BASE_URL: hs.url,
    HUBSPOT_AUTH_URL: `${hs.url}/oauth/authorize`,
    QBO_CLIENT_ID: qbo.clientId,
    QBO_CLIENT_SECRET: qbo.clientSecret,
    QBO_ENVIRONMENT: 'sandbox',
    QBO_API_BASE_URL: qbo.apiBaseUrl,
    QBO_AUTH_URL: qbo.authorizeUrl,
    QBO_TOKEN_URL: qbo.tokenUrl,
    QBO_REVOKE_URL: qbo.revokeUrl,
    QBO_WEBHOOK_VERIFIER_TOKEN: QBO_VERIFIER,
  };
}
