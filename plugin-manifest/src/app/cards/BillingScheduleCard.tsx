import { hubspot } from '@hubspot/ui-extensions';
import { Card } from './Card.tsx';

hubspot.extend<'crm.record.tab'>(({ context }) => (
  <Card
    asker={{ portalId: context.portal.id, userId: context.user.id, userEmail: context.user.email }}
    dealId={String(context.crm.objectId)}
  />
));
