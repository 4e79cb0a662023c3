/**
 * The server's certificate manager, with two additions:
 * - every client certificate it refuses is logged with its SHA-1 thumbprint — the line an
 *   integrator looks for when a PLC cannot connect, and the argument `anomalygpt-edge opcua
 *   trust` takes. node-opcua keeps the refused certificate in `<pki>/rejected` but says nothing;
 * - the files on disk are the truth, not the watcher's in-memory copy of them: `opcua trust` /
 *   `opcua reject` (another process moving a file) must take effect on the next connection
 *   attempt even when file-system events are late, lost or arrive out of order — seen on a
 *   loaded machine (a late `unlink` event of a reject, handled after the re-trust, left a
 *   trusted certificate refused for good), and documented by node-opcua-pki for NFS and
 *   containers (its `reloadCertificates()` exists for exactly this). So a verification first
 *   re-reads the stores when the trusted folder's file names changed since the last reload,
 *   and a refusal of a certificate that IS in the trusted folder on disk reloads and verifies
 *   once more. At most one reload per second; an unknown client never causes one.
 * `verifyCertificateAsync` is the hook node-opcua-pki documents for subclasses.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { OPCUACertificateManager, type OPCUACertificateManagerOptions } from 'node-opcua';
import { removeRejectedDuplicates, thumbprintsIn } from './pki-store.js';

type Verify = OPCUACertificateManager['verifyCertificate'];

export class RefusalLoggingCertificateManager extends OPCUACertificateManager {
  readonly #onRefused: (thumbprint: string, status: string) => void;
  /** The trusted folder's file names at the last look (undefined: not looked yet). */
  #trustedNames: string | undefined;
  #lastReload = 0;

  constructor(options: OPCUACertificateManagerOptions, onRefused: (thumbprint: string, status: string) => void) {
    super(options);
    this.#onRefused = onRefused;
  }

  protected override async verifyCertificateAsync(certificate: Parameters<Verify>[0], options: NonNullable<Parameters<Verify>[1]>): ReturnType<Verify> {
    // A change of the trusted folder (trust or reject by another process) is read before the
    // verdict on the certificate, whichever way it went.
    if (await this.#trustListChanged()) await this.#reload();
    let status = await super.verifyCertificateAsync(certificate, options);
    if (String(status) === 'Good') return status;
    const der = Array.isArray(certificate) ? certificate[0] : certificate;
    const thumbprint = createHash('sha1').update(leafCertificate(der)).digest('hex');
    if (Date.now() - this.#lastReload >= 1000 && (await thumbprintsIn(this.trustedFolder)).has(thumbprint)) {
      await this.#reload();
      status = await super.verifyCertificateAsync(certificate, options);
      if (String(status) === 'Good') return status;
    }
    this.#onRefused(thumbprint, String(status));
    return status;
  }

  /**
   * Re-reads the stores; the folder's names are recorded only once that succeeded. A rejected
   * copy of a trusted certificate is removed first (pki-store.ts removeRejectedDuplicates: the
   * server writes one when a client arrives between `opcua trust` and its watcher's event, and
   * node-opcua's rejected store wins over the trusted one — seen as a client refused for good).
   */
  async #reload(): Promise<void> {
    this.#lastReload = Date.now();
    const names = await this.#trustedFileNames();
    await removeRejectedDuplicates(this.trustedFolder, this.rejectedFolder);
    await this.reloadCertificates();
    this.#trustedNames = names;
  }

  async #trustedFileNames(): Promise<string> {
    return (await readdir(this.trustedFolder).catch(() => [] as string[])).sort().join('\n');
  }

  /** Whether the trusted folder's files differ from the last look (a reload at most once a second). */
  async #trustListChanged(): Promise<boolean> {
    const now = Date.now();
    if (now - this.#lastReload < 1000) return false;
    const names = await this.#trustedFileNames();
    if (this.#trustedNames === undefined) this.#trustedNames = names;
    return names !== this.#trustedNames;
  }
}

/** The first (leaf) certificate of a DER chain: a client may send its chain concatenated. */
function leafCertificate(der: Buffer): Buffer {
  // DER SEQUENCE: 0x30, then the length in short or long form (X.690 §8.1.3).
  if (der.length < 4 || der[0] !== 0x30) return der;
  const first = der[1];
  if (first < 0x80) return der.subarray(0, 2 + first);
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return der.subarray(0, 2 + n + len);
}
