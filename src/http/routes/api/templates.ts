import { Router } from 'express';
import { z } from 'zod';
import { DomainError } from '../../../domain/errors.ts';
import { formatPercent, HUNDRED_PERCENT } from '../../../domain/percent.ts';
import {
  deleteTemplate,
  listTemplates,
  replaceTemplate,
  saveTemplate,
} from '../../../schedules/templates.ts';
import { callerOf, requireAppManager } from '../../auth.ts';
import { PaymentTerms, Percent } from '../../schemas.ts';
import { body, params } from '../../validate.ts';

const TemplateKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'must be lower-case letters, digits and dashes');

const TemplateBody = z.strictObject({
  key: TemplateKey,
  name: z.string().trim().min(1).max(200),
  description: z.string().max(1000).default(''),
  paymentTerms: PaymentTerms.default('net_30'),
  retainagePercent: Percent.default(0),
  milestones: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1).max(200),
        deliverable: z.string().trim().min(1).max(2000),
        acceptanceCriteria: z.string().trim().min(1).max(2000),
        percent: Percent,
        offsetDays: z.int().min(0).max(3650),
        triggerStageLabel: z.string().trim().min(1).max(100).optional(),
      }),
    )
    .min(1)
    .max(50),
});

const templateView = (t: Awaited<ReturnType<typeof listTemplates>>[number]) => ({
  ...t,
  retainagePercent: formatPercent(t.retainagePercent),
  milestones: t.milestones.map((m) => ({ ...m, percent: formatPercent(m.percent) })),
});

/** A template's milestones total 100 %: refused otherwise, with the total the person typed. */
function checkTotal(input: z.output<typeof TemplateBody>) {
  const total = input.milestones.reduce((sum, m) => sum + m.percent, 0);
  if (total === HUNDRED_PERCENT) return;
  throw new DomainError(
    'template_invalid',
    `template milestones total ${formatPercent(total)} %, not 100 %`,
    [{ path: 'milestones', code: 'not_100_percent', message: `milestones total ${formatPercent(total)} %` }],
  );
}

const KeyParam = z.object({ key: TemplateKey });

export function templateRoutes(): Router {
  const router = Router();

  router.get('/templates', async (_req, res) => {
    const caller = callerOf(res);
    res.json({ templates: (await listTemplates(caller.db, caller.tenant.id)).map(templateView) });
  });

  router.post('/templates', requireAppManager, async (req, res) => {
    const input = body(req, TemplateBody);
    checkTotal(input);
    const caller = callerOf(res);
    const saved = await saveTemplate(caller.db, caller.tenant.id, input);
    res.status(201).json(templateView({ ...saved, builtIn: false }));
  });

  router.put('/templates/:key', requireAppManager, async (req, res) => {
    const { key } = params(req, KeyParam);
    const input = body(req, TemplateBody.extend({ key: TemplateKey.default(key) }));
    if (input.key !== key) {
      throw new DomainError('invalid_request', 'a template keeps its key', [
        { path: 'key', code: 'key_changed', message: `key: must stay "${key}"` },
      ]);
    }
    checkTotal(input);
    const caller = callerOf(res);
    res.json(
      templateView({ ...(await replaceTemplate(caller.db, caller.tenant.id, input)), builtIn: false }),
    );
  });

  router.delete('/templates/:key', requireAppManager, async (req, res) => {
    const { key } = params(req, KeyParam);
    const caller = callerOf(res);
    await deleteTemplate(caller.db, caller.tenant.id, key);
    res.json({ deleted: true, key });
  });

  return router;
}
