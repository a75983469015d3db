import { type Request, type Response, Router } from 'express';
import { authed, hasScope, objectScope, requireBearer } from './auth.ts';
import type { SandboxContext } from './context.ts';
import { FIELD_TYPES } from './defaults.ts';
import { sendError, validationError } from './errors.ts';
import { resolveObjectType } from './state.ts';
import type {
  ObjectTypeName,
  Portal,
  PropertyDefinition,
  PropertyGroupDefinition,
  PropertyOption,
} from './types.ts';

const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

function schemaName(type: ObjectTypeName): string {
  return type === 'notes' || type === 'tasks' ? 'contacts' : type;
}

function readScopes(type: ObjectTypeName): string[] {
  return [`crm.schemas.${schemaName(type)}.read`, objectScope(type, 'read')];
}

function writeScopes(type: ObjectTypeName): string[] {
  return [`crm.schemas.${schemaName(type)}.write`];
}

function objectType(req: Request, res: Response): ObjectTypeName | undefined {
  const raw = String(req.params.type);
  const type = resolveObjectType(raw);
  if (!type) validationError(res, `Unable to infer object type from: ${raw}`);
  return type;
}

/** Options of a few deal properties come from account configuration rather than the definition. */
function liveOptions(portal: Portal, type: ObjectTypeName, def: PropertyDefinition): PropertyOption[] {
  if (type !== 'deals') return def.options;
  if (def.name === 'dealstage') {
    return portal.pipelines.flatMap((p) =>
      p.stages.map((s) => ({
        label: s.label,
        value: s.id,
        hidden: false,
        displayOrder: s.displayOrder,
        description: '',
      })),
    );
  }
  if (def.name === 'pipeline') {
    return portal.pipelines.map((p) => ({
      label: p.label,
      value: p.id,
      hidden: false,
      displayOrder: p.displayOrder,
    }));
  }
  if (def.name === 'deal_currency_code') {
    return portal.currencies.map((c, i) => ({ label: c, value: c, hidden: false, displayOrder: i }));
  }
  return def.options;
}

export function presentProperty(portal: Portal, type: ObjectTypeName, def: PropertyDefinition) {
  return {
    updatedAt: def.updatedAt,
    createdAt: def.createdAt,
    name: def.name,
    label: def.label,
    type: def.type,
    fieldType: def.fieldType,
    description: def.description,
    groupName: def.groupName,
    options: liveOptions(portal, type, def),
    ...(def.createdUserId ? { createdUserId: def.createdUserId, updatedUserId: def.updatedUserId } : {}),
    ...(def.referencedObjectType ? { referencedObjectType: def.referencedObjectType } : {}),
    ...(def.calculationFormula ? { calculationFormula: def.calculationFormula } : {}),
    ...(def.showCurrencySymbol !== undefined ? { showCurrencySymbol: def.showCurrencySymbol } : {}),
    ...(def.numberDisplayHint ? { numberDisplayHint: def.numberDisplayHint } : {}),
    displayOrder: def.displayOrder,
    calculated: def.calculated,
    externalOptions: def.externalOptions,
    hasUniqueValue: def.hasUniqueValue,
    hidden: def.hidden,
    hubspotDefined: def.hubspotDefined,
    modificationMetadata: {
      archivable: !def.hubspotDefined,
      readOnlyDefinition: def.hubspotDefined,
      readOnlyValue: def.readOnlyValue || def.calculated,
    },
    formField: def.formField,
    dataSensitivity: 'non_sensitive',
    ...(def.archived ? { archived: true } : {}),
  };
}

function presentGroup(group: PropertyGroupDefinition) {
  return { name: group.name, label: group.label, displayOrder: group.displayOrder, archived: group.archived };
}

function missingFields(body: Record<string, unknown>, fields: string[]): string[] {
  return fields.filter((f) => typeof body[f] !== 'string' || body[f] === '');
}

