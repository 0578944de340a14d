/**
 * The hash `SignatureV4` (@smithy/signature-v4) is built with: SHA-256, or
 * HMAC-SHA256 keyed by `secret`, on node:crypto — what @smithy/hash-node
 * does, without another package. Shaped as the `Checksum` of @smithy/types.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

/** What the signer hands a hash (`SourceData` of @smithy/types). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

const start = (secret?: SourceData): Hash | Hmac => (secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret)));

export class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = start(secret);
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = start(this.secret);
  }
}
