import { Router } from 'express';
import { z } from 'zod';
import { today } from '../../domain/dates.ts';
import {
  applyTemplate,
  changeSchedule,
  getSchedule,
  getVersion,
  listVersions,
  putSchedule,
} from '../../schedules/service.ts';
import { callerOf } from '../auth.ts';
import {
  CalendarDate,
  MilestoneChange,
  MilestoneInput,
  MoneyInput,
  PaymentTerms,
  Percent,
  toChange,
  toMinor,
  toSpecs,
} from '../schemas.ts';
import { body, collect, params } from '../validate.ts';

const DealParams = z.object({ dealId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a deal id') });
const Version = z.object({ version: z.coerce.number().int().positive() });

const Contract = {
  baseVersion: z.int().positive().optional(),
  dealName: z.string().trim().min(1).max(300).optional(),
  contractValue: MoneyInput,
  paymentTerms: PaymentTerms.optional(),
  retainagePercent: Percent.optional(),
};

const PutSchedule = z.strictObject({ ...Contract, milestones: z.array(MilestoneInput).min(1).max(100) });
const ApplyTemplate = z.strictObject({
  ...Contract,
  template: z.string().min(1),
  startDate: CalendarDate.optional(),
});
const ChangeOrderBody = z
  .strictObject({
    baseVersion: z.int().positive(),
    reason: z.string().trim().min(1).max(500),
    contractValue: MoneyInput.optional(),
    retainagePercent: Percent.optional(),
    add: z.array(MilestoneInput).max(100).default([]),
    change: z.array(MilestoneChange).max(100).default([]),
    cancel: z.array(z.string().min(1)).max(100).default([]),
  })
  .refine(
    (o) =>
      o.add.length + o.change.length + o.cancel.length > 0 ||
      o.contractValue ||
      o.retainagePercent !== undefined,
    {
      message: 'a change order must add, change or cancel a milestone, or change the contract',
    },
  );

function contractOf(input: z.output<typeof PutSchedule> | z.output<typeof ApplyTemplate>) {
  return collect((issues) => ({
    contractValue: toMinor(
      input.contractValue.amount,
      input.contractValue.currency,
      'contractValue.amount',
      issues,
    ),
    currency: input.contractValue.currency,
    retainagePercent: input.retainagePercent ?? 0,
  }));
}

export function scheduleRoutes(): Router {
  const router = Router();

  router.get('/deals/:dealId/schedule', async (req, res) => {
    res.json(await getSchedule(callerOf(res), params(req, DealParams).dealId));
  });

  router.put('/deals/:dealId/schedule', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, PutSchedule);
    const contract = contractOf(input);
    const specs = collect((issues) => toSpecs(input.milestones, contract.currency, 'milestones', issues));
    res.json(await putSchedule(callerOf(res), dealId, { ...input, contract, specs }));
  });

  router.post('/deals/:dealId/schedule/template', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, ApplyTemplate);
    const schedule = await applyTemplate(callerOf(res), dealId, {
      ...input,
      contract: contractOf(input),
      templateKey: input.template,
      startDate: input.startDate ?? today(),
    });
    res.status(201).json(schedule);
  });

  router.post('/deals/:dealId/schedule/change-orders', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, ChangeOrderBody);
    const caller = callerOf(res);
    const { currency } = (await getSchedule(caller, dealId)).contractValue;
    const order = collect((issues) => {
      if (input.contractValue && input.contractValue.currency !== currency) {
        issues.push({
          path: 'contractValue.currency',
          code: 'currency_mismatch',
          message: `contractValue.currency: the schedule is in ${currency}, not ${input.contractValue.currency}`,
        });
      }
      return {
        ...input,
        contractValue:
          input.contractValue &&
          toMinor(input.contractValue.amount, currency, 'contractValue.amount', issues),
        add: toSpecs(input.add, currency, 'add', issues),
        change: input.change.map((c, i) => toChange(c, currency, `change[${i}]`, issues)),
      };
    });
    res.status(201).json(await changeSchedule(caller, dealId, order));
  });

  router.get('/deals/:dealId/schedule/versions', async (req, res) => {
    res.json(await listVersions(callerOf(res), params(req, DealParams).dealId));
  });

  router.get('/deals/:dealId/schedule/versions/:version', async (req, res) => {
    const { dealId } = params(req, DealParams);
    res.json(await getVersion(callerOf(res), dealId, params(req, Version.extend(DealParams.shape)).version));
  });

  return router;
}
