import { type Request, type Response, Router } from 'express';
import { authed, hasScope, objectScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { ASSOCIATION_TYPE_BY_ID, defaultAssociationType } from './defaults.ts';
import { notFound, validationError } from './errors.ts';
import { orderedTypeIds } from './present.ts';
import { resolveObjectType } from './state.ts';
import { OBJECT_TYPE_IDS, OBJECT_TYPE_SINGULAR, type ObjectTypeName, type Portal } from './types.ts';

const BATCH_READ_MAX = 1000;
const PAGE_DEFAULT = 500;

function pairOfTypes(req: Request, res: Response, fromKey: string, toKey: string) {
  const rawFrom = String(req.params[fromKey]);
  const rawTo = String(req.params[toKey]);
  const from = resolveObjectType(rawFrom);
  const to = resolveObjectType(rawTo);
  if (!from || !to) {
    validationError(res, `Unable to infer object type from: ${from ? rawTo : rawFrom}`);
    return undefined;
  }
  return { from, to };
}

function associationTypesJson(typeIds: Iterable<number>) {
  return orderedTypeIds(typeIds).map((typeId) => ({
    category: 'HUBSPOT_DEFINED',
    typeId,
    label: ASSOCIATION_TYPE_BY_ID.get(typeId)?.label ?? null,
  }));
}

/** v4 rows: `toObjectId` is a JSON number on the wire. */
function rows(ctx: SandboxContext, portal: Portal, from: ObjectTypeName, id: string, to: ObjectTypeName) {
  return ctx.state
    .associationsOf(portal, from, id, to)
    .map((edge) => ({ toObjectId: Number(edge.toId), associationTypes: associationTypesJson(edge.typeIds) }));
}

/** Routes under `/crm/v4/objects` (and the dated `/crm/objects/2026-03`). */
export function objectAssociationsRouter(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireBearer(ctx);

  router.get('/:fromType/:id/associations/:toType', auth, (req, res) => {
    const types = pairOfTypes(req, res, 'fromType', 'toType');
    if (!types) return;
    if (
      !hasScope(ctx, res, [objectScope(types.from, 'read')]) ||
      !hasScope(ctx, res, [objectScope(types.to, 'read')])
    )
      return;
    const { portal } = authed(res);
    const all = rows(ctx, portal, types.from, String(req.params.id), types.to);
    const limit = Math.min(Number(req.query.limit ?? PAGE_DEFAULT) || PAGE_DEFAULT, PAGE_DEFAULT);
    const offset = Number(req.query.after ?? 0) || 0;
    const page = all.slice(offset, offset + limit);
    const next = offset + limit;
    res.json({ results: page, ...(next < all.length ? { paging: { next: { after: String(next) } } } : {}) });
  });

  // Creates the default (unlabeled) association; primary flags can only be set through labelled creates.
  router.put('/:fromType/:id/associations/default/:toType/:toId', auth, (req, res) => {
    const types = pairOfTypes(req, res, 'fromType', 'toType');
    if (!types) return;
    if (!hasScope(ctx, res, [objectScope(types.from, 'write')])) return;
    const { portal } = authed(res);
    const fromId = String(req.params.id);
    const toId = String(req.params.toId);
    const def = defaultAssociationType(types.from, types.to);
    if (!exists(ctx, portal, types.from, fromId) || !exists(ctx, portal, types.to, toId))
      return notFound(res);
    if (!def)
      return validationError(res, `No default association type between ${types.from} and ${types.to}.`);
    ctx.state.associate(portal, types.from, fromId, toId, def.typeId);
    res.json({
      status: 'COMPLETE',
      results: [
        {
          from: { id: fromId },
          to: { id: toId },
          associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: def.typeId },
        },
      ],
      startedAt: new Date().toISOString(),
      completedAt: new Date().toISOString(),
    });
  });

  router.put('/:fromType/:id/associations/:toType/:toId', auth, (req, res) => {
    const types = pairOfTypes(req, res, 'fromType', 'toType');
    if (!types) return;
    if (!hasScope(ctx, res, [objectScope(types.from, 'write')])) return;
    const { portal } = authed(res);
    const fromId = String(req.params.id);
    const toId = String(req.params.toId);
    if (!exists(ctx, portal, types.from, fromId) || !exists(ctx, portal, types.to, toId))
      return notFound(res);
    const specs = Array.isArray(req.body) ? (req.body as Array<Record<string, unknown>>) : [];
    if (specs.length === 0) return validationError(res, 'Expected a JSON array of association specs.');
    for (const spec of specs) {
      const def = ASSOCIATION_TYPE_BY_ID.get(Number(spec.associationTypeId));
      if (
        spec.associationCategory !== 'HUBSPOT_DEFINED' ||
        !def ||
        def.from !== types.from ||
        def.to !== types.to
      ) {
        return validationError(
          res,
          `Invalid association type ${String(spec.associationTypeId)} between ${types.from} and ${types.to}.`,
        );
      }
    }
    for (const spec of specs)
      ctx.state.associate(portal, types.from, fromId, toId, Number(spec.associationTypeId));
    const edge = ctx.state.associationsOf(portal, types.from, fromId, types.to).find((e) => e.toId === toId);
    res.status(201).json({
      fromObjectTypeId: OBJECT_TYPE_IDS[types.from],
      fromObjectId: Number(fromId),
      toObjectTypeId: OBJECT_TYPE_IDS[types.to],
      toObjectId: Number(toId),
      labels: orderedTypeIds(edge?.typeIds ?? [])
        .map((id) => ASSOCIATION_TYPE_BY_ID.get(id)?.label)
        .filter((l): l is string => typeof l === 'string'),
    });
  });

  return router;
}

function exists(ctx: SandboxContext, portal: Portal, type: ObjectTypeName, id: string): boolean {
  return ctx.state.getRecord(portal, type, id)?.archived === false;
}

/** Routes under `/crm/v4/associations` (and the dated `/crm/associations/2026-03`). */
export function batchAssociationsRouter(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireBearer(ctx);

  router.post('/:fromType/:toType/batch/read', auth, (req, res) => {
    const types = pairOfTypes(req, res, 'fromType', 'toType');
    if (!types) return;
    if (
      !hasScope(ctx, res, [objectScope(types.from, 'read')]) ||
      !hasScope(ctx, res, [objectScope(types.to, 'read')])
    )
      return;
    const { portal } = authed(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!Array.isArray(body.inputs))
      return validationError(res, 'Invalid input JSON: Some required fields were not set: [inputs]');
    const inputs = body.inputs as Array<Record<string, unknown>>;
    if (inputs.length > BATCH_READ_MAX) {
      return validationError(
        res,
        `Batch input limit exceeded: ${inputs.length} inputs given, the maximum is ${BATCH_READ_MAX}.`,
      );
    }
    const startedAt = new Date().toISOString();
    const results = [];
    const errors = [];
    for (const input of inputs) {
      const id = String(input?.id ?? '');
      const to = rows(ctx, portal, types.from, id, types.to);
      if (to.length > 0) {
        results.push({ from: { id }, to });
        continue;
      }
      errors.push({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        message: `No ${OBJECT_TYPE_SINGULAR[types.to].toLowerCase()} is associated with ${OBJECT_TYPE_SINGULAR[types.from].toLowerCase()} ${id}.`,
        context: { fromObjectId: [id] },
      });
    }
    const base = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (errors.length === 0) return res.json(base);
    res.status(207).json({ ...base, numErrors: errors.length, errors });
  });

  return router;
}
