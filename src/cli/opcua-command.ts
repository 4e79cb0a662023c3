/**
 * `anomalygpt-edge opcua list|trust|reject` — which OPC UA client applications may connect.
 *
 * The server refuses certificates it does not know and files them under `<pki>/rejected`;
 * an engineer lists them, checks the thumbprint against the client (UaExpert, the PLC's
 * certificate page), and trusts it. Works on the PKI folder directly (no daemon needed; a
 * running daemon notices the change within a second or so).
 *
 * PKI folder: --pki DIR, else `<stateDirectory>/<opcua.pkiDirectory>` of --config FILE (or of
 * the embedded default config, honouring $STATE_DIRECTORY like the daemon).
 */
import { resolve } from 'node:path';
import { ExitCodes } from '../errors.js';
import { listCertificates, moveCertificate, type StoredCertificate } from '../publish/opcua/pki-store.js';
import { loadCliConfig, parseCommand, resolvePath, usageError, type CliContext } from './cli-context.js';

const OPCUA_USAGE = `usage: anomalygpt-edge opcua <list|trust|reject> [THUMBPRINT] [options]
  list                 client certificates, rejected and trusted (thumbprint, subject, application URI)
  trust THUMBPRINT     move a rejected certificate to the trusted store
  reject THUMBPRINT    move a trusted certificate back to the rejected store
  THUMBPRINT is the SHA-1 thumbprint in hex (a unique prefix of 8+ digits will do).
  --pki DIR            the PKI folder (default: <stateDirectory>/<opcua.pkiDirectory> of the config)
  --config FILE        configuration to take stateDirectory and opcua.pkiDirectory from
  --json               list: one JSON object per line`;

function pkiDirectory(ctx: CliContext, values: { pki?: string; config?: string }): string {
  if (values.pki !== undefined) return resolvePath(ctx, values.pki);
  const config = loadCliConfig(ctx, values.config);
  // The opcua slice joins the main schema separately; read it without assuming it is there.
  const slice = (config as { opcua?: { pkiDirectory?: string } }).opcua;
  return resolve(config.stateDirectory, slice?.pkiDirectory ?? 'opcua-pki');
}

function line(c: StoredCertificate): string {
  return `${c.store.padEnd(8)}  ${c.thumbprint}  ${c.subject}${c.applicationUri ? `  ${c.applicationUri}` : ''}  valid until ${c.validTo}\n`;
}

export async function opcuaCommand(argv: readonly string[], ctx: CliContext): Promise<number> {
  const parsed = parseCommand(
    argv,
    { pki: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    OPCUA_USAGE,
    ctx.io,
  );
  if (!parsed) return ExitCodes.OK;
  const [action, thumbprint, ...extra] = parsed.positionals;
  if (extra.length > 0) throw usageError(`unexpected arguments: ${extra.join(' ')}`, OPCUA_USAGE);
  const dir = () => pkiDirectory(ctx, parsed.values);
  switch (action) {
    case 'list': {
      if (thumbprint !== undefined) throw usageError('list takes no THUMBPRINT', OPCUA_USAGE);
      const certs = await listCertificates(dir());
      if (parsed.values.json) for (const c of certs) ctx.io.out(`${JSON.stringify(c)}\n`);
      else if (certs.length === 0) ctx.io.out(`no client certificates in ${dir()}\n`);
      else for (const c of certs) ctx.io.out(line(c));
      return ExitCodes.OK;
    }
    case 'trust':
    case 'reject': {
      if (thumbprint === undefined) throw usageError(`${action} needs a THUMBPRINT (see "opcua list")`, OPCUA_USAGE);
      const moved = await moveCertificate(dir(), thumbprint, action === 'trust' ? 'trusted' : 'rejected');
      ctx.io.out(`${action === 'trust' ? 'trusted' : 'rejected'}: ${moved.thumbprint}  ${moved.subject}\n`);
      ctx.logger.info({ thumbprint: moved.thumbprint, subject: moved.subject, store: moved.store }, `OPC UA client certificate ${moved.store}`);
      return ExitCodes.OK;
    }
    default:
      throw usageError(action === undefined ? 'missing action' : `unknown action: ${action}`, OPCUA_USAGE);
  }
}
