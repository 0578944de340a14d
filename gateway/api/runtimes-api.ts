/** The runtimes of this installation (`routes/read-runtimes.ts`, built by `runtimes/runtime-list.ts`). */
import { z } from 'zod';
import { RUNTIME_NAMES } from '../../runtime-images/runtimes.ts';
import { defineOperation } from './operation.ts';

const versions = z
  .record(z.string(), z.string())
  .meta({ description: 'what the image carries, by component: `{ "node": "20.19.2" }`, `{ "lambda": "provided.al2023-compatible", "glibc": "2.36" }`; empty while unknown' });

const runtime = z.object({
  name: z.enum(RUNTIME_NAMES as [string, ...string[]]),
  available: z.boolean().meta({ description: 'a live worker serves it (has its image, and HEARTH_RUNTIMES does not leave it out): deploys of it are accepted' }),
  workers: z.number().int().meta({ description: 'live workers serving it' }),
  unavailableReason: z.string().optional().meta({ description: 'why not, when not available' }),
  image: z.string().meta({ description: 'the image tag workers run it from' }),
  versions,
  imageSizeBytes: z.number().int().nullable().meta({ description: 'the image\'s size as the engine counts it; null while unknown' }),
  images: z
    .array(z.object({ imageId: z.string(), sizeBytes: z.number().int(), createdAt: z.string(), versions, workers: z.number().int() }))
    .meta({ description: 'each distinct image live workers have, most workers first (more than one only while workers differ)' }),
  lambdaRuntimes: z.array(z.string()).meta({ description: "Lambda's runtime names a deploy may give for it (the deploy answer's `runtimeResolved` then says what runs)" }),
  reportedLambdaRuntime: z.string().meta({ description: 'the Lambda name the Lambda API reports it as' }),
  defaultHandler: z.string(),
  handlerConvention: z.string(),
});

export const listRuntimes = defineOperation({
  method: 'get',
  path: '/v1/runtimes',
  operationId: 'listRuntimes',
  summary: 'The runtimes of this installation: which are available, what their images carry, the names and handlers each takes',
  description:
    'Every runtime of the catalogue, available or not. Availability, versions and sizes come from the live workers\' reports (each worker inspects its images at start); with no worker reporting, every runtime reads unavailable and deploys are not refused.',
  tag: 'platform',
  access: 'key',
  success: {
    200: {
      description: '`{ workers, runtimes: [...] }`: the live workers read, and the runtimes in catalogue order',
      schema: z.object({ workers: z.number().int(), runtimes: z.array(runtime) }),
    },
  },
});
