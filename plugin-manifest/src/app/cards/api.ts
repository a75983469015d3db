import { hubspot } from '@hubspot/ui-extensions';

/** The app's backend, as named in `permittedUrls.fetch` (app-hsmeta.json). */
export const BACKEND = 'https://billing.milestone-billing.app';

export interface FieldIssue {
  path: string;
  code: string;
  message: string;
}

/** A refusal of the backend (problem+json): its words, and the fields it names. */
export class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[],
  ) {
    super(message);
  }

  /** The message for one field (`milestones[0].name`), if the backend named it. */
  about(path: string): string | undefined {
    return this.issues.find((i) => i.path === path || i.path.startsWith(`${path}.`))?.message;
  }
}

/** Any failure of a call as a refusal to show: the backend's own, or that it did not answer. */
export const asRefusal = (error: unknown) =>
  error instanceof Refusal
    ? error
    : new Refusal('unavailable', 'The billing app did not answer; try again shortly.', []);

/** An input's error props for the field a refusal names (none when there is no refusal). */
export const fieldError = (refusal: Refusal | undefined, path: string) => ({
  error: Boolean(refusal?.about(path)),
  validationMessage: refusal?.about(path),
});

export type CardApi = ReturnType<typeof cardApi>;

/**
 * The card API over `hubspot.fetch`: HubSpot appends who is asking (portal, user) and signs the
 * request, the backend checks both. The card names nobody itself: the backend would refuse it.
 */
export function cardApi() {
  async function call<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: Record<string, unknown>,
  ): Promise<T> {
    const response = await hubspot.fetch(`${BACKEND}/card/v1${path}`, {
      method,
      timeout: 12_000,
      ...(body ? { body } : {}),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw new Refusal(
        String(json.code ?? `http_${response.status}`),
        String(json.detail ?? `the app answered ${response.status}`),
        (json.errors as FieldIssue[] | undefined) ?? [],
      );
    }
    return json as T;
  }
  return {
    get: <T>(path: string) => call<T>('GET', path),
    post: <T>(path: string, body: Record<string, unknown> = {}) => call<T>('POST', path, body),
    put: <T>(path: string, body: Record<string, unknown>) => call<T>('PUT', path, body),
    delete: <T>(path: string) => call<T>('DELETE', path),
  };
}
