/** Signing requests as the AWS SDK does, with the SDK's own signer, for the Lambda front door's tests. */
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../gateway/lambda/node-sha256.ts';

/** A SigV4 signer for `service` (default `lambda`) in `region` with the given key. */
export function lambdaSigner(accessKeyId: string, secretAccessKey: string, region: string, service = 'lambda'): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: NodeSha256,
  });
}
