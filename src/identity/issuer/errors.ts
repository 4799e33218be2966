/**
 * Token endpoint errors shaped as Azure AD v2.0 returns them, so MSAL and the Azure SDK show
 * their usual messages: `error`, `error_description` (with the AADSTS code, trace and
 * correlation ids and timestamp), `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
 */
import { randomUUID } from 'node:crypto';

export const OAUTH_ERRORS = [
  'invalid_request',
  'invalid_client',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_grant',
] as const;
export type OAuthError = (typeof OAUTH_ERRORS)[number];

export interface IssuerError {
  readonly status: number;
  readonly error: OAuthError;
  /** The AADSTS number Azure AD uses for the same condition. */
  readonly code: number;
  readonly message: string;
}

export interface AzureErrorBody {
  error: OAuthError;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
}

/** Azure's timestamp format: `2026-11-23 00:42:30Z`. */
function azureTimestamp(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function errorBody(err: IssuerError, now: Date, correlationId: string | undefined): AzureErrorBody {
  const traceId = randomUUID();
  const corr = correlationId && /^[A-Za-z0-9-]{1,64}$/.test(correlationId) ? correlationId : randomUUID();
  const ts = azureTimestamp(now);
  return {
    error: err.error,
    error_description: `AADSTS${err.code}: ${err.message} Trace ID: ${traceId} Correlation ID: ${corr} Timestamp: ${ts}`,
    error_codes: [err.code],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: corr,
  };
}

const e = (status: number, error: OAuthError, code: number, message: string): IssuerError => ({
  status,
  error,
  code,
  message,
});

/** The conditions the issuer reports, with Azure AD's status, error and AADSTS code. */
export const ERRORS = {
  missingParameter: (name: string) =>
    e(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  badContentType: () =>
    e(400, 'invalid_request', 900144, "The request body must be 'application/x-www-form-urlencoded'."),
  unsupportedGrant: (grant: string) =>
    e(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`),
  tenantNotFound: (tenant: string) =>
    e(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`,
    ),
  clientNotFound: (clientId: string, tenant: string) =>
    e(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
    ),
  badScope: (scope: string) =>
    e(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  multipleResources: () =>
    e(
      400,
      'invalid_scope',
      28000,
      'Provided value for the input parameter scope is not valid because it contains more than one resource.',
    ),
  noCredential: () =>
    e(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  badSecret: (clientId: string) =>
    e(401, 'invalid_client', 7000215, `Invalid client secret provided for app '${clientId}'.`),
  badAssertionType: () =>
    e(
      400,
      'invalid_request',
      700024,
      "client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    ),
  badAssertion: (why: string) =>
    e(401, 'invalid_client', 700027, `Client assertion failed validation: ${why}.`),
  methodNotAllowed: () => e(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.'),
  notFound: () => e(404, 'invalid_request', 900561, 'Not found.'),
  bodyTooLarge: () => e(413, 'invalid_request', 900144, 'The request body is too large.'),
  // The mint API (NMIs in other processes): the caller's node comes from its client certificate.
  nodeNotAuthenticated: (why: string) =>
    e(401, 'invalid_client', 700027, `The caller is not an authenticated NMI: ${why}.`),
  notAssignedOnNode: (identity: string, clientId: string, node: string) =>
    e(
      403,
      'unauthorized_client',
      50105,
      `AzureIdentity '${identity}' (client id '${clientId}') is not assigned on node '${node}'.`,
    ),
  identityNotFound: (identity: string, clientId: string) =>
    e(
      404,
      'unauthorized_client',
      700016,
      `AzureIdentity '${identity}' with client id '${clientId}' is not known to the issuer.`,
    ),
  /** A client id claimed by several AzureIdentities: nobody gets a token for it. */
  duplicateClientId: (why: string) => e(409, 'unauthorized_client', 700016, `${why}.`),
  badMintRequest: (why: string) =>
    e(400, 'invalid_request', 900144, `The mint request is not valid: ${why}.`),
  badResource: (why: string) => e(400, 'invalid_request', 500011, why),
} as const;
