/**
 * The one table of the gateway's errors: every stable code it answers, the
 * HTTP status that code always has, and the Lambda API error type the
 * Lambda front door names it by. Code below the routes throws a code
 * (`new HearthError('FunctionNotFound', …)`) and never picks a status; the
 * REST error handler (`error-handler.ts`) and the Lambda translation
 * (`lambda/lambda-errors.ts`) both read it from here.
 *
 * Rules the table's entries do not spell out (applied in `lambdaTypeOf`):
 * - `QuotaExceeded` for the code-storage quotas (`details.quota` of
 *   `codeBytes` or `uploadBytes`) is Lambda's `CodeStorageExceededException`,
 *   with its figures; every other quota stays a `ResourceConflictException`.
 *
 * Not here: a function's own failure (`FunctionError`, `FunctionTimeout`,
 * `Throttled`, …) is an outcome, not a platform error; its statuses live in
 * `invoke/outcome-response.ts` and `lambda/invoke-response.ts`.
 */

/** The Lambda API's error types Hearth answers, with the status the API uses for each. */
export const LAMBDA_ERROR_STATUS = {
  ResourceNotFoundException: 404,
  ProvisionedConcurrencyConfigNotFoundException: 404,
  InvalidParameterValueException: 400,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  UnrecognizedClientException: 403,
  AccessDeniedException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 400,
  MissingAuthenticationTokenException: 403,
  UnknownOperationException: 404,
  TooManyRequestsException: 429,
  CodeStorageExceededException: 400,
  PolicyLengthExceededException: 400,
  ServiceException: 500,
} as const;

export type LambdaErrorType = keyof typeof LAMBDA_ERROR_STATUS;

/** One row: the HTTP status, the Lambda type, and when a caller gets it (also the OpenAPI description). */
export interface ErrorEntry {
  readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 421 | 429 | 431 | 500 | 503;
  readonly lambda: LambdaErrorType;
  readonly when: string;
}

