import { and, asc, eq } from 'drizzle-orm';
import { DomainError } from '../domain/errors.ts';
import { BUILT_IN_TEMPLATES, type Template } from '../domain/templates.ts';
import { newId } from '../ids.ts';
import { isUniqueViolation, type Queryable } from '../store/db.ts';
import { templates } from '../store/schema.ts';

/** Built-in templates first, then the tenant's own. */
export async function listTemplates(
  db: Queryable,
  tenantId: string,
): Promise<(Template & { builtIn: boolean })[]> {
  const own = await db
    .select()
    .from(templates)
    .where(eq(templates.tenantId, tenantId))
    .orderBy(asc(templates.createdAt));
  return [
    ...BUILT_IN_TEMPLATES.map((t) => ({ ...t, builtIn: true })),
    ...own.map((t) => ({ ...fromRow(t), builtIn: false })),
  ];
}

export async function findTemplate(db: Queryable, tenantId: string, key: string): Promise<Template> {
  const builtIn = BUILT_IN_TEMPLATES.find((t) => t.key === key);
  if (builtIn) return builtIn;
  const [row] = await db
    .select()
    .from(templates)
    .where(and(eq(templates.tenantId, tenantId), eq(templates.key, key)));
  if (!row) throw new DomainError('not_found', `no template "${key}"`);
  return fromRow(row);
}

export async function saveTemplate(db: Queryable, tenantId: string, template: Template): Promise<Template> {
  if (BUILT_IN_TEMPLATES.some((t) => t.key === template.key)) {
    throw new DomainError('template_exists', `"${template.key}" is a built-in template; choose another key`);
  }
  try {
    await db.insert(templates).values({ id: newId('tpl'), tenantId, ...template });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError('template_exists', `a template "${template.key}" already exists`);
    throw error;
  }
  return template;
}

/** Replaces one of the tenant's own templates; schedules already made from it keep their milestones. */
export async function replaceTemplate(
  db: Queryable,
  tenantId: string,
  template: Template,
): Promise<Template> {
  const { key, ...fields } = template;
  const [row] = await db
    .update(templates)
    .set(fields)
    .where(and(eq(templates.tenantId, tenantId), eq(templates.key, key)))
    .returning({ id: templates.id });
  if (!row) throw notOwn(key);
  return template;
}

export async function deleteTemplate(db: Queryable, tenantId: string, key: string): Promise<void> {
  const [row] = await db
    .delete(templates)
    .where(and(eq(templates.tenantId, tenantId), eq(templates.key, key)))
    .returning({ id: templates.id });
  if (!row) throw notOwn(key);
}

const notOwn = (key: string) =>
  BUILT_IN_TEMPLATES.some((t) => t.key === key)
    ? new DomainError('template_built_in', `"${key}" is a built-in template; it cannot be changed`)
    : new DomainError('not_found', `no template "${key}"`);

function fromRow(row: typeof templates.$inferSelect): Template {
  return {
    key: row.key,
    name: row.name,
    description: row.description,
    paymentTerms: row.paymentTerms,
    retainagePercent: row.retainagePercent,
    milestones: row.milestones,
  };
}
