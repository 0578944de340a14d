/** Signing requests as the AWS SDK does, with the SDK's own signer, for the Lambda front door's tests. */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** What the SDK's signer hands a hash: `SourceData` of `@smithy/types`. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** The hash the SDK's signer takes: SHA-256, or HMAC-SHA256 when given a secret (what `@smithy/hash-node` does). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.start(secret);
  }
  private static start(secret?: SourceData): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData) {
    this.hash.update(bytesOf(data));
  }
  reset() {
    this.hash = NodeSha256.start(this.secret);
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
    sha256: NodeSha256,
  });
}
