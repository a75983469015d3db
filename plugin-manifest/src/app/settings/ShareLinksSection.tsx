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
import type { ShareLink } from './types.ts';

const STATE = {
  active: { text: 'active', variant: 'success' },
  expired: { text: 'expired', variant: 'warning' },
  revoked: { text: 'revoked', variant: 'default' },
} as const;

/** Who made a link: the HubSpot user's email when the backend names one (`hubspot_user:91 <ada@…>`). */
const whoMade = (actor: string) => /<(.+)>$/.exec(actor)?.[1] ?? actor;
const day = (iso: string | null) => iso?.slice(0, 10) ?? 'never';
const number = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : text);

/**
 * Read-only links to the portfolio for a bookkeeper without a HubSpot seat: the link is shown once
 * when made, works until it expires, and can be revoked at any time.
 */
export function ShareLinksSection(props: { api: CardApi; onChanged: (what: string) => void }) {
  const { api } = props;
  const [links, setLinks] = useState<ShareLink[]>([]);
  const [label, setLabel] = useState('');
  const [days, setDays] = useState('30');
  const [made, setMade] = useState<(ShareLink & { url: string }) | undefined>();
  const [refusal, setRefusal] = useState<Refusal | undefined>();

  const load = useCallback(async () => {
    setLinks((await api.get<{ shareLinks: ShareLink[] }>('/settings/share-links')).shareLinks);
  }, [api]);
  useEffect(() => {
    load().catch((error: unknown) => setRefusal(asRefusal(error)));
  }, [load]);

  const create = async () => {
    try {
      setMade(
        await api.post<ShareLink & { url: string }>('/settings/share-links', { label, days: number(days) }),
      );
      setLabel('');
      setDays('30');
      setRefusal(undefined);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };
  const revoke = async (link: ShareLink) => {
    try {
      await api.delete(`/settings/share-links/${link.id}`);
      if (made?.id === link.id) setMade(undefined);
      setRefusal(undefined);
      props.onChanged(`The link for "${link.label}" is revoked: it no longer opens the portfolio.`);
      await load();
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
      await load();
    }
  };

  const endSessions = async () => {
    try {
      const { ended } = await api.post<{ ended: number }>('/settings/sessions/end');
      setRefusal(undefined);
      props.onChanged(
        `${ended === 1 ? 'One browser was' : `${ended} browsers were`} signed out of the portfolio; links and "Open portfolio" sign in again.`,
      );
    } catch (error) {
      if (error instanceof Refusal) setRefusal(error);
    }
  };

  return (
    <Flex direction="column" gap="sm">
      <Heading>Bookkeeper share links</Heading>
      <Text>
        Give someone without a HubSpot seat, such as your bookkeeper, a read-only view of the portfolio (what
        "Open portfolio" shows you). Anyone who has the link can view it until it expires or you revoke it.
      </Text>
      {made ? (
        <Alert title={`Link for "${made.label}"`} variant="warning">
          <Text>{`Copy it now: it is shown only this once. It works until ${day(made.expiresAt)}.`}</Text>
          <Input testId="new-share-link" label="Link" name="new-share-link" value={made.url} readOnly />
        </Alert>
      ) : null}
      <Flex gap="sm" align="end">
        <Input
          label="Who the link is for"
          name="share-link-label"
          placeholder="Dana (bookkeeper)"
          value={label}
          onInput={setLabel}
          {...fieldError(refusal, 'label')}
        />
        <Input
          label="Valid for (days, 1 to 90)"
          name="share-link-days"
          value={days}
          onInput={setDays}
          {...fieldError(refusal, 'days')}
        />
        <Button testId="create-share-link" onClick={() => void create()}>
          Create link
        </Button>
      </Flex>
      {links.length ? (
        <Table>
          <TableHead>
            <TableRow>
              <TableHeader>For</TableHeader>
              <TableHeader>State</TableHeader>
              <TableHeader>Created by</TableHeader>
              <TableHeader>Expires</TableHeader>
              <TableHeader>Last used</TableHeader>
              <TableHeader> </TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {links.map((l) => (
              <TableRow key={l.id}>
                <TableCell>{l.label}</TableCell>
                <TableCell>
                  <Tag testId={`share-link-state-${l.id}`} variant={STATE[l.state].variant}>
                    {STATE[l.state].text}
                  </Tag>
                </TableCell>
                <TableCell>{whoMade(l.createdBy)}</TableCell>
                <TableCell>{day(l.expiresAt)}</TableCell>
                <TableCell>{day(l.lastUsedAt)}</TableCell>
                <TableCell>
                  {l.state === 'active' ? (
                    <Button
                      testId={`revoke-share-link-${l.id}`}
                      size="xs"
                      variant="destructive"
                      onClick={() => void revoke(l)}
                    >
                      Revoke
                    </Button>
                  ) : null}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : (
        <Text>No links yet.</Text>
      )}
      <Flex gap="sm" align="center">
        <Text>Lost a laptop, or someone left? Sign every browser out of this portal's portfolio.</Text>
        <Button testId="end-sessions" variant="secondary" onClick={() => void endSessions()}>
          End every portfolio session
        </Button>
      </Flex>
      {refusal && !refusal.issues.length ? <Text testId="share-link-refusal">{refusal.message}</Text> : null}
    </Flex>
  );
}
