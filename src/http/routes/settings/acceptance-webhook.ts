import { Router } from 'express';
import type { AppContext } from '../../../context.ts';
import { acceptanceSecret, rotateAcceptanceSecret } from '../../../tenants/repository.ts';
import { callerOf } from '../../auth.ts';

/** The app's own acceptance webhook: where senders post, how they sign, and its secret. */
export function acceptanceWebhookRoutes(ctx: AppContext): Router {
  const router = Router();
  const url = `${ctx.config.publicUrl}/webhooks/acceptance`;

  router.get('/settings/acceptance-webhook', (_req, res) => {
    res.json({
      url,
      signatureHeader: 'X-Acceptance-Signature',
      example: example(url, callerOf(res).tenant.portalId),
    });
  });

  // Revealing is a POST and is logged (who, never the secret): it is a deliberate act.
  router.post('/settings/acceptance-webhook/reveal', (_req, res) => {
    const { tenant, actor } = callerOf(res);
    ctx.logger.info({ tenantId: tenant.id, actor }, 'acceptance webhook secret revealed');
    res.json({ secret: acceptanceSecret(ctx.encryptionKey, tenant) });
  });

  router.post('/settings/acceptance-webhook/rotate', async (_req, res) => {
    const { db, tenant, actor } = callerOf(res);
    const secret = await rotateAcceptanceSecret(db, ctx.encryptionKey, tenant);
    ctx.logger.info({ tenantId: tenant.id, actor }, 'acceptance webhook secret rotated');
    res.json({ secret });
  });

  return router;
}

/** A request a sender can copy: the body, and how its signature is made (DESIGN §4.4). */
function example(url: string, portalId: string): string {
  const payload = JSON.stringify({
    id: 'acc_0001',
    portalId,
    dealId: '<HubSpot deal id>',
    milestone: { key: 'design' },
    acceptedAt: '2026-11-20T15:04:05Z',
    acceptedBy: { name: 'Dana Client', email: 'dana@client.example' },
    portion: { percent: 100 },
    evidence: [{ name: 'Sign-off.pdf', url: 'https://files.client.example/sign-off.pdf' }],
  });
  return [
    `BODY='${payload}'`,
    'T=$(($(date +%s) * 1000))',
    'SIG=$(printf \'%s.%s\' "$T" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed \'s/^.* //\')',
    `curl -X POST '${url}' -H 'Content-Type: application/json' \\`,
    '  -H "X-Acceptance-Signature: t=$T,v1=$SIG" --data "$BODY"',
  ].join('\n');
}
