import { describe, expect, it } from 'vitest';
import { HearthError } from '../../gateway/errors.ts';
import { lambdaErrorOf } from '../../gateway/lambda/lambda-errors.ts';

describe('platform errors as the Lambda API names them', () => {
  it('a code storage quota is CodeStorageExceededException (400) with its figures; other quotas stay conflicts', () => {
    for (const quota of ['codeBytes', 'uploadBytes']) {
      const err = lambdaErrorOf(new HearthError('QuotaExceeded', 'over', { quota, limit: 10, used: 9, requested: 5 }));
      expect({ type: err?.type, status: err?.status, extra: err?.extra }).toEqual({
        type: 'CodeStorageExceededException',
        status: 400,
        extra: { quota, limit: 10, used: 9, requested: 5 },
      });
    }
    expect(lambdaErrorOf(new HearthError('QuotaExceeded', 'over', { quota: 'functions', limit: 1, used: 1 }))?.type).toBe('ResourceConflictException');
  });
});
