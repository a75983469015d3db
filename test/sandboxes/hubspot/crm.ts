import { type Request, type Response, Router } from 'express';
import { authed, hasScope, objectScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { ASSOCIATION_TYPE_BY_ID } from './defaults.ts';
import { notFound, propertyValidationError, validationError } from './errors.ts';
import { bodyList, inlineAssociations, parseList, presentRecord } from './present.ts';
import { runSearch, type SearchRequest, validateSearch } from './search.ts';
import { resolveObjectType } from './state.ts';
import { OBJECT_TYPE_SINGULAR, type ObjectTypeName, type Portal } from './types.ts';

const BATCH_READ_MAX = 100;
const BATCH_WRITE_MAX = 100;
const LIST_MAX = 100;
const NOTE_BODY_MAX = 65_536;

/** Resolves `:type`, answering 400 as HubSpot does for an unknown object type. */
function objectType(req: Request, res: Response): ObjectTypeName | undefined {
  const raw = String(req.params.type);
  const type = resolveObjectType(raw);
  if (!type) validationError(res, `Unable to infer object type from: ${raw}`);
  return type;
}

function isArchivedQuery(req: Request): boolean {
  return String(req.query.archived ?? 'false') === 'true';
}

function readBody(req: Request): Record<string, unknown> {
  return req.body && typeof req.body === 'object' && !Array.isArray(req.body)
    ? (req.body as Record<string, unknown>)
    : {};
}

interface AssociationLink {
  toType: ObjectTypeName;
  toId: string;
  typeId: number;
}

/** Validates `associations` of a create body; returns the links or an error message. */
function parseCreateAssociations(
  ctx: SandboxContext,
  portal: Portal,
  fromType: ObjectTypeName,
  raw: unknown,
): AssociationLink[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return 'associations must be an array';
  const links: AssociationLink[] = [];
  for (const item of raw as Array<Record<string, unknown>>) {
    const toId = String((item?.to as Record<string, unknown> | undefined)?.id ?? '');
    const types = Array.isArray(item?.types) ? (item.types as Array<Record<string, unknown>>) : [];
    if (!toId || types.length === 0) return 'Each association needs to.id and at least one type.';
    for (const t of types) {
      const typeId = Number(t.associationTypeId);
      const def = ASSOCIATION_TYPE_BY_ID.get(typeId);
      if (t.associationCategory !== 'HUBSPOT_DEFINED' || !def || def.from !== fromType) {
        return `Invalid association type: ${String(t.associationCategory)} ${String(t.associationTypeId)} is not a valid association type from ${OBJECT_TYPE_SINGULAR[fromType]}.`;
      }
      const target = ctx.state.getRecord(portal, def.to, toId);
      if (!target || target.archived) {
        return `One or more associations are invalid: ${OBJECT_TYPE_SINGULAR[def.to]} ${toId} does not exist.`;
      }
      links.push({ toType: def.to, toId, typeId });
    }
  }
  return links;
}

export function crmObjectsRouter(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireBearer(ctx);
  const searchAuth = requireBearer(ctx, 'search');

  router.post('/:type/search', searchAuth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'read')])) return;
    const { portal } = authed(res);
    const body = readBody(req) as SearchRequest;
    const problem = validateSearch(body);
    if (problem) return validationError(res, problem);
    if (Number(body.after ?? 0) + (body.limit ?? 10) > 10_000) {
      return validationError(res, 'Search results are limited to 10,000 records; narrow the filters.');
    }
    const properties = bodyList(body.properties);
    const { total, page, nextAfter } = runSearch(ctx.state, portal, type, body);
    res.json({
      total,
      results: page.map((r) => presentRecord(portal, r, { properties })),
      ...(nextAfter ? { paging: { next: { after: nextAfter } } } : {}),
    });
  });

  router.post('/:type/batch/read', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'read')])) return;
    const { portal } = authed(res);
    const body = readBody(req);
    const batch = batchInputs(res, body, BATCH_READ_MAX);
    if (!batch) return;
    if (body.idProperty !== undefined && body.idProperty !== 'hs_object_id') {
      return validationError(
        res,
        `The sandbox only supports reading by id, not by idProperty ${String(body.idProperty)}.`,
      );
    }
    const { ids } = batch;
    const startedAt = new Date().toISOString();
    const archived = isArchivedQuery(req);
    const properties = bodyList(body.properties);
    const propertiesWithHistory = bodyList(body.propertiesWithHistory);
    const results = [];
    const missing: string[] = [];
    for (const id of ids) {
      const record = ctx.state.getRecord(portal, type, id);
      if (!record || record.archived !== archived) missing.push(id);
      else results.push(presentRecord(portal, record, { properties, propertiesWithHistory }));
    }
    const base = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (missing.length === 0) return res.json(base);
    res.status(207).json({
      ...base,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${OBJECT_TYPE_SINGULAR[type]} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
        },
      ],
    });
  });

  router.get('/:type', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'read')])) return;
    const { portal } = authed(res);
    const limit = Math.min(Number(req.query.limit ?? 10) || 10, LIST_MAX);
    const after = Number(req.query.after ?? 0) || 0;
    const archived = isArchivedQuery(req);
    const all = [...portal.objects[type].values()].filter((r) => r.archived === archived);
    all.sort((a, b) => Number(a.id) - Number(b.id));
    const start = all.findIndex((r) => Number(r.id) > after);
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const properties = parseList(req.query.properties);
    const targets = associationTargets(req);
    const last = page.at(-1);
    const hasMore = start >= 0 && start + limit < all.length;
    res.json({
      results: page.map((r) =>
        withAssociations(ctx, portal, r, presentRecord(portal, r, { properties }), targets),
      ),
      ...(hasMore && last
        ? { paging: { next: { after: String(Number(last.id)), link: `?after=${Number(last.id)}` } } }
        : {}),
    });
  });

  /** What one create input would make, or the refusal HubSpot would answer (400). */
  type Prepared =
    | { refuse: (res: Response) => unknown }
    | { values: Record<string, string>; links: { toId: string; typeId: number }[] };

  function prepareCreate(portal: Portal, type: ObjectTypeName, body: Record<string, unknown>): Prepared {
    const input = (body.properties ?? {}) as Record<string, unknown>;
    if (typeof input !== 'object' || Array.isArray(input))
      return { refuse: (res: Response) => validationError(res, 'properties must be an object') };
    const { values, failures } = ctx.state.validateProperties(portal, type, input);
    if (
      (type === 'tasks' || type === 'notes') &&
      !values.hs_timestamp &&
      !failures.some((f) => f.name === 'hs_timestamp')
    ) {
      failures.push({
        name: 'hs_timestamp',
        error: 'REQUIRED_PROPERTY',
        message: 'hs_timestamp is required',
      });
    }
    if (type === 'notes' && (values.hs_note_body ?? '').length > NOTE_BODY_MAX) {
      failures.push({
        name: 'hs_note_body',
        error: 'INVALID_STRING_LENGTH',
        message: `hs_note_body is longer than ${NOTE_BODY_MAX} characters`,
      });
    }
    if (failures.length > 0)
      return { refuse: (res: Response) => propertyValidationError(res, portal.id, failures) };
    const links = parseCreateAssociations(ctx, portal, type, body.associations);
    if (typeof links === 'string') return { refuse: (res: Response) => validationError(res, links) };
    return { values, links };
  }

  function create(
    portal: Portal,
    type: ObjectTypeName,
    made: { values: Record<string, string>; links: { toId: string; typeId: number }[] },
  ) {
    const record = ctx.state.createRecord(portal, type, made.values, {
      sourceType: 'INTEGRATION',
      sourceId: String(ctx.config.appId),
    });
    for (const link of made.links) ctx.state.associate(portal, type, record.id, link.toId, link.typeId);
    ctx.onApiChange?.(portal, record, { kind: 'created' });
    return presentRecord(portal, record, { all: true });
  }

  router.post('/:type', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'write')])) return;
    const { portal } = authed(res);
    const made = prepareCreate(portal, type, readBody(req));
    if ('refuse' in made) return made.refuse(res);
    res.status(201).json(create(portal, type, made));
  });

  /** Creates up to 100 records in one call, all or nothing (HubSpot answers 201). */
  router.post('/:type/batch/create', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'write')])) return;
    const { portal } = authed(res);
    const body = readBody(req);
    if (!Array.isArray(body.inputs))
      return validationError(res, 'Invalid input JSON: Some required fields were not set: [inputs]');
    const inputs = body.inputs as Array<Record<string, unknown>>;
    if (inputs.length > BATCH_WRITE_MAX) {
      return validationError(
        res,
        `Batch input limit exceeded: ${inputs.length} inputs given, the maximum is ${BATCH_WRITE_MAX}.`,
      );
    }
    const startedAt = new Date().toISOString();
    const prepared: Exclude<Prepared, { refuse: unknown }>[] = [];
    for (const input of inputs) {
      const made = prepareCreate(portal, type, input ?? {});
      if ('refuse' in made) return made.refuse(res);
      prepared.push(made);
    }
    const results = prepared.map((made) => create(portal, type, made));
    res.status(201).json({ status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() });
  });

  router.get('/:type/:id', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'read')])) return;
    const { portal } = authed(res);
    if (req.query.idProperty !== undefined && req.query.idProperty !== 'hs_object_id') {
      return validationError(
        res,
        `The sandbox only supports reading by id, not by idProperty ${String(req.query.idProperty)}.`,
      );
    }
    const record = ctx.state.getRecord(portal, type, String(req.params.id));
    if (!record || record.archived !== isArchivedQuery(req)) return notFound(res);
    const presented = presentRecord(portal, record, {
      properties: parseList(req.query.properties),
      propertiesWithHistory: parseList(req.query.propertiesWithHistory),
    });
    res.json(withAssociations(ctx, portal, record, presented, associationTargets(req)));
  });

  /** Updates up to 100 records in one call: all or nothing on invalid values; missing ids → 207. */
  router.post('/:type/batch/update', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'write')])) return;
    const { portal } = authed(res);
    const batch = batchInputs(res, readBody(req), BATCH_WRITE_MAX);
    if (!batch) return;
    const { inputs } = batch;
    const startedAt = new Date().toISOString();
    const found: {
      record: NonNullable<ReturnType<typeof ctx.state.getRecord>>;
      values: ReturnType<typeof ctx.state.validateProperties>['values'];
    }[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const record = ctx.state.getRecord(portal, type, String(input.id ?? ''));
      if (!record || record.archived) {
        missing.push(String(input.id ?? ''));
        continue;
      }
      const properties = input.properties;
      if (!properties || typeof properties !== 'object' || Array.isArray(properties))
        return validationError(res, 'Invalid input JSON: Some required fields were not set: [properties]');
      const { values, failures } = ctx.state.validateProperties(
        portal,
        type,
        properties as Record<string, unknown>,
        record,
      );
      if (failures.length > 0) return propertyValidationError(res, portal.id, failures);
      found.push({ record, values });
    }
    const results = found.map(({ record, values }) => {
      const changed = Object.fromEntries(
        Object.entries(values).filter(([k, v]) => record.properties[k] !== v),
      );
      ctx.state.updateRecord(portal, record, values, 'INTEGRATION', String(ctx.config.appId));
      if (Object.keys(changed).length > 0) ctx.onApiChange?.(portal, record, { kind: 'updated', changed });
      return presentRecord(portal, record, { all: true });
    });
    const base = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (missing.length === 0) return res.json(base);
    res.status(207).json({
      ...base,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not update some ${OBJECT_TYPE_SINGULAR[type]} objects, they may be deleted or not exist.`,
          context: { ids: missing },
        },
      ],
    });
  });

  router.patch('/:type/:id', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'write')])) return;
    const { portal } = authed(res);
    const record = ctx.state.getRecord(portal, type, String(req.params.id));
    if (!record || record.archived) return notFound(res);
    const body = readBody(req);
    const input = body.properties;
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      return validationError(res, 'Invalid input JSON: Some required fields were not set: [properties]');
    }
    const { values, failures } = ctx.state.validateProperties(
      portal,
      type,
      input as Record<string, unknown>,
      record,
    );
    if (failures.length > 0) return propertyValidationError(res, portal.id, failures);
    const changed = Object.fromEntries(Object.entries(values).filter(([k, v]) => record.properties[k] !== v));
    ctx.state.updateRecord(portal, record, values, 'INTEGRATION', String(ctx.config.appId));
    if (Object.keys(changed).length > 0) ctx.onApiChange?.(portal, record, { kind: 'updated', changed });
    res.json(presentRecord(portal, record, { all: true }));
  });

  router.delete('/:type/:id', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, [objectScope(type, 'write')])) return;
    const { portal } = authed(res);
    const record = ctx.state.getRecord(portal, type, String(req.params.id));
    // HubSpot answers 204 even for ids that do not exist.
    if (record && !record.archived) {
      ctx.state.archiveRecord(record);
      ctx.onApiChange?.(portal, record, { kind: 'archived' });
    }
    res.status(204).end();
  });

  return router;
}

/** A batch's `inputs` as HubSpot checks them: present, within the limit, no id twice. */
function batchInputs(res: Response, body: Record<string, unknown>, max: number) {
  if (!Array.isArray(body.inputs)) {
    validationError(res, 'Invalid input JSON: Some required fields were not set: [inputs]');
    return undefined;
  }
  const inputs = body.inputs as Array<Record<string, unknown>>;
  if (inputs.length > max) {
    validationError(res, `Batch input limit exceeded: ${inputs.length} inputs given, the maximum is ${max}.`);
    return undefined;
  }
  const ids = inputs.map((i) => String(i?.id ?? ''));
  const dupes = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  if (dupes.length > 0) {
    validationError(res, `Duplicate IDs found in batch input: [${dupes.join(', ')}]. IDs must be unique`);
    return undefined;
  }
  return { inputs, ids };
}

function associationTargets(req: Request): Array<[string, ObjectTypeName]> {
  const names = parseList(req.query.associations) ?? [];
  const targets: Array<[string, ObjectTypeName]> = [];
  for (const name of names) {
    const type = resolveObjectType(name);
    // Keys are HubSpot's plural object names whatever alias was asked for.
    if (type && !targets.some(([, t]) => t === type)) targets.push([type, type]);
  }
  return targets;
}

function withAssociations<T extends object>(
  ctx: SandboxContext,
  portal: Portal,
  record: Parameters<typeof inlineAssociations>[2],
  presented: T,
  targets: Array<[string, ObjectTypeName]>,
) {
  if (targets.length === 0) return presented;
  const associations = inlineAssociations(ctx.state, portal, record, targets);
  return Object.keys(associations).length > 0 ? { ...presented, associations } : presented;
}
