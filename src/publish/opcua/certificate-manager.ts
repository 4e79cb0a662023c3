/**
 * The server's certificate manager, with one addition: every client certificate it refuses is
 * logged with its SHA-1 thumbprint — the line an integrator looks for when a PLC cannot
 * connect, and the argument `anomalygpt-edge opcua trust` takes. node-opcua keeps the refused
 * certificate in `<pki>/rejected` but says nothing itself. `verifyCertificateAsync` is the
 * hook node-opcua-pki documents for subclasses.
 */
import { createHash } from 'node:crypto';
import { OPCUACertificateManager, type OPCUACertificateManagerOptions } from 'node-opcua';

type Verify = OPCUACertificateManager['verifyCertificate'];

export class RefusalLoggingCertificateManager extends OPCUACertificateManager {
  readonly #onRefused: (thumbprint: string, status: string) => void;

  constructor(options: OPCUACertificateManagerOptions, onRefused: (thumbprint: string, status: string) => void) {
    super(options);
    this.#onRefused = onRefused;
  }

  protected override async verifyCertificateAsync(certificate: Parameters<Verify>[0], options: NonNullable<Parameters<Verify>[1]>): ReturnType<Verify> {
    const status = await super.verifyCertificateAsync(certificate, options);
    if (String(status) !== 'Good') {
      const der = Array.isArray(certificate) ? certificate[0] : certificate;
      this.#onRefused(createHash('sha1').update(leafCertificate(der)).digest('hex'), String(status));
    }
    return status;
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