function parseOptions(raw: unknown): PropertyOption[] | string {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return 'options must be an array';
  const out: PropertyOption[] = [];
  for (const [i, o] of (raw as Array<Record<string, unknown>>).entries()) {
    if (typeof o?.label !== 'string' || typeof o?.value !== 'string')
      return 'Each option needs a label and a value.';
    out.push({
      label: o.label,
      value: o.value,
      hidden: o.hidden === true,
      displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i,
      ...(typeof o.description === 'string' ? { description: o.description } : {}),
    });
  }
  const values = out.map((o) => o.value);
  if (new Set(values).size !== values.length) return 'Option values must be unique.';
  return out;
}

export function propertiesRouter(ctx: SandboxContext): Router {
  const router = Router();
  const auth = requireBearer(ctx);

  router.get('/:type/groups', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, readScopes(type))) return;
    const { portal } = authed(res);
    res.json({ results: [...portal.groups[type].values()].filter((g) => !g.archived).map(presentGroup) });
  });

  router.get('/:type/groups/:name', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, readScopes(type))) return;
    const group = authed(res).portal.groups[type].get(String(req.params.name));
    if (!group || group.archived) {
      return sendError(
        res,
        404,
        `Property group ${String(req.params.name)} does not exist`,
        'OBJECT_NOT_FOUND',
      );
    }
    res.json(presentGroup(group));
  });

  router.post('/:type/groups', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, writeScopes(type))) return;
    const { portal } = authed(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const missing = missingFields(body, ['name', 'label']);
    if (missing.length > 0)
      return validationError(
        res,
        `Invalid input JSON: Some required fields were not set: [${missing.join(', ')}]`,
      );
    const name = body.name as string;
    if (!NAME_PATTERN.test(name)) {
      return validationError(
        res,
        `Property group name '${name}' must contain only lowercase letters, numbers and underscores.`,
      );
    }
    if (portal.groups[type].get(name)?.archived === false) {
      return sendError(res, 409, `Property group named '${name}' already exists.`, 'OBJECT_ALREADY_EXISTS');
    }
    const group: PropertyGroupDefinition = {
      name,
      label: body.label as string,
      displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1,
      archived: false,
    };
    portal.groups[type].set(name, group);
    res.status(201).json(presentGroup(group));
  });

  router.get('/:type', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, readScopes(type))) return;
    const { portal } = authed(res);
    const archived = String(req.query.archived ?? 'false') === 'true';
    const list = [...portal.properties[type].values()].filter((p) => p.archived === archived);
    res.json({ results: list.map((p) => presentProperty(portal, type, p)) });
  });

  router.get('/:type/:name', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, readScopes(type))) return;
    const { portal } = authed(res);
    const def = portal.properties[type].get(String(req.params.name));
    const archived = String(req.query.archived ?? 'false') === 'true';
    if (!def || def.archived !== archived) {
      return sendError(
        res,
        404,
        `Property named '${String(req.params.name)}' does not exist`,
        'OBJECT_NOT_FOUND',
      );
    }
    res.json(presentProperty(portal, type, def));
  });

  router.post('/:type', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, writeScopes(type))) return;
    const { portal } = authed(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const missing = missingFields(body, ['name', 'label', 'type', 'fieldType', 'groupName']);
    if (missing.length > 0)
      return validationError(
        res,
        `Invalid input JSON: Some required fields were not set: [${missing.join(', ')}]`,
      );
    const problem = checkDefinition(portal, type, body);
    if (problem) return validationError(res, problem);
    const name = body.name as string;
    if (portal.properties[type].get(name)?.archived === false) {
      return sendError(res, 409, `Property named '${name}' already exists.`, 'OBJECT_ALREADY_EXISTS');
    }
    const options = parseOptions(body.options) as PropertyOption[];
    const now = new Date().toISOString();
    const def: PropertyDefinition = {
      name,
      label: body.label as string,
      type: body.type as string,
      fieldType: body.fieldType as string,
      groupName: body.groupName as string,
      description: typeof body.description === 'string' ? body.description : '',
      options,
      displayOrder: typeof body.displayOrder === 'number' ? body.displayOrder : -1,
      calculated: body.fieldType === 'calculation_equation',
      externalOptions: body.externalOptions === true,
      hasUniqueValue: body.hasUniqueValue === true,
      hidden: body.hidden === true,
      hubspotDefined: false,
      formField: body.formField === true,
      readOnlyValue: false,
      ...(typeof body.numberDisplayHint === 'string' ? { numberDisplayHint: body.numberDisplayHint } : {}),
      ...(typeof body.calculationFormula === 'string' ? { calculationFormula: body.calculationFormula } : {}),
      createdAt: now,
      updatedAt: now,
      createdUserId: String(portal.userId),
      updatedUserId: String(portal.userId),
      archived: false,
    };
    portal.properties[type].set(name, def);
    res.status(201).json(presentProperty(portal, type, def));
  });

  router.patch('/:type/:name', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, writeScopes(type))) return;
    const { portal } = authed(res);
    const def = portal.properties[type].get(String(req.params.name));
    if (!def || def.archived) {
      return sendError(
        res,
        404,
        `Property named '${String(req.params.name)}' does not exist`,
        'OBJECT_NOT_FOUND',
      );
    }
    if (def.hubspotDefined)
      return validationError(res, `Property ${def.name} is HubSpot-defined; its definition is read-only.`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const merged = { ...def, ...body, name: def.name };
    const problem = checkDefinition(portal, type, merged);
    if (problem) return validationError(res, problem);
    if (body.options !== undefined) def.options = parseOptions(body.options) as PropertyOption[];
    for (const key of ['label', 'description', 'groupName', 'type', 'fieldType'] as const) {
      if (typeof body[key] === 'string') def[key] = body[key] as string;
    }
    if (typeof body.displayOrder === 'number') def.displayOrder = body.displayOrder;
    if (typeof body.hidden === 'boolean') def.hidden = body.hidden;
    def.updatedAt = new Date().toISOString();
    def.updatedUserId = String(portal.userId);
    res.json(presentProperty(portal, type, def));
  });

  router.delete('/:type/:name', auth, (req, res) => {
    const type = objectType(req, res);
    if (!type || !hasScope(ctx, res, writeScopes(type))) return;
    const def = authed(res).portal.properties[type].get(String(req.params.name));
    if (!def || def.archived) {
      return sendError(
        res,
        404,
        `Property named '${String(req.params.name)}' does not exist`,
        'OBJECT_NOT_FOUND',
      );
    }
    if (def.hubspotDefined)
      return validationError(res, `Property ${def.name} is HubSpot-defined and cannot be archived.`);
    def.archived = true;
    res.status(204).end();
  });

  return router;
}

function checkDefinition(
  portal: Portal,
  type: ObjectTypeName,
  body: Record<string, unknown>,
): string | undefined {
  const name = String(body.name);
  if (!NAME_PATTERN.test(name)) {
    return `Property name '${name}' must contain only lowercase letters, numbers and underscores, and start with a letter.`;
  }
  const propType = String(body.type);
  const allowed = FIELD_TYPES[propType];
  if (!allowed)
    return `Invalid property type '${propType}'. Valid types: ${Object.keys(FIELD_TYPES).join(', ')}.`;
  if (!allowed.includes(String(body.fieldType))) {
    return `fieldType '${String(body.fieldType)}' is not valid for a property of type '${propType}'.`;
  }
  const groupName = String(body.groupName);
  if (portal.groups[type].get(groupName)?.archived !== false) {
    return `Property group '${groupName}' does not exist for object type ${type}.`;
  }
  const options = parseOptions(body.options);
  if (typeof options === 'string') return options;
  if (
    propType === 'enumeration' &&
    options.length === 0 &&
    body.externalOptions !== true &&
    body.fieldType !== 'booleancheckbox'
  ) {
    return `Enumeration property '${name}' needs at least one option.`;
  }
  return undefined;
}
