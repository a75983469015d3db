import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../../context.ts';
import { PaymentTerms } from '../../../domain/values.ts';
import { updateInvoiceDefaults } from '../../../tenants/settings.ts';
import { callerOf, requireAppManager } from '../../auth.ts';
import { body } from '../../validate.ts';
import { acceptanceWebhookRoutes } from './acceptance-webhook.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { quickbooksSettingsRoutes } from './quickbooks.ts';

const InvoiceDefaults = z.strictObject({
  incomeItemId: z
    .string()
    .regex(/^\d{1,20}$/, 'must be a QuickBooks item id')
    .nullable()
    .optional(),
  defaultPaymentTerms: PaymentTerms.nullable().optional(),
  taxCodeId: z
    .string()
    .regex(/^\w{1,20}$/, 'must be a QuickBooks tax code id')
    .nullable()
    .optional(),
  taxable: z.boolean().nullable().optional(),
  docNumberPrefix: z
    .string()
    .regex(/^[A-Za-z0-9-]{0,8}$/, 'must be up to 8 letters, digits or dashes')
    .nullable()
    .optional(),
  emailInvoices: z.boolean().nullable().optional(),
});

/**
 * The app's settings page in HubSpot (card API only): the QuickBooks connection, invoice defaults,
 * the acceptance webhook and API keys. Templates are the template routes, guarded the same way.
 */
export function settingsRoutes(ctx: AppContext): Router {
  const router = Router();
  router.use('/settings', requireAppManager);

  router.get('/settings', async (_req, res) => {
    const { tenant } = callerOf(res);
    const connection = await ctx.quickbooks.connection(tenant.id);
    res.json({
      quickbooks: { ...connection, connectedAt: connection.connectedAt?.toISOString() ?? null },
      invoiceDefaults: tenant.settings,
    });
  });

  router.put('/settings/invoice-defaults', async (req, res) => {
    const caller = callerOf(res);
    const settings = await updateInvoiceDefaults(caller.db, caller.tenant, body(req, InvoiceDefaults));
    ctx.logger.info({ tenantId: caller.tenant.id, actor: caller.actor }, 'invoice defaults changed');
    res.json({ invoiceDefaults: settings });
  });

  router.use(quickbooksSettingsRoutes(ctx), acceptanceWebhookRoutes(ctx), apiKeyRoutes(ctx));
  return router;
}
