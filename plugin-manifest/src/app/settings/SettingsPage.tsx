import { hubspot } from '@hubspot/ui-extensions';
import { Settings } from './Settings.tsx';

hubspot.extend<'settings'>(({ context }) => (
  <Settings
    asker={{
      portalId: context.portal.id,
      userId: context.user.id,
      userEmail: context.user.email,
      permissions: context.user.permissions,
    }}
  />
));
