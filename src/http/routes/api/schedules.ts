import { type Response, Router } from 'express';
import { z } from 'zod';
import { dealCard } from '../../../billing/deal-card.ts';
import type { AppContext } from '../../../context.ts';
import { DomainError } from '../../../domain/errors.ts';
import type { Deal } from '../../../hubspot/index.ts';
import {
  applyTemplate,
  changeSchedule,
  getSchedule,
  getVersion,
  listVersions,
  putSchedule,
  requireSchedule,
} from '../../../schedules/service.ts';
import { moneyView } from '../../../schedules/view.ts';
import { portalOf, type Tenant } from '../../../tenants/repository.ts';
import { callerOf } from '../../auth.ts';
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
} from '../../schemas.ts';
import { body, collect, params } from '../../validate.ts';

const DealParams = z.object({ dealId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'is not a deal id') });
/** Versions are 32-bit in the database: a larger number is no version, and is told as such. */
const VersionNumber = z.int().positive().max(2_147_483_647, 'is no version a schedule can have');
const Version = z.object({ version: z.coerce.number().pipe(VersionNumber) });

const Contract = {
  baseVersion: VersionNumber.optional(),
  dealName: z.string().trim().min(1).max(300).optional(),
  /** Omitted: the deal's amount and currency in HubSpot. */
  contractValue: MoneyInput.optional(),
  paymentTerms: PaymentTerms.optional(),
  retainagePercent: Percent.optional(),
};

const PutSchedule = z.strictObject({ ...Contract, milestones: z.array(MilestoneInput).min(1).max(100) });
const ApplyTemplate = z.strictObject({
  ...Contract,
  template: z.string().min(1),
  startDate: CalendarDate.optional(),
  /** Accept milestones by the deal stages the template names, where the deal's pipeline has them. */
  useTriggerStages: z.boolean().default(false),
});
const ChangeOrderBody = z
  .strictObject({
    baseVersion: VersionNumber,
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

/** The contract as given, or else the deal's amount in HubSpot (with its name). */
/** How long a person's request may wait for the portal's HubSpot budget (HubSpot's own limit is 15 s). */
const HUBSPOT_WAIT_MS = 5_000;

/**
 * The deal in the tenant's HubSpot portal: a schedule is only written for a deal the portal knows.
 * Without an install (a tenant that uses the API alone) there is no portal to ask.
 */
async function dealInPortal(ctx: AppContext, tenant: Tenant, dealId: string): Promise<Deal | undefined> {
  try {
    return await ctx.hubspot.deal(portalOf(tenant), dealId, { waitMs: HUBSPOT_WAIT_MS });
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (error.code === 'hubspot_not_installed') return undefined;
    if (error.code === 'hubspot_not_found')
      throw new DomainError(
        'unknown_deal',
        `deal ${dealId} does not exist in HubSpot portal ${tenant.portalId}`,
      );
    throw error;
  }
}

/** The contract as given, or else the deal's amount in HubSpot (with its name). */
async function contractOf(
  ctx: AppContext,
  res: Response,
  dealId: string,
  input: z.output<typeof PutSchedule> | z.output<typeof ApplyTemplate>,
) {
  const retainagePercent = input.retainagePercent ?? 0;
  const deal = await dealInPortal(ctx, callerOf(res).tenant, dealId);
  if (input.contractValue) {
    const { amount, currency } = input.contractValue;
    return collect((issues) => ({
      contract: {
        contractValue: toMinor(amount, currency, 'contractValue.amount', issues),
        currency,
        retainagePercent,
      },
      dealName: input.dealName ?? deal?.name,
      dealFacts: deal && factsOf(deal),
      deal,
    }));
  }
  if (!deal) {
    throw new DomainError(
      'hubspot_not_installed',
      'the app is not installed in a HubSpot portal; give contractValue',
      [
        {
          path: 'contractValue',
          code: 'required',
          message: 'contractValue: required without a HubSpot install',
        },
      ],
    );
  }
  if (deal.amount === null) {
    throw new DomainError('invalid_request', `deal ${dealId} has no amount in HubSpot; give contractValue`, [
      {
        path: 'contractValue',
        code: 'required',
        message: 'contractValue: required while the HubSpot deal has no amount',
      },
    ]);
  }
  return {
    contract: { contractValue: deal.amount, currency: deal.currency, retainagePercent },
    dealName: input.dealName ?? deal.name,
    dealFacts: factsOf(deal),
    deal,
  };
}

const factsOf = (deal: Deal) => ({ ownerId: deal.ownerId, pipelineId: deal.pipeline });

export function scheduleRoutes(ctx: AppContext): Router {
  const router = Router();

  /** The deal as HubSpot has it, its billing party, and its schedule if it has one. */
  router.get('/deals/:dealId', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const caller = callerOf(res);
    const [deal, schedule] = await Promise.all([
      ctx.hubspot.deal(portalOf(caller.tenant), dealId, { waitMs: HUBSPOT_WAIT_MS }),
      getSchedule(caller, dealId).catch((error) => {
        if (error instanceof DomainError && error.code === 'not_found') return null;
        throw error;
      }),
    ]);
    res.json({
      deal: { ...deal, amount: deal.amount === null ? null : moneyView(deal.amount, deal.currency) },
      schedule,
    });
  });

  /** What the HubSpot deal card shows: schedule, invoices, what needs a person, templates. */
  router.get('/deals/:dealId/card', async (req, res) => {
    res.json(await dealCard(ctx, callerOf(res), params(req, DealParams).dealId, { waitMs: HUBSPOT_WAIT_MS }));
  });

  router.get('/deals/:dealId/schedule', async (req, res) => {
    res.json(await getSchedule(callerOf(res), params(req, DealParams).dealId));
  });

  router.put('/deals/:dealId/schedule', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, PutSchedule);
    const { contract, dealName, dealFacts } = await contractOf(ctx, res, dealId, input);
    const specs = collect((issues) => toSpecs(input.milestones, contract.currency, 'milestones', issues));
    res.json(await putSchedule(callerOf(res), dealId, { ...input, dealName, dealFacts, contract, specs }));
  });

  router.post('/deals/:dealId/schedule/template', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, ApplyTemplate);
    const { useTriggerStages, ...rest } = input;
    const { deal, ...contract } = await contractOf(ctx, res, dealId, input);
    const pipeline = useTriggerStages ? deal?.pipeline : undefined;
    const schedule = await applyTemplate(callerOf(res), dealId, {
      ...rest,
      ...contract,
      templateKey: input.template,
      startDate: input.startDate ?? ctx.clock.today(),
      triggerStages: pipeline
        ? await ctx.hubspot.dealStages(portalOf(callerOf(res).tenant), pipeline, { waitMs: HUBSPOT_WAIT_MS })
        : [],
    });
    res.status(201).json(schedule);
  });

  router.post('/deals/:dealId/schedule/change-orders', async (req, res) => {
    const { dealId } = params(req, DealParams);
    const input = body(req, ChangeOrderBody);
    const caller = callerOf(res);
    const { currency } = await requireSchedule(caller.db, caller.tenant.id, dealId);
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
