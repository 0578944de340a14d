import { describe, expect, it } from 'vitest';
import { redisMemoryWarnings } from '../../worker/common/redis/memory-policy.ts';

describe('Redis memory policy check', () => {
  it('is quiet for a ceiling with noeviction', () => {
    expect(redisMemoryWarnings('# Memory\r\nmaxmemory:1073741824\r\nmaxmemory_policy:noeviction\r\n')).toEqual([]);
  });
  it('warns when Redis has no maxmemory', () => {
    const [warning, ...rest] = redisMemoryWarnings('maxmemory:0\r\nmaxmemory_policy:noeviction\r\n');
    expect(warning).toContain('no maxmemory');
    expect(rest).toEqual([]);
  });
  it('warns when Redis may evict queued calls', () => {
    expect(redisMemoryWarnings('maxmemory:1073741824\r\nmaxmemory_policy:allkeys-lru\r\n')).toEqual([
      'Redis maxmemory-policy is allkeys-lru: it may evict queued calls and concurrency leases; the queue needs noeviction',
    ]);
  });
});
