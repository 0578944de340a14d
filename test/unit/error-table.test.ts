import { describe, expect, it } from 'vitest';
import { InvocationPlatformError, QueueUnavailableError } from '../../gateway/queue/queue-errors.ts';
import { ERROR_TABLE, LAMBDA_ERROR_STATUS, lambdaTypeOf, type ErrorCode } from '../../gateway/error-table.ts';
import { HearthError } from '../../gateway/errors.ts';
import { knownError } from '../../gateway/known-error.ts';
import { lambdaErrorOf } from '../../gateway/lambda/lambda-errors.ts';

const codes = Object.keys(ERROR_TABLE) as ErrorCode[];

/** The codes a caller's own request causes; everything else is the platform's fault. */
const PLATFORM_FAULTS = new Set<ErrorCode>(['InternalError', 'QueueUnavailable', 'PlatformError', 'InvocationPending', 'UploadCapacity', 'DatabaseUnavailable']);

describe('the error table', () => {
  it.each(codes)('gives %s a 4xx or 5xx status and a Lambda error type', (code) => {
    const { status, lambda, when } = ERROR_TABLE[code];
    expect(status >= 400 && status < 600).toBe(true);
    expect(Object.hasOwn(LAMBDA_ERROR_STATUS, lambda)).toBe(true);
    expect(when.length).toBeGreaterThan(0);
  });

  it.each(codes)('makes %s a 4xx when the caller caused it and a 5xx when the platform did', (code) => {
    const { status } = ERROR_TABLE[code];
    if (PLATFORM_FAULTS.has(code)) expect(status).toBeGreaterThanOrEqual(500);
    else expect(status).toBeLessThan(500);
  });

  it('names a platform fault a ServiceException at the Lambda door, and a caller mistake never', () => {
    for (const code of codes) {
      expect(LAMBDA_ERROR_STATUS[ERROR_TABLE[code].lambda] >= 500, code).toBe(ERROR_TABLE[code].status >= 500);
    }
  });

  it('gives a HearthError the status of its code', () => {
    expect(new HearthError('FunctionNotFound', 'x').status).toBe(404);
    expect(new HearthError('QueueUnavailable', 'x').status).toBe(503);
    expect(new HearthError('WrongOrigin', 'x').status).toBe(421);
  });

  it("maps the queue's errors to their codes, keeping their message", () => {
    for (const [err, code] of [
      [new QueueUnavailableError('redis is away'), 'QueueUnavailable'],
      [new InvocationPlatformError('redis is away'), 'PlatformError'],
    ] as const) {
      expect(knownError(err)).toMatchObject({ code, message: 'redis is away', status: ERROR_TABLE[code].status });
    }
    expect(knownError(new Error('boom'))).toBeNull();
  });

  it('names code-storage quotas CodeStorageExceededException and other quotas conflicts', () => {
    expect(lambdaTypeOf('QuotaExceeded', { quota: 'codeBytes' })).toBe('CodeStorageExceededException');
    expect(lambdaTypeOf('QuotaExceeded', { quota: 'uploadBytes' })).toBe('CodeStorageExceededException');
    expect(lambdaTypeOf('QuotaExceeded', { quota: 'functions' })).toBe('ResourceConflictException');
  });

  it('keeps the Lambda door\'s wording for bodies that are not JSON, and its throttling reason', () => {
    expect(lambdaErrorOf(new HearthError('InvalidJson', 'the body is not valid JSON'))).toMatchObject({
      type: 'InvalidRequestContentException',
      status: 400,
      message: 'Could not parse request body into json: the body is not valid JSON',
    });
    expect(lambdaErrorOf(new HearthError('TooManyUploads', 'full'))).toMatchObject({
      type: 'TooManyRequestsException',
      extra: { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
    });
    expect(lambdaErrorOf(new HearthError('ArchiveTooLarge', 'big'))?.type).toBe('RequestTooLargeException');
  });
});
