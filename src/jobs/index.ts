import { hubspotEvents } from './hubspot-events.ts';
import { hubspotWriteBack } from './hubspot-write-back.ts';
import { invoicePush } from './invoice-push.ts';

/** Every job the worker runs; web processes only enqueue. */
export const JOBS = [hubspotEvents, invoicePush, hubspotWriteBack];
