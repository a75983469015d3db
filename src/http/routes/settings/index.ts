import { Router } from 'express';
import { z } from 'zod';
import { DEFAULT_REMINDERS } from '../../../billing/reminders.ts';
import type { AppContext } from '../../../context.ts';
import { PaymentTerms } from '../../../domain/values.ts';
import { updateSettings } from '../../../tenants/settings.ts';
import { callerOf, requireAppManager } from '../../auth.ts';
import { body } from '../../validate.ts';
import { acceptanceWebhookRoutes } from './acceptance-webhook.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { appManagerRoutes } from './app-managers.ts';
import { quickbooksSettingsRoutes } from './quickbooks.ts';
import { sessionRoutes } from './sessions.ts';
import { shareLinkRoutes } from './share-links.ts';

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

const Reminders = z.strictObject({
  enabled: z.boolean(),
  firstAfterDays: z.int().min(0).max(365),
  everyDays: z.int().min(1).max(365),
  maxReminders: z.int().min(1).max(10),
  excludedCustomerIds: z
    .array(z.string().regex(/^\d{1,20}$/, 'must be a QuickBooks customer id'))
    .max(500)
    .default([]),
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
      reminders: { ...DEFAULT_REMINDERS, ...tenant.settings.reminders },
    });
  });

  router.put('/settings/reminders', async (req, res) => {
    const caller = callerOf(res);
    const reminders = body(req, Reminders);
    const settings = await updateSettings(caller.db, caller.tenant, { reminders });
    ctx.logger.info(
      { tenantId: caller.tenant.id, actor: caller.actor, enabled: reminders.enabled },
      'reminder policy changed',
    );
    res.json({ reminders: settings.reminders });
  });

  router.put('/settings/invoice-defaults', async (req, res) => {
    const caller = callerOf(res);
    const settings = await updateSettings(caller.db, caller.tenant, body(req, InvoiceDefaults));
    ctx.logger.info({ tenantId: caller.tenant.id, actor: caller.actor }, 'invoice defaults changed');
    res.json({ invoiceDefaults: settings });
  });

  router.use(
    appManagerRoutes(ctx),
    quickbooksSettingsRoutes(ctx),
    acceptanceWebhookRoutes(ctx),
    apiKeyRoutes(ctx),
    shareLinkRoutes(ctx),
    sessionRoutes(ctx),
  );
  return router;
}
