/**
 * A real Debian mosquitto for the tests and the soak run (tools/soak/): started on a free 127.0.0.1 port from a generated config
 * file, optionally with a password file + ACL (made with mosquitto_passwd), TLS with
 * certificates this helper makes with openssl (CA, server cert for 127.0.0.1/localhost, client
 * cert), and on-disk persistence. Stopped by its PID; `restart()` reuses the same port so a
 * client's reconnect loop finds it again (an outage). Tests skip when mosquitto is missing.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN = '/usr/bin/mosquitto_passwd';

/** Why mosquitto tests cannot run here, or undefined when they can. */
export function mosquittoMissing(): string | undefined {
  if (!existsSync(MOSQUITTO_BIN)) return `mosquitto not found at ${MOSQUITTO_BIN} (apt-get install mosquitto)`;
  return undefined;
}

export interface TlsMaterial {
  readonly caPath: string;
  readonly caKeyPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

export interface MosquittoOptions {
  /** username → password, written to a mosquitto_passwd file; anonymous clients are then refused. */
  readonly users?: Record<string, string>;
  /** ACL file text (`user NAME` / `topic read|write|readwrite PATTERN` lines). */
  readonly acl?: string;
  /** TLS listener with test-made certificates; `requireCertificate` asks clients for theirs. */
  readonly tls?: { readonly requireCertificate?: boolean };
  /** Keep sessions and retained messages across restart() (persistence file in the work dir). */
  readonly persistence?: boolean;
  /** Extra config lines. */
  readonly extra?: readonly string[];
}

/** Asks the kernel for a free loopback port (closed again before mosquitto binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate (EC P-256). */
export async function makeTestCertificates(dir: string): Promise<TlsMaterial> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=anomalygpt-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const leaf = async (name: string, cn: string, ext: string) => {
    await writeFile(path.join(dir, `${name}.ext`), ext);
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
  };
  await leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await leaf('client', 'anomalygpt-client', 'extendedKeyUsage=clientAuth\n');
  const p = (f: string) => path.join(dir, f);
  return {
    caPath: p('ca.crt'), caKeyPath: p('ca.key'),
    serverCertPath: p('server.crt'), serverKeyPath: p('server.key'),
    clientCertPath: p('client.crt'), clientKeyPath: p('client.key'),
  };
}

export class Mosquitto {
  readonly dir: string;
  readonly port: number;
  readonly tls: TlsMaterial | undefined;
  readonly #configPath: string;
  readonly #logPath: string;
  readonly #ownsDir: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;

  private constructor(dir: string, ownsDir: boolean, port: number, configPath: string, tls: TlsMaterial | undefined) {
    this.dir = dir;
    this.#ownsDir = ownsDir;
    this.port = port;
    this.#configPath = configPath;
    this.#logPath = path.join(dir, 'mosquitto.log');
    this.tls = tls;
  }

  /** Writes the config (and password file, ACL, certificates) and starts the broker. */
  static async start(options: MosquittoOptions = {}, dir?: string): Promise<Mosquitto> {
    const workDir = dir ?? mkdtempSync(path.join(tmpdir(), 'agpt-mosq-'));
    const port = await freePort();
    const lines = [`listener ${port} 127.0.0.1`, `log_dest file ${path.join(workDir, 'mosquitto.log')}`,
      'log_type error', 'log_type warning', 'log_type notice', 'log_type information', 'connection_messages true'];
    // mosquitto started as root drops to user "mosquitto", which cannot read a 0700 temp dir.
    if (process.getuid?.() === 0) lines.push('user root');
    if (options.users) {
      const pw = path.join(workDir, 'passwd');
      await writeFile(pw, '');
      for (const [user, password] of Object.entries(options.users)) {
        await run(MOSQUITTO_PASSWD_BIN, ['-b', pw, user, password]);
      }
      lines.push(`password_file ${pw}`, 'allow_anonymous false');
    } else {
      lines.push('allow_anonymous true');
    }
    if (options.acl !== undefined) {
      const acl = path.join(workDir, 'acl');
      await writeFile(acl, options.acl);
      lines.push(`acl_file ${acl}`);
    }
    let tls: TlsMaterial | undefined;
    if (options.tls) {
      tls = await makeTestCertificates(workDir);
      lines.push(`cafile ${tls.caPath}`, `certfile ${tls.serverCertPath}`, `keyfile ${tls.serverKeyPath}`,
        `require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`);
    }
    if (options.persistence) lines.push('persistence true', `persistence_location ${workDir}/`, 'autosave_interval 1');
    lines.push(...(options.extra ?? []));
    const configPath = path.join(workDir, 'mosquitto.conf');
    await writeFile(configPath, lines.join('\n') + '\n');
    const broker = new Mosquitto(workDir, dir === undefined, port, configPath, tls);
    await broker.#spawn();
    return broker;
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  async log(): Promise<string> {
    return readFile(this.#logPath, 'utf8').catch(() => '');
  }

  async #spawn(): Promise<void> {
    const child = spawn(MOSQUITTO_BIN, ['-c', this.#configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => {
      if (this.#child === child) this.#child = undefined;
    });
    // Ready once the port accepts a TCP connection; a broker that exits early fails loudly.
    const end = Date.now() + 10_000;
    for (;;) {
      if (this.#child !== child) throw new Error(`mosquitto exited at start: ${stderr}${await this.log()}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > end) throw new Error(`mosquitto did not listen on ${this.port}: ${stderr}${await this.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM to the broker's PID and wait for it to exit (it saves persistence on the way). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    process.kill(child.pid, signal);
    await this.#exited;
  }

  /** Stop and start again on the same port and with the same files. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  /** Start again after stop() (same port). */
  async resume(): Promise<void> {
    if (!this.#child) await this.#spawn();
  }

  /** Stop and remove the work directory (when this helper made it). */
  async close(): Promise<void> {
    await this.stop();
    if (this.#ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
