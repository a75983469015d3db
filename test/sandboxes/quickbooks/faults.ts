import { qboTime } from './util.ts';

export type FaultType = 'ValidationFault' | 'SystemFault' | 'AuthenticationFault' | 'AuthorizationFault';

/** A QBO error answered with the documented upper-case `{"Fault":…}` envelope. */
export class QboFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: string,
    readonly type: FaultType = 'ValidationFault',
    readonly element = '',
  ) {
    super(message);
  }

  /** Batch items carry the Fault without the envelope `time`. */
  toFault(): { Error: Array<Record<string, string>>; type: FaultType } {
    return {
      Error: [{ Message: this.message, Detail: this.detail, code: this.code, element: this.element }],
      type: this.type,
    };
  }

  toBody(): { Fault: ReturnType<QboFault['toFault']>; time: string } {
    return { Fault: this.toFault(), time: qboTime() };
  }
}

const BUSINESS_VALIDATION = 'A business validation error has occurred while processing your request';

export const faults = {
  requiredParam(name: string): QboFault {
    return new QboFault(
      400,
      '2020',
      'Required param missing, need to supply the required value for the API',
      `Required parameter ${name} is missing in the request`,
      'ValidationFault',
      name,
    );
  },
  unsupportedProperty(detail: string): QboFault {
    return new QboFault(400, '2010', 'Request has invalid or unsupported property', detail);
  },
  invalidReference(detail: string, element = ''): QboFault {
    return new QboFault(
      400,
      '2500',
      'Invalid Reference Id',
      `Invalid Reference Id : ${detail}`,
      'ValidationFault',
      element,
    );
  },
  objectNotFound(entity: string, id: string): QboFault {
    return new QboFault(
      400,
      '610',
      'Object Not Found',
      `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${entity} Id=${id})`,
    );
  },
  staleObject(): QboFault {
    return new QboFault(
      400,
      '5010',
      'Stale Object Error',
      'Stale Object Error : You and Admin were working on this at the same time. Admin finished before you did, so your work was not saved.',
    );
  },
  duplicateName(existingId: string): QboFault {
    return new QboFault(
      400,
      '6240',
      'Duplicate Name Exists Error',
      `The name supplied already exists. : Id=${existingId}`,
    );
  },
  duplicateDocNumber(docNumber: string, txnType: string, txnId: string): QboFault {
    return new QboFault(
      400,
      '6140',
      'Duplicate Document Number Error',
      `Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=${docNumber} is assigned to TxnType=${txnType} with TxnId=${txnId}`,
    );
  },
  amountCalculation(supplied: number): QboFault {
    return new QboFault(
      400,
      '6070',
      'Amount calculation incorrect in the request',
      `Amount is not equal to UnitPrice * Qty. Supplied value:${supplied}`,
    );
  },
  usTaxCode(): QboFault {
    return new QboFault(
      400,
      '6100',
      'Invalid Line TaxCode',
      'Business Validation Error: Valid Line TaxCodes for US should be TAX or NON',
    );
  },
  businessValidation(detail: string, element = ''): QboFault {
    return new QboFault(400, '6000', BUSINESS_VALIDATION, detail, 'ValidationFault', element);
  },
  queryParse(detail: string): QboFault {
    return new QboFault(400, '4000', 'Error parsing query', `QueryParserError: ${detail}`);
  },
  queryValidation(detail: string): QboFault {
    return new QboFault(400, '4001', 'Invalid query', `QueryValidationError: ${detail}`);
  },
  unsupportedOperation(path: string): QboFault {
    return new QboFault(
      400,
      '500',
      'Unsupported Operation',
      `Operation Could not find resource for relative : ${path} is not supported.`,
    );
  },
  systemFailure(): QboFault {
    return new QboFault(
      500,
      '10000',
      'An application error has occurred while processing your request',
      'System Failure Error: An unexpected error occurred while accessing or saving your data. Please wait a few minutes and try again. If the problem persists, contact customer support.',
      'SystemFault',
    );
  },
};

/** 401/403 use Intuit's lower-case gateway envelope, not the documented `Fault`. */
export function gatewayAuthBody(kind: 'expired' | 'invalid' | 'revoked' | 'forbidden', token = ''): string {
  const shortToken = token.slice(0, 12);
  const error =
    kind === 'forbidden'
      ? {
          message: 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403',
          detail: 'Application authorization failed: the token is not authorized for this company',
          code: '3100',
          element: null,
        }
      : {
          message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
          detail:
            kind === 'expired'
              ? `Token expired: ${shortToken}…`
              : kind === 'revoked'
                ? `Token revoked: ${shortToken}…`
                : 'Token invalid',
          code: '3200',
          element: null,
        };
  return JSON.stringify({
    warnings: null,
    intuitObject: null,
    fault: { error: [error], type: 'AUTHENTICATION' },
    report: null,
    queryResponse: null,
    batchItemResponse: [],
    attachableResponse: [],
    requestId: null,
    time: Date.now(),
    status: null,
    cdcresponse: [],
  });
}

export function throttleXml(): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse time="${qboTime()}" xmlns="http://schema.intuit.com/finance/v3"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>`;
}

export function gatewayTimeoutHtml(): string {
  return `<!DOCTYPE html>
<html><head><title>504 Gateway Time-out</title></head>
<body><center><h1>504 Gateway Time-out</h1></center></body></html>
`;
}

/** A throttle as some companies' requests have been answered: HTTP 403, Fault code 3001. */
export function throttle403Body(): string {
  return JSON.stringify({
    Fault: {
      Error: [
        {
          Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=403',
          Detail: 'The request limit was reached.  Try again later',
          code: '3001',
        },
      ],
      type: 'ValidationFault',
    },
    time: new Date().toISOString(),
  });
}

export function serviceUnavailableHtml(): string {
  return `<!DOCTYPE html>
<html><head><title>503 Service Temporarily Unavailable</title></head>
<body><center><h1>503 Service Temporarily Unavailable</h1></center>
<hr><center>QuickBooks Online is temporarily unavailable. Please try again later.</center></body></html>
`;
}
