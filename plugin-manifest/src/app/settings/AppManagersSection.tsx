import { Button, Flex, Heading, MultiSelect, Text } from '@hubspot/ui-extensions';
import { useEffect, useState } from 'react';
import { asRefusal, type CardApi, fieldError, Refusal } from '../cards/api.ts';

interface Role {
  id: string;
  name: string;
  mayManage: boolean;
}

/**
 * Who may change these settings besides the portal's super admins: users of the HubSpot roles named
 * here. The backend asks HubSpot who a user is and which roles they have; nothing else counts.
 */
export function AppManagersSection(props: { api: CardApi; onChanged: (what: string) => void }) {
  const { api } = props;
  const [roles, setRoles] = useState<Role[] | undefined>();
  const [chosen, setChosen] = useState<string[]>([]);
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  useEffect(() => {
    api.get<{ roles: Role[] }>('/settings/app-managers').then(
      ({ roles }) => {
        setRoles(roles);
        setChosen(roles.filter((r) => r.mayManage).map((r) => r.id));
      },
      (error: unknown) => setRefusal(asRefusal(error)),
    );
  }, [api]);

  const save = async () => {
    try {
      await api.put('/settings/app-managers', { roleIds: chosen });
      setRefusal(undefined);
      const names = (roles ?? []).filter((r) => chosen.includes(r.id)).map((r) => r.name);
      props.onChanged(
        names.length
          ? `Super admins and users with the roles ${names.join(', ')} may now manage the app.`
          : 'Only super admins may now manage the app.',
      );
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>Who may manage the app</Heading>
      <Text>
        The portal's super admins always may. Name HubSpot roles whose users may too (change these settings,
        templates, keys and links, and the QuickBooks connection).
      </Text>
      {roles ? (
        <MultiSelect
          name="app-manager-roles"
          label="Roles that may manage the app"
          value={chosen}
          onChange={(value) => setChosen(value.map(String))}
          options={roles.map((r) => ({ label: r.name, value: r.id }))}
          {...fieldError(refusal, 'roleIds')}
        />
      ) : null}
      <Button testId="save-app-managers" onClick={() => void save()} disabled={!roles}>
        Save
      </Button>
      {refusal && !refusal.issues.length ? (
        <Text testId="app-managers-refusal">{refusal.message}</Text>
      ) : null}
    </Flex>
  );
}
