import { hubspot } from '@hubspot/ui-extensions';
import { Card } from './Card.tsx';

hubspot.extend<'crm.record.tab'>(({ context }) => <Card dealId={String(context.crm.objectId)} />);
