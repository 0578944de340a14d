/** The gateway itself: health, this document, and the dashboard's sign-in (`routes/session-routes.ts`). */
import { z } from 'zod';
import { defineOperation } from './operation.ts';

const session = z.object({ signedIn: z.boolean(), namespace: z.string().optional(), admin: z.boolean().optional() });

export const health = defineOperation({
  method: 'get',
  path: '/healthz',
  operationId: 'health',
  summary: 'Whether the gateway is up',
  tag: 'platform',
  access: 'public',
  success: { 200: { description: 'up', schema: z.object({ status: z.literal('ok') }) } },
});

export const openApi = defineOperation({
  method: 'get',
  path: '/openapi.json',
  operationId: 'openApi',
  summary: 'This document',
  tag: 'platform',
  access: 'public',
  success: { 200: { description: 'the OpenAPI 3.1 document of the REST API' } },
});

export const createSession = defineOperation({
  method: 'post',
  path: '/v1/session',
  operationId: 'createSession',
  summary: "Swap a bearer key for the dashboard's session cookie",
  tag: 'session',
  access: 'key',
  success: { 200: { description: 'signed in; the cookie is set', schema: session } },
  errors: ['BearerKeyRequired'],
});

export const getSession = defineOperation({
  method: 'get',
  path: '/v1/session',
  operationId: 'getSession',
  summary: 'Who is signed in',
  description: 'Without credentials, `{ signedIn: false }`; with a key or session that is not valid, 401.',
  tag: 'session',
  access: 'public',
  success: { 200: { description: 'the caller, or `{ signedIn: false }`', schema: session } },
  errors: ['Unauthorized'],
});

export const deleteSession = defineOperation({
  method: 'delete',
  path: '/v1/session',
  operationId: 'deleteSession',
  summary: "Clear the dashboard's session cookie",
  tag: 'session',
  access: 'public',
  success: { 204: { description: 'signed out' } },
});
