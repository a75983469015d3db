import { faults, QboFault } from '../faults.ts';
import type { Realm } from '../realm.ts';
import { ENTITY_NAMES, type Entity } from '../types.ts';
import { isRecord } from '../util.ts';
import { loadForWrite, withoutSystemFields } from './common.ts';

const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

function validateRefs(realm: Realm, refs: unknown): unknown[] {
  if (refs === undefined) return [];
  if (!Array.isArray(refs))
    throw faults.unsupportedProperty(
      'Property Name:AttachableRef must be an array specified is unsupported or invalid',
    );
  for (const r of refs) {
    const entityRef = isRecord(r) && isRecord(r.EntityRef) ? r.EntityRef : undefined;
    if (!entityRef) throw faults.requiredParam('AttachableRef.EntityRef');
    const type = ENTITY_NAMES.find((e) => e.toLowerCase() === String(entityRef.type ?? '').toLowerCase());
    if (!type || !realm.get(type, String(entityRef.value))) {
      throw faults.invalidReference(
        `${String(entityRef.type)} Id=${String(entityRef.value)} referenced by AttachableRef does not exist`,
        'AttachableRef',
      );
    }
    entityRef.type = type;
    entityRef.value = String(entityRef.value);
  }
  return refs;
}

function category(contentType: string): string {
  if (contentType.startsWith('image/')) return 'Image';
  return 'Document';
}

export interface UploadPart {
  suffix: string;
  fileName: string;
  contentType: string;
  bytes: Buffer;
  metadata?: Record<string, unknown>;
}

/** `/upload`: each file_content_NN becomes an Attachable; failures are per item, inside a 200, as QBO does. */
export function uploadAttachables(realm: Realm, parts: UploadPart[], downloadBase: string): unknown[] {
  return parts.map((part) => {
    try {
      if (part.bytes.length > MAX_UPLOAD_BYTES) {
        throw new QboFault(400, '6030', 'File size exceeds limit', 'The file size should not exceed 100MB');
      }
      const meta = part.metadata ?? {};
      const refs = validateRefs(realm, meta.AttachableRef);
      const fileName = typeof meta.FileName === 'string' ? meta.FileName : part.fileName;
      const contentType = typeof meta.ContentType === 'string' ? meta.ContentType : part.contentType;
      const id = realm.nextId('Attachable');
      realm.files.set(id, { bytes: part.bytes, contentType, fileName });
      const attachable = realm.insert<Entity>('Attachable', {
        ...withoutSystemFields(meta),
        Id: id,
        FileName: fileName,
        FileAccessUri: `/v3/company/${realm.id}/download/${id}`,
        TempDownloadUri: `${downloadBase}/__sandbox/files/${realm.id}/${id}`,
        Size: part.bytes.length,
        ContentType: contentType,
        Category: category(contentType),
        ...(refs.length ? { AttachableRef: refs } : {}),
      });
      return { Attachable: attachable };
    } catch (err) {
      if (err instanceof QboFault) return { Fault: err.toFault() };
      throw err;
    }
  });
}

export function createAttachable(realm: Realm, body: unknown): Entity {
  if (!isRecord(body))
    throw faults.unsupportedProperty('Property Name:Attachable specified is unsupported or invalid');
  const refs = validateRefs(realm, body.AttachableRef);
  if (typeof body.Note !== 'string' && typeof body.FileName !== 'string') throw faults.requiredParam('Note');
  return realm.insert<Entity>('Attachable', {
    ...withoutSystemFields(body),
    ...(refs.length ? { AttachableRef: refs } : {}),
  });
}

export function updateAttachable(realm: Realm, body: unknown): Entity {
  if (!isRecord(body))
    throw faults.unsupportedProperty('Property Name:Attachable specified is unsupported or invalid');
  const existing = loadForWrite<Entity>(realm, 'Attachable', body);
  const fields = withoutSystemFields(body);
  if ('AttachableRef' in fields) fields.AttachableRef = validateRefs(realm, fields.AttachableRef);
  const next = {
    ...(body.sparse === true ? existing : {}),
    // File facts belong to the stored upload, not to whatever the client echoes back.
    ...fields,
    ...(existing.FileAccessUri
      ? {
          FileAccessUri: existing.FileAccessUri,
          TempDownloadUri: existing.TempDownloadUri,
          Size: existing.Size,
        }
      : {}),
    Id: existing.Id,
    SyncToken: existing.SyncToken,
    domain: 'QBO',
    sparse: false,
    MetaData: existing.MetaData,
  } as Entity;
  return realm.save('Attachable', next);
}

export function deleteAttachable(
  realm: Realm,
  body: unknown,
): { domain: 'QBO'; status: 'Deleted'; Id: string } {
  const existing = loadForWrite<Entity>(realm, 'Attachable', body as Record<string, unknown>);
  realm.remove('Attachable', existing.Id);
  realm.files.delete(existing.Id);
  return { domain: 'QBO', status: 'Deleted', Id: existing.Id };
}
