import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../gateway/config.ts';
import { createSessionSealer, sessionCookies } from '../../gateway/dashboard-session.ts';
import { fenceFunctionHeaders } from '../../gateway/routes/http-endpoint.ts';

describe('dashboard session cookie', () => {
  const sealer = createSessionSealer(['platform-key-0123456789', 'admin-key-0123456789'], 1000);

  it('opens what it sealed until it expires, and never shows the key', () => {
    const sealed = sealer.seal('the-key', 0);
    expect(sealed).not.toContain('the-key');
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('the-key');
    expect(sealer.open(sealed, 999)).toBe('the-key');
    expect(sealer.open(sealed, 1000)).toBeNull();
  });

  it('refuses an altered value, another deployment’s, and anything not shaped like one', () => {
    const sealed = sealer.seal('the-key', 0);
    const flipped = Buffer.from(sealed, 'base64url');
    flipped[flipped.length - 1]! ^= 1;
    expect(sealer.open(flipped.toString('base64url'), 1)).toBeNull();
    expect(createSessionSealer(['other-key-0123456789', '']).open(sealed, 1)).toBeNull();
    for (const junk of ['', 'x', 'a'.repeat(5000), 'not base64!', sealed.slice(0, 20)]) expect(sealer.open(junk, 1)).toBeNull();
  });

  it('finds every session cookie in a Cookie header', () => {
    expect(sessionCookies(undefined)).toEqual([]);
    expect(sessionCookies('a=1; hearth_session=x; b=2')).toEqual(['x']);
    expect(sessionCookies('hearth_session=x;hearth_session=y')).toEqual(['x', 'y']);
    expect(sessionCookies('xhearth_session=x')).toEqual([]);
  });
});

describe('function answer headers', () => {
  it('always sandboxes, drops worker scopes, site-wide wipes and every cookie but the function\'s own', () => {
    const headers = fenceFunctionHeaders([
      ['content-security-policy', "img-src 'self'"],
      ['Service-Worker-Allowed', '/'],
      ['clear-site-data', '"cookies"'],
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'big=x; Path=/v1; Max-Age=999999'],
      ['set-cookie', 'other=1; Path=/fn/another'],
      ['set-cookie', 'prefix=1; Path=/fn/f2'],
      ['set-cookie', '=hearth_session=x'],
      ['set-cookie', 'own=1; Path=/fn/f/app; HttpOnly'],
      ['set-cookie', 'exact=1; path=/fn/f'],
      ['set-cookie', 'none=1; Max-Age=60'],
      ['set-cookie', 'b=1; domain=example.com'],
      ['set-cookie', 'Hearth_Session=x'],
      ['set-cookie', '__Secure-hearth_session=x; Secure'],
      ['access-control-allow-origin', 'https://app.example'],
    ], '/fn/f');
    expect(headers.get('content-security-policy')).toBe("img-src 'self', sandbox allow-scripts allow-forms allow-popups allow-downloads");
    expect(headers.get('service-worker-allowed')).toBeNull();
    expect(headers.get('clear-site-data')).toBeNull();
    // Only the function's own cookies, under its own path: the dashboard's `/v1` and other functions get none.
    expect(headers.getSetCookie()).toEqual(['own=1; Path=/fn/f/app; HttpOnly', 'exact=1; path=/fn/f', 'none=1; Max-Age=60; Path=/fn/f']);
    expect(headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('cross-origin-resource-policy')).toBe('same-site');
    expect(fenceFunctionHeaders([['cross-origin-resource-policy', 'cross-origin']], '/fn/f').get('cross-origin-resource-policy')).toBe('cross-origin');
  });
});

describe('gateway origins configuration', () => {
  const base = { HEARTH_API_KEY: 'k'.repeat(16) };
  it('puts function endpoints on 8081 by default and refuses one port for both', () => {
    const config = loadGatewayConfig(base);
    expect([config.PORT, config.HEARTH_FN_PORT, config.HEARTH_PUBLIC_FN_URL]).toEqual([8080, 8081, undefined]);
    expect(() => loadGatewayConfig({ ...base, PORT: '9000', HEARTH_FN_PORT: '9000' })).toThrow(/HEARTH_FN_PORT must differ from PORT/);
  });
  it('takes the public function URL without its trailing slash, http(s) only', () => {
    expect(loadGatewayConfig({ ...base, HEARTH_PUBLIC_FN_URL: 'https://fn.example.com/' }).HEARTH_PUBLIC_FN_URL).toBe('https://fn.example.com');
    expect(() => loadGatewayConfig({ ...base, HEARTH_PUBLIC_FN_URL: 'javascript:alert(1)' })).toThrow(/HEARTH_PUBLIC_FN_URL/);
  });
});
