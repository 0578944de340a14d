/**
 * Writes tar(.gz) bytes entry by entry with node-tar's header encoder, for
 * archives a real tar would refuse to create from a directory: device nodes,
 * hard links, `..` names, oversized metadata records.
 */
import { gzipSync } from 'node:zlib';
import { Header, Pax, type HeaderData } from 'tar';

export interface RawTarEntry {
  path: string;
  type?: NonNullable<HeaderData['type']>;
  data?: Buffer | string;
  mode?: number;
  linkpath?: string;
  mtime?: Date;
}

/** Header (plus a pax record when the name needs one), data and padding of one entry. */
export function tarEntry(entry: RawTarEntry, size?: number): Buffer {
  const data = Buffer.from(entry.data ?? '');
  const fields = {
    path: entry.path,
    type: entry.type ?? 'File',
    mode: entry.mode ?? 0o644,
    size: size ?? data.length,
    mtime: entry.mtime ?? new Date(1_700_000_000_000),
    uid: 1000,
    gid: 1000,
    uname: 'dev',
    gname: 'dev',
    ...(entry.linkpath !== undefined ? { linkpath: entry.linkpath } : {}),
  };
  const header = Buffer.alloc(512);
  const blocks: Buffer[] = [];
  if (new Header(fields).encode(header)) {
    const body = Buffer.from(new Pax({ path: entry.path, ...(entry.linkpath ? { linkpath: entry.linkpath } : {}) }).encodeBody());
    const paxHeader = Buffer.alloc(512);
    new Header({ path: 'PaxHeader', type: 'ExtendedHeader', size: body.length, mode: 0o644, mtime: new Date(0) }).encode(paxHeader);
    blocks.push(paxHeader, pad(body));
  }
  blocks.push(header);
  if (size === undefined && data.length > 0) blocks.push(pad(data));
  return Buffer.concat(blocks);
}

export function rawTar(entries: RawTarEntry[]): Buffer {
  return Buffer.concat([...entries.map((e) => tarEntry(e)), Buffer.alloc(1024)]);
}

export function rawTarGz(entries: RawTarEntry[]): Buffer {
  return gzipSync(rawTar(entries));
}

function pad(data: Buffer): Buffer {
  const padded = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  data.copy(padded);
  return padded;
}
