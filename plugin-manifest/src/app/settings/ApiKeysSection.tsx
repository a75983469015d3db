import {
  Alert,
  Button,
  Flex,
  Heading,
  Input,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  Text,
} from '@hubspot/ui-extensions';
import { useCallback, useEffect, useState } from 'react';
import { asRefusal, type CardApi, fieldError, Refusal } from '../cards/api.ts';
import type { ApiKey } from './types.ts';

/** Keys for the tenant's own systems (the JSON API): shown once when made, revocable at any time. */
export function ApiKeysSection(props: { api: CardApi; onChanged: (what: string) => void }) {
  const { api } = props;
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [name, setName] = useState('');
  const [made, setMade] = useState<{ name: string; key: string } | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  const load = useCallback(async () => {
    setKeys((await api.get<{ apiKeys: ApiKey[] }>('/settings/api-keys')).apiKeys);
  }, [api]);
  useEffect(() => {
    load().catch((error: unknown) => setRefusal(asRefusal(error)));
  }, [load]);

  const create = async () => {
    try {
      setMade(await api.post<{ name: string; key: string }>('/settings/api-keys', { name }));
      setName('');
      setRefusal(undefined);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const revoke = async (key: ApiKey) => {
    try {
      await api.delete(`/settings/api-keys/${key.id}`);
      props.onChanged(`The API key "${key.name}" is revoked: requests with it are refused from now on.`);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>API keys</Heading>
      {made ? (
        <Alert title={`API key "${made.name}"`} variant="warning">
          <Text>Copy it now: it is shown only this once.</Text>
          <Input testId="new-api-key" label="Key" name="new-api-key" value={made.key} readOnly />
        </Alert>
      ) : null}
      <Flex gap="sm" align="end">
        <Input
          label="Name of the new key"
          name="name"
          value={name}
          onInput={setName}
          {...fieldError(refusal, 'name')}
        />
        <Button testId="create-api-key" onClick={() => void create()}>
          Create API key
        </Button>
      </Flex>
      <Table>
        <TableHead>
          <TableRow>
            <TableHeader>Name</TableHeader>
            <TableHeader>Key</TableHeader>
            <TableHeader>Created</TableHeader>
            <TableHeader> </TableHeader>
          </TableRow>
        </TableHead>
        <TableBody>
          {keys.map((k) => (
            <TableRow key={k.id}>
              <TableCell>{k.name}</TableCell>
              <TableCell>{`${k.prefix}…`}</TableCell>
              <TableCell>{k.createdAt.slice(0, 10)}</TableCell>
              <TableCell>
                {k.revokedAt ? (
                  <Tag
                    testId={`revoked-${k.id}`}
                    variant="default"
                  >{`revoked ${k.revokedAt.slice(0, 10)}`}</Tag>
                ) : (
                  <Button
                    testId={`revoke-${k.id}`}
                    size="xs"
                    variant="destructive"
                    onClick={() => void revoke(k)}
                  >
                    Revoke
                  </Button>
                )}
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {refusal && !refusal.issues.length ? <Text>{refusal.message}</Text> : null}
    </Flex>
  );
}
