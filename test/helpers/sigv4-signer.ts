/** Signing requests as the AWS SDK does, with the SDK's own signer, for the Lambda front door's tests. */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** The hash the SDK's signer takes: SHA-256, or HMAC-SHA256 when given a secret (what `@smithy/hash-node` does). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/** A SigV4 signer for `service` (default `lambda`) in `region` with the given key. */
export function lambdaSigner(accessKeyId: string, secretAccessKey: string, region: string, service = 'lambda'): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: NodeSha256 as unknown as ConstructorParameters<typeof SignatureV4>[0]['sha256'],
  });
}
