/**
 * The client-certificate side of the server's PKI folder (node-opcua-pki layout, GDS style):
 *
 *   <pki>/trusted/certs/   certificates of clients allowed to open a secure channel
 *   <pki>/rejected/        certificates of clients that tried and were refused
 *
 * `anomalygpt-edge opcua list|trust|reject` works on the files only — moving a file between
 * the two folders is exactly what node-opcua's CertificateManager does itself — so it needs
 * neither the daemon's private key nor a running daemon; a running server's folder watchers
 * pick the change up. Certificates are named by their SHA-1 thumbprint, the identifier OPC UA
 * tools show (UaExpert, the server's log line for a refused client).
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AppError, ErrorCodes } from '../../errors.js';

export type CertificateStore = 'trusted' | 'rejected';

export interface StoredCertificate {
  readonly store: CertificateStore;
  /** SHA-1 of the DER certificate, lower-case hex without separators. */
  readonly thumbprint: string;
  readonly subject: string;
  /** URI from subjectAltName (the client's ApplicationUri), when present. */
  readonly applicationUri?: string;
  readonly validTo: string;
  readonly file: string;
}

const storeFolder = (pkiDirectory: string, store: CertificateStore): string =>
  store === 'trusted' ? join(pkiDirectory, 'trusted', 'certs') : join(pkiDirectory, 'rejected');

/** The first certificate of a PEM (possibly a chain) or DER file. */
function parseCertificate(data: Buffer): X509Certificate {
  const text = data.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN')) {
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(data.toString('latin1'));
    if (!pem) throw new Error('no certificate in PEM file');
    return new X509Certificate(pem[0]);
  }
  return new X509Certificate(data);
}

/** The certificates in one folder (files that are not certificates skipped, as node-opcua does). */
async function certificatesIn(folder: string, store: CertificateStore): Promise<StoredCertificate[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: StoredCertificate[] = [];
  for (const name of names.filter((n) => /\.(pem|der|crt)$/i.test(n)).sort()) {
    const file = join(folder, name);
    let cert: X509Certificate;
    try {
      cert = parseCertificate(await readFile(file));
    } catch {
      continue; // not a certificate (a stray file); node-opcua ignores it too
    }
    const uri = /URI:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1];
    out.push({
      store,
      thumbprint: cert.fingerprint.replaceAll(':', '').toLowerCase(),
      subject: cert.subject.replaceAll('\n', ', '),
      ...(uri ? { applicationUri: uri } : {}),
      validTo: new Date(cert.validTo).toISOString(),
      file,
    });
  }
  return out;
}

const listStore = (pkiDirectory: string, store: CertificateStore): Promise<StoredCertificate[]> => certificatesIn(storeFolder(pkiDirectory, store), store);

/** SHA-1 thumbprints of the certificate files in one folder (e.g. the manager's trusted folder); none when unreadable. */
export async function thumbprintsIn(folder: string): Promise<Set<string>> {
  const certs = await certificatesIn(folder, 'trusted').catch(() => [] as StoredCertificate[]);
  return new Set(certs.map((c) => c.thumbprint));
}

/**
 * Removes from `rejectedFolder` the certificates that are also in `trustedFolder`, and returns
 * how many. A certificate in both is trusted: `opcua trust` put it there on purpose, while the
 * rejected copy is the server's own automatic write — made when a connection arrived after the
 * trust but before the server's folder watcher saw it (node-opcua checks the rejected store
 * first, so the copy would refuse the client for good).
 */
export async function removeRejectedDuplicates(trustedFolder: string, rejectedFolder: string): Promise<number> {
  const trusted = await thumbprintsIn(trustedFolder);
  const copies = (await certificatesIn(rejectedFolder, 'rejected').catch(() => [] as StoredCertificate[])).filter((c) => trusted.has(c.thumbprint));
  for (const c of copies) await rm(c.file, { force: true });
  return copies.length;
}

export async function listCertificates(pkiDirectory: string): Promise<StoredCertificate[]> {
  return [...(await listStore(pkiDirectory, 'rejected')), ...(await listStore(pkiDirectory, 'trusted'))];
}

/** A full thumbprint or a unique prefix of at least 8 hex digits (colons and case ignored). */
export function matchThumbprint(certs: readonly StoredCertificate[], given: string, where = 'the PKI folder'): StoredCertificate {
  const wanted = given.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{8,40}$/.test(wanted)) {
    throw new AppError(ErrorCodes.USAGE, `"${given}" is not a thumbprint (8 to 40 hex digits; see "opcua list")`);
  }
  const hits = certs.filter((c) => c.thumbprint.startsWith(wanted));
  if (hits.length === 0) throw new AppError(ErrorCodes.USAGE, `no certificate with thumbprint ${given} in ${where} (see "opcua list")`);
  if (hits.length > 1) throw new AppError(ErrorCodes.USAGE, `thumbprint prefix ${given} matches ${hits.length} certificates; give more digits`);
  return hits[0];
}

/** Moves a certificate from one store to the other; resolves with its new location. */
export async function moveCertificate(pkiDirectory: string, thumbprint: string, to: CertificateStore): Promise<StoredCertificate> {
  const from: CertificateStore = to === 'trusted' ? 'rejected' : 'trusted';
  const cert = matchThumbprint(await listStore(pkiDirectory, from), thumbprint, `the ${from} store`);
  const folder = storeFolder(pkiDirectory, to);
  await mkdir(folder, { recursive: true });
  const file = join(folder, basename(cert.file));
  await rename(cert.file, file);
  return { ...cert, store: to, file };
}
