import type {
  ObjectTypeName,
  Pipeline,
  PropertyDefinition,
  PropertyGroupDefinition,
  PropertyOption,
} from './types.ts';

// A fixed creation time for HubSpot-defined schema, so responses are stable across runs.
const SCHEMA_CREATED_AT = '2019-08-06T02:41:08.000Z';

export const DEFAULT_PIPELINE: Pipeline = {
  id: 'default',
  label: 'Sales Pipeline',
  displayOrder: 0,
  stages: [
    ['appointmentscheduled', 'Appointment Scheduled', '0.2', false],
    ['qualifiedtobuy', 'Qualified To Buy', '0.4', false],
    ['presentationscheduled', 'Presentation Scheduled', '0.6', false],
    ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', false],
    ['contractsent', 'Contract Sent', '0.9', false],
    ['closedwon', 'Closed Won', '1.0', true],
    ['closedlost', 'Closed Lost', '0.0', true],
  ].map(([id, label, probability, isClosed], displayOrder) => ({
    id: id as string,
    label: label as string,
    displayOrder,
    metadata: { isClosed: String(isClosed), probability: probability as string },
  })),
};

export const DEFAULT_CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'JPY', 'AUD'];

/** Properties returned when a read names no `properties`, as HubSpot does per object type. */
export const DEFAULT_READ_PROPERTIES: Record<ObjectTypeName, string[]> = {
  deals: [
    'amount',
    'closedate',
    'createdate',
    'dealname',
    'dealstage',
    'hs_lastmodifieddate',
    'hs_object_id',
    'pipeline',
  ],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  notes: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  tasks: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

/** Properties HubSpot always adds to a read, even when others were named explicitly. */
export const ALWAYS_RETURNED: Record<ObjectTypeName, string[]> = {
  deals: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  companies: ['createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  contacts: ['createdate', 'lastmodifieddate', 'hs_object_id'],
  notes: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  tasks: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

/** Name of the "last modified" property, which differs for contacts. */
export const LAST_MODIFIED_PROPERTY: Record<ObjectTypeName, string> = {
  deals: 'hs_lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  contacts: 'lastmodifieddate',
  notes: 'hs_lastmodifieddate',
  tasks: 'hs_lastmodifieddate',
};

export const CREATED_PROPERTY: Record<ObjectTypeName, string> = {
  deals: 'createdate',
  companies: 'createdate',
  contacts: 'createdate',
  notes: 'hs_createdate',
  tasks: 'hs_createdate',
};

/** Free-text `query` in search looks at these properties. */
export const SEARCHABLE_TEXT: Record<ObjectTypeName, string[]> = {
  deals: ['dealname'],
  companies: ['name', 'domain', 'website', 'phone'],
  contacts: ['firstname', 'lastname', 'email', 'phone', 'company'],
  notes: ['hs_note_body'],
  tasks: ['hs_task_subject', 'hs_task_body'],
};

const DEFAULT_GROUPS: Record<ObjectTypeName, Array<[string, string]>> = {
  deals: [
    ['dealinformation', 'Deal information'],
    ['deal_activity', 'Deal activity'],
    ['deal_revenue', 'Deal revenue'],
  ],
  companies: [
    ['companyinformation', 'Company information'],
    ['company_activity', 'Company activity'],
  ],
  contacts: [
    ['contactinformation', 'Contact information'],
    ['contact_activity', 'Contact activity'],
  ],
  notes: [['engagement', 'Engagement']],
  tasks: [['task', 'Task information']],
};

export function defaultGroups(type: ObjectTypeName): PropertyGroupDefinition[] {
  return DEFAULT_GROUPS[type].map(([name, label], displayOrder) => ({
    name,
    label,
    displayOrder,
    archived: false,
  }));
}

type PropSpec = [
  name: string,
  label: string,
  type: string,
  fieldType: string,
  group: string,
  extra?: Partial<PropertyDefinition>,
];

const READ_ONLY = { readOnlyValue: true, formField: false };

const DEAL_PROPS: PropSpec[] = [
  ['dealname', 'Deal Name', 'string', 'text', 'dealinformation', { formField: true }],
  [
    'amount',
    'Amount',
    'number',
    'number',
    'dealinformation',
    { showCurrencySymbol: true, numberDisplayHint: 'currency' },
  ],
  ['deal_currency_code', 'Currency', 'enumeration', 'select', 'dealinformation'],
  ['dealstage', 'Deal Stage', 'enumeration', 'radio', 'dealinformation'],
  ['pipeline', 'Pipeline', 'enumeration', 'select', 'dealinformation'],
  ['closedate', 'Close Date', 'datetime', 'date', 'dealinformation'],
  [
    'hubspot_owner_id',
    'Deal owner',
    'enumeration',
    'select',
    'dealinformation',
    { externalOptions: true, referencedObjectType: 'OWNER' },
  ],
  ['dealtype', 'Deal Type', 'enumeration', 'radio', 'dealinformation'],
  ['description', 'Deal Description', 'string', 'textarea', 'dealinformation'],
  ['createdate', 'Create Date', 'datetime', 'date', 'dealinformation'],
  ['hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date', 'dealinformation', READ_ONLY],
  ['hs_object_id', 'Record ID', 'number', 'number', 'dealinformation', READ_ONLY],
  [
    'hs_is_closed_won',
    'Is Closed Won',
    'bool',
    'booleancheckbox',
    'dealinformation',
    { ...READ_ONLY, calculated: true },
  ],
  [
    'hs_is_closed',
    'Is Deal Closed?',
    'bool',
    'booleancheckbox',
    'dealinformation',
    { ...READ_ONLY, calculated: true },
  ],
];

const COMPANY_PROPS: PropSpec[] = [
  ['name', 'Company name', 'string', 'text', 'companyinformation', { formField: true }],
  ['domain', 'Company Domain Name', 'string', 'text', 'companyinformation'],
  ['website', 'Website URL', 'string', 'text', 'companyinformation'],
  ['phone', 'Phone Number', 'string', 'phonenumber', 'companyinformation'],
  ['address', 'Street Address', 'string', 'text', 'companyinformation'],
  ['address2', 'Street Address 2', 'string', 'text', 'companyinformation'],
  ['city', 'City', 'string', 'text', 'companyinformation'],
  ['state', 'State/Region', 'string', 'text', 'companyinformation'],
  ['zip', 'Postal Code', 'string', 'text', 'companyinformation'],
  ['country', 'Country/Region', 'string', 'text', 'companyinformation'],
  ['industry', 'Industry', 'string', 'text', 'companyinformation'],
  [
    'hubspot_owner_id',
    'Company owner',
    'enumeration',
    'select',
    'companyinformation',
    { externalOptions: true, referencedObjectType: 'OWNER' },
  ],
  ['createdate', 'Create Date', 'datetime', 'date', 'companyinformation'],
  ['hs_lastmodifieddate', 'Last Modified Date', 'datetime', 'date', 'companyinformation', READ_ONLY],
  ['hs_object_id', 'Record ID', 'number', 'number', 'companyinformation', READ_ONLY],
];

const CONTACT_PROPS: PropSpec[] = [
  ['email', 'Email', 'string', 'text', 'contactinformation', { formField: true }],
  ['firstname', 'First Name', 'string', 'text', 'contactinformation', { formField: true }],
  ['lastname', 'Last Name', 'string', 'text', 'contactinformation', { formField: true }],
  ['phone', 'Phone Number', 'string', 'phonenumber', 'contactinformation'],
  ['company', 'Company Name', 'string', 'text', 'contactinformation'],
  ['jobtitle', 'Job Title', 'string', 'text', 'contactinformation'],
  ['address', 'Street Address', 'string', 'text', 'contactinformation'],
  ['city', 'City', 'string', 'text', 'contactinformation'],
  ['state', 'State/Region', 'string', 'text', 'contactinformation'],
  ['zip', 'Postal Code', 'string', 'text', 'contactinformation'],
  ['country', 'Country/Region', 'string', 'text', 'contactinformation'],
  [
    'hubspot_owner_id',
    'Contact owner',
    'enumeration',
    'select',
    'contactinformation',
    { externalOptions: true, referencedObjectType: 'OWNER' },
  ],
  ['createdate', 'Create Date', 'datetime', 'date', 'contactinformation'],
  ['lastmodifieddate', 'Last Modified Date', 'datetime', 'date', 'contactinformation', READ_ONLY],
  ['hs_object_id', 'Record ID', 'number', 'number', 'contactinformation', READ_ONLY],
];

const NOTE_PROPS: PropSpec[] = [
  ['hs_timestamp', 'Activity date', 'datetime', 'date', 'engagement'],
  ['hs_note_body', 'Note body', 'string', 'html', 'engagement'],
  [
    'hubspot_owner_id',
    'Activity assigned to',
    'enumeration',
    'select',
    'engagement',
    { externalOptions: true, referencedObjectType: 'OWNER' },
  ],
  ['hs_attachment_ids', 'Attached file IDs', 'enumeration', 'checkbox', 'engagement'],
  ['hs_createdate', 'Created at', 'datetime', 'date', 'engagement', READ_ONLY],
  ['hs_lastmodifieddate', 'Last modified date', 'datetime', 'date', 'engagement', READ_ONLY],
  ['hs_object_id', 'Record ID', 'number', 'number', 'engagement', READ_ONLY],
];

const TASK_PROPS: PropSpec[] = [
  ['hs_timestamp', 'Due date', 'datetime', 'date', 'task'],
  ['hs_task_subject', 'Task title', 'string', 'text', 'task'],
  ['hs_task_body', 'Notes', 'string', 'html', 'task'],
  [
    'hs_task_status',
    'Task status',
    'enumeration',
    'select',
    'task',
    {
      options: [
        { label: 'Not started', value: 'NOT_STARTED', hidden: false, displayOrder: 0 },
        { label: 'Completed', value: 'COMPLETED', hidden: false, displayOrder: 1 },
      ],
    },
  ],
  [
    'hs_task_priority',
    'Priority',
    'enumeration',
    'select',
    'task',
    {
      options: [
        { label: 'Low', value: 'LOW', hidden: false, displayOrder: 0 },
        { label: 'Medium', value: 'MEDIUM', hidden: false, displayOrder: 1 },
        { label: 'High', value: 'HIGH', hidden: false, displayOrder: 2 },
      ],
    },
  ],
  [
    'hs_task_type',
    'Task type',
    'enumeration',
    'select',
    'task',
    {
      options: [
        { label: 'Email', value: 'EMAIL', hidden: false, displayOrder: 0 },
        { label: 'Call', value: 'CALL', hidden: false, displayOrder: 1 },
        { label: 'To-do', value: 'TODO', hidden: false, displayOrder: 2 },
      ],
    },
  ],
  [
    'hubspot_owner_id',
    'Assigned to',
    'enumeration',
    'select',
    'task',
    { externalOptions: true, referencedObjectType: 'OWNER' },
  ],
  ['hs_createdate', 'Created at', 'datetime', 'date', 'task', READ_ONLY],
  ['hs_lastmodifieddate', 'Last modified date', 'datetime', 'date', 'task', READ_ONLY],
  ['hs_object_id', 'Record ID', 'number', 'number', 'task', READ_ONLY],
];

const PROPS: Record<ObjectTypeName, PropSpec[]> = {
  deals: DEAL_PROPS,
  companies: COMPANY_PROPS,
  contacts: CONTACT_PROPS,
  notes: NOTE_PROPS,
  tasks: TASK_PROPS,
};

const DEAL_TYPE_OPTIONS: PropertyOption[] = [
  { label: 'New Business', value: 'newbusiness', hidden: false, displayOrder: 0 },
  { label: 'Existing Business', value: 'existingbusiness', hidden: false, displayOrder: 1 },
];

const BOOL_OPTIONS: PropertyOption[] = [
  { label: 'True', value: 'true', hidden: false, displayOrder: 0 },
  { label: 'False', value: 'false', hidden: false, displayOrder: 1 },
];

export function defaultProperties(type: ObjectTypeName): PropertyDefinition[] {
  return PROPS[type].map(([name, label, propType, fieldType, groupName, extra], displayOrder) => ({
    name,
    label,
    type: propType,
    fieldType,
    groupName,
    description: '',
    options: name === 'dealtype' ? DEAL_TYPE_OPTIONS : propType === 'bool' ? BOOL_OPTIONS : [],
    displayOrder,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: false,
    hidden: false,
    hubspotDefined: true,
    formField: false,
    readOnlyValue: false,
    createdAt: SCHEMA_CREATED_AT,
    updatedAt: SCHEMA_CREATED_AT,
    archived: false,
    ...extra,
  }));
}

/** Valid `type` → allowed `fieldType`s for property creation. */
export const FIELD_TYPES: Record<string, string[]> = {
  string: ['text', 'textarea', 'html', 'phonenumber', 'file', 'calculation_equation'],
  number: ['number', 'calculation_equation'],
  date: ['date', 'calculation_equation'],
  datetime: ['date', 'calculation_equation'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox', 'calculation_equation'],
  bool: ['booleancheckbox', 'calculation_equation'],
};

export interface AssociationTypeDef {
  typeId: number;
  from: ObjectTypeName;
  to: ObjectTypeName;
  /** name in v3 inline associations (`type` field) */
  name: string;
  /** label in v4 responses */
  label: string | null;
  inverse: number;
  /** a primary association always co-exists with this unlabeled one */
  unlabeled?: number;
}

// HUBSPOT_DEFINED ids from the SDK's AssociationTypes enum.
export const ASSOCIATION_TYPES: AssociationTypeDef[] = [
  {
    typeId: 1,
    from: 'contacts',
    to: 'companies',
    name: 'contact_to_company',
    label: 'Primary',
    inverse: 2,
    unlabeled: 279,
  },
  {
    typeId: 2,
    from: 'companies',
    to: 'contacts',
    name: 'company_to_contact',
    label: 'Primary',
    inverse: 1,
    unlabeled: 280,
  },
  {
    typeId: 279,
    from: 'contacts',
    to: 'companies',
    name: 'contact_to_company_unlabeled',
    label: null,
    inverse: 280,
  },
  {
    typeId: 280,
    from: 'companies',
    to: 'contacts',
    name: 'company_to_contact_unlabeled',
    label: null,
    inverse: 279,
  },
  { typeId: 3, from: 'deals', to: 'contacts', name: 'deal_to_contact', label: null, inverse: 4 },
  { typeId: 4, from: 'contacts', to: 'deals', name: 'contact_to_deal', label: null, inverse: 3 },
  {
    typeId: 5,
    from: 'deals',
    to: 'companies',
    name: 'deal_to_company',
    label: 'Primary',
    inverse: 6,
    unlabeled: 341,
  },
  {
    typeId: 6,
    from: 'companies',
    to: 'deals',
    name: 'company_to_deal',
    label: 'Primary',
    inverse: 5,
    unlabeled: 342,
  },
  {
    typeId: 341,
    from: 'deals',
    to: 'companies',
    name: 'deal_to_company_unlabeled',
    label: null,
    inverse: 342,
  },
  {
    typeId: 342,
    from: 'companies',
    to: 'deals',
    name: 'company_to_deal_unlabeled',
    label: null,
    inverse: 341,
  },
  { typeId: 189, from: 'companies', to: 'notes', name: 'company_to_note', label: null, inverse: 190 },
  { typeId: 190, from: 'notes', to: 'companies', name: 'note_to_company', label: null, inverse: 189 },
  { typeId: 201, from: 'contacts', to: 'notes', name: 'contact_to_note', label: null, inverse: 202 },
  { typeId: 202, from: 'notes', to: 'contacts', name: 'note_to_contact', label: null, inverse: 201 },
  { typeId: 213, from: 'deals', to: 'notes', name: 'deal_to_note', label: null, inverse: 214 },
  { typeId: 214, from: 'notes', to: 'deals', name: 'note_to_deal', label: null, inverse: 213 },
  { typeId: 215, from: 'deals', to: 'tasks', name: 'deal_to_task', label: null, inverse: 216 },
  { typeId: 216, from: 'tasks', to: 'deals', name: 'task_to_deal', label: null, inverse: 215 },
];

export const ASSOCIATION_TYPE_BY_ID = new Map(ASSOCIATION_TYPES.map((t) => [t.typeId, t]));

/** The plain (non-primary) type linking `from` to `to`, used when no type id is given. */
export function defaultAssociationType(
  from: ObjectTypeName,
  to: ObjectTypeName,
): AssociationTypeDef | undefined {
  return ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to && t.label === null);
}

export function primaryAssociationType(
  from: ObjectTypeName,
  to: ObjectTypeName,
): AssociationTypeDef | undefined {
  return ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to && t.label === 'Primary');
}
