import { randomUUID } from 'node:crypto';
import type { Response } from 'express';

export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category?: string;
  subCategory?: string;
  errors?: Array<{ message: string; code?: string; in?: string; context?: Record<string, string[]> }>;
  context?: Record<string, string[]>;
  links?: Record<string, string>;
  [extra: string]: unknown;
}

export function correlationId(): string {
  return randomUUID();
}

/** Builds HubSpot's standard error envelope; `extra` carries the optional fields. */
export function errorBody(
  message: string,
  category: string | undefined,
  extra: Partial<HubSpotErrorBody> = {},
): HubSpotErrorBody {
  const body: HubSpotErrorBody = { status: 'error', message, correlationId: correlationId() };
  if (category) body.category = category;
  return { ...body, ...extra };
}

export function sendError(
  res: Response,
  httpStatus: number,
  message: string,
  category: string | undefined,
  extra: Partial<HubSpotErrorBody> = {},
): void {
  res.status(httpStatus).json(errorBody(message, category, extra));
}

export function notFound(res: Response): void {
  sendError(res, 404, 'resource not found', 'OBJECT_NOT_FOUND');
}

export function validationError(res: Response, message: string, extra: Partial<HubSpotErrorBody> = {}): void {
  sendError(res, 400, message, 'VALIDATION_ERROR', extra);
}

/** Per-property validation failures, reported the way HubSpot's object APIs do (JSON list inside `message`). */
export interface PropertyValidationFailure {
  name: string;
  error: string;
  message: string;
}

export function propertyValidationError(
  res: Response,
  portalId: number,
  failures: PropertyValidationFailure[],
): void {
  const legacy = failures.map((f) => ({
    isValid: false,
    message: f.message,
    error: f.error,
    name: f.name,
    localizedErrorMessage: f.message,
    portalId,
  }));
  validationError(res, `Property values were not valid: ${JSON.stringify(legacy)}`, {
    errors: failures.map((f) => ({ message: f.message, code: f.error, context: { propertyName: [f.name] } })),
  });
}