export const ERROR_TABLE = {
  // The caller's mistakes: 4xx.
  BadRequest: { status: 400, lambda: 'InvalidRequestContentException', when: 'the HTTP request itself is malformed (a Content-Length that is not a number)' },
  MalformedRequest: { status: 400, lambda: 'InvalidRequestContentException', when: "Node's HTTP parser could not read the request" },
  InvalidParameter: { status: 400, lambda: 'InvalidParameterValueException', when: 'a path parameter, query parameter, header or body field is not valid' },
  InvalidName: { status: 400, lambda: 'InvalidParameterValueException', when: 'a function or namespace name is not a DNS label' },
  InvalidJson: { status: 400, lambda: 'InvalidRequestContentException', when: 'the body is not UTF-8 JSON' },
  InvalidMultipart: { status: 400, lambda: 'InvalidParameterValueException', when: 'the multipart/form-data body cannot be parsed' },
  MissingCode: { status: 400, lambda: 'InvalidParameterValueException', when: 'a deploy has no "code" file field' },
  HandlerNotFound: { status: 400, lambda: 'InvalidParameterValueException', when: "the handler's file is not in the package" },
  RuntimeUnavailable: { status: 400, lambda: 'InvalidParameterValueException', when: 'no live worker serves the runtime (the message names those that are available); refused only once a worker has reported' },
  InvalidArchive: { status: 400, lambda: 'InvalidParameterValueException', when: 'the code package is unreadable or holds an entry Hearth will not unpack' },
  BearerKeyRequired: { status: 400, lambda: 'InvalidParameterValueException', when: 'signing in without "Authorization: Bearer <key>"' },
  Unauthorized: { status: 401, lambda: 'UnrecognizedClientException', when: 'no valid API key or dashboard session' },
  Forbidden: { status: 403, lambda: 'AccessDeniedException', when: 'the operation needs the admin key' },
  ServiceWorkerRefused: { status: 403, lambda: 'AccessDeniedException', when: 'a browser asked for a service-worker script' },
  NamespaceNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the namespace does not exist' },
  FunctionNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the function does not exist in the caller\'s namespace' },
  VersionNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the function has no such version' },
  AliasNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the function has no alias of that name' },
  RolloutNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the alias has no rollout' },
  TriggerNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the function has no trigger of that name' },
  InvalidTrigger: {
    status: 400,
    lambda: 'InvalidParameterValueException',
    when: "a trigger's broker does not answer or refuses, its stream, queue or subject is unknown, its address is not allowed, or its schedule is not valid or too frequent",
  },
  InvocationNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the invocation does not exist (or has not finished, for its logs)' },
  DestinationNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'a function destination names a function (or alias) that does not exist in the namespace' },
  InvalidDestination: {
    status: 400,
    lambda: 'InvalidParameterValueException',
    when: "a destination's URL points at a private, loopback, link-local or reserved address, or at the platform itself, or does not resolve",
  },
  InvalidCallbackUrl: { status: 400, lambda: 'InvalidParameterValueException', when: 'X-Callback-Url is not an http(s) URL the outbound rules allow (the message says why)' },
  // Secrets (gateway/secrets/): a value is never in a message.
  InvalidSecret: { status: 400, lambda: 'InvalidParameterValueException', when: "a secret's name is not [a-z0-9][a-z0-9._-]{0,62}, or its value is empty, over 16 KiB, holds a NUL or is not well-formed Unicode" },
  SecretNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: "the caller's namespace has no secret of that name (a deploy naming one answers this too)" },
  SecretInUse: { status: 409, lambda: 'ResourceConflictException', when: 'a version an alias points at references the secret (details.functions names them): deploy without it first' },
  KeyNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'the namespace has no live key of that id' },
  AssetNotFound: { status: 404, lambda: 'ResourceNotFoundException', when: 'no dashboard file of that name' },
  RouteNotFound: { status: 404, lambda: 'UnknownOperationException', when: 'no route for this method and path' },
  RequestTimeout: { status: 408, lambda: 'InvalidParameterValueException', when: 'the request body stopped arriving' },
  NamespaceExists: { status: 409, lambda: 'ResourceConflictException', when: 'a namespace of that name exists already' },
  NamespaceNotEmpty: { status: 409, lambda: 'ResourceConflictException', when: 'the namespace still holds functions' },
  VersionInUse: { status: 409, lambda: 'ResourceConflictException', when: 'a version an alias points at cannot be deleted (details.aliases names them)' },
  AliasProtected: { status: 409, lambda: 'ResourceConflictException', when: 'the latest alias cannot be deleted' },
  RolloutInProgress: { status: 409, lambda: 'ResourceConflictException', when: 'a rollout is moving the alias (pause or abort it first), or one is already running' },
  RolloutFinished: { status: 409, lambda: 'ResourceConflictException', when: 'the rollout has finished; it cannot be paused, resumed or aborted' },
  QuotaExceeded: { status: 409, lambda: 'ResourceConflictException', when: "the change would take the namespace over one of its quotas (details.quota names it)" },
  PayloadTooLarge: { status: 413, lambda: 'RequestTooLargeException', when: 'the body is larger than the operation takes' },
  ArchiveTooLarge: { status: 413, lambda: 'RequestTooLargeException', when: 'the code package passes a size, count or compression-ratio cap' },
  UnsupportedMediaType: { status: 415, lambda: 'InvalidRequestContentException', when: 'the body has the wrong Content-Type' },
  WrongOrigin: { status: 421, lambda: 'InvalidParameterValueException', when: "function endpoints asked for on the dashboard's origin" },
  TooManyUploads: { status: 429, lambda: 'TooManyRequestsException', when: "the caller's namespace has its share of uploads in progress (Retry-After)" },
  TooManyQueuedCalls: { status: 429, lambda: 'TooManyRequestsException', when: 'the function or namespace has its quota of async calls queued' },
  HeadersTooLarge: { status: 431, lambda: 'RequestTooLargeException', when: 'the request headers are larger than 16 KiB' },
  // The platform's faults: 5xx, logged.
  InternalError: { status: 500, lambda: 'ServiceException', when: 'an unexpected fault (logged)' },
  QueueUnavailable: { status: 503, lambda: 'ServiceException', when: 'the queue (Redis) cannot be reached; retry shortly' },
  PlatformError: { status: 503, lambda: 'ServiceException', when: 'the platform could not run the invocation' },
  InvocationPending: { status: 503, lambda: 'ServiceException', when: 'a sync call did not finish in time; it may still run' },
  UploadCapacity: { status: 503, lambda: 'ServiceException', when: 'the gateway takes no more uploads right now (Retry-After)' },
  DatabaseUnavailable: { status: 503, lambda: 'ServiceException', when: 'the database cannot be reached; retry shortly' },
} as const satisfies Record<string, ErrorEntry>;

/** Every stable error code the gateway answers; a code outside the table does not compile. */
export type ErrorCode = keyof typeof ERROR_TABLE;

/** The quotas Lambda calls code storage (`CodeStorageExceededException`). */
const CODE_STORAGE_QUOTAS: ReadonlySet<unknown> = new Set(['codeBytes', 'uploadBytes']);

export function statusOf(code: ErrorCode): ErrorEntry['status'] {
  return ERROR_TABLE[code].status;
}

/** The Lambda type of `code` with these `details`: the table's entry, and the one rule above. */
export function lambdaTypeOf(code: ErrorCode, details?: Record<string, unknown>): LambdaErrorType {
  if (code === 'QuotaExceeded' && CODE_STORAGE_QUOTAS.has(details?.quota)) return 'CodeStorageExceededException';
  return ERROR_TABLE[code].lambda;
}
