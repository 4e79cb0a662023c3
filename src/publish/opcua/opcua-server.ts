/**
 * The OPC UA server: a lifecycle Component (start/stop) and a VerdictSink (every verdict of
 * every camera is pushed to its tags and raised as a ResultReady event).
 *
 * - PKI in `<stateDirectory>/<pkiDirectory>` (node-opcua's default would be the user's
 *   ~/.config). Unknown client certificates are rejected and kept in `<pki>/rejected` for
 *   `anomalygpt-edge opcua trust`; the server's watchers pick up a trusted file without a
 *   restart.
 * - User X509 identity tokens are checked against a separate, empty store
 *   (`<pki>/user-tokens`), so they are refused: users are the configured username/password
 *   pairs, and an application certificate trusted for the secure channel must not double as
 *   a login.
 * - Address space: the standard nodeset + OPC 40100-1 Machine Vision; our namespace
 *   (`namespaceUri`) holds one Object per camera (camera-tags.ts) with its VisionSystem.
 * - Heartbeat: every second each camera's Heartbeat tag is incremented and the result tags'
 *   quality re-evaluated (tag-quality.ts).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { format } from 'node:util';
import { OPCUACertificateManager, OPCUAServer, nodesets, setErrorLogger, setWarningLogger, type UAObject } from 'node-opcua';
import type { Frame } from '../../capture/frame.js';
import type { SecretEnvironment } from '../../config/index.js';
import { AppError, ErrorCodes } from '../../errors.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import type { Component } from '../../component.js';
import type { VerdictSink } from '../sink.js';
import type { DaemonControl } from '../control.js';
import { CameraStation } from './camera-station.js';
import { RefusalLoggingCertificateManager } from './certificate-manager.js';
import { CameraTags } from './camera-tags.js';
import type { OpcuaConfig } from '../../config/opcua.js';
import { UserDirectory, endpointSecurity } from './opcua-security.js';
import { VisionSystem } from './vision-system.js';

export interface OpcuaStatus {
  readonly listening: boolean;
  readonly endpoint: string | null;
  /** Open client sessions. */
  readonly sessions: number;
  readonly subscriptions: number;
  readonly maxSessions: number;
}

export interface OpcuaServerOptions {
  /** Default process.env / $CREDENTIALS_DIRECTORY (user passwords). */
  readonly secrets?: SecretEnvironment;
}

export class OpcuaServer implements Component, VerdictSink {
  readonly name = 'opcua';
  readonly #config: OpcuaConfig;
  readonly #log: Logger;
  readonly #control: DaemonControl;
  readonly #pkiDirectory: string;
  readonly #users: UserDirectory;
  readonly #stations = new Map<string, CameraStation>();
  #server: OPCUAServer | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #beats = 0;
  #unsubscribe: (() => void) | undefined;
  #namespaceIndex = -1;

  constructor(config: OpcuaConfig, logger: Logger, control: DaemonControl, stateDirectory: string, options: OpcuaServerOptions = {}) {
    this.#config = config;
    this.#log = logger;
    this.#control = control;
    this.#pkiDirectory = resolve(stateDirectory, config.pkiDirectory);
    // Fail at build time, with the key path, not when the first PLC logs in.
    this.#users = new UserDirectory(config.users, options.secrets);
    if (this.#users.size === 0 && !config.allowAnonymous) {
      throw new AppError(ErrorCodes.CONFIG_INVALID, 'opcua: no users and allowAnonymous is false, so no client could open a session');
    }
  }

  get pkiDirectory(): string {
    return this.#pkiDirectory;
  }

  /** Index of our namespace (valid after start); clients look it up by URI. */
  get namespaceIndex(): number {
    return this.#namespaceIndex;
  }

  get endpointUrl(): string | undefined {
    return this.#server?.getEndpointUrl();
  }

  /** For /status and the page: where it listens and who is connected. */
  status(): OpcuaStatus {
    const s = this.#server;
    return {
      listening: s !== undefined,
      endpoint: s?.getEndpointUrl() ?? null,
      sessions: s?.currentSessionCount ?? 0,
      subscriptions: s?.currentSubscriptionCount ?? 0,
      maxSessions: this.#config.maxSessions,
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    // node-opcua prints to stdout with console.log; route its warnings and errors into our
    // structured log instead (process-wide: there is one OPC UA server per daemon).
    const lib = this.#log.child({ lib: 'node-opcua' });
    setWarningLogger((...args: unknown[]) => lib.warn(format(...args)));
    setErrorLogger((...args: unknown[]) => lib.error(format(...args)));
    const cfg = this.#config;
    const serverCertificateManager = new RefusalLoggingCertificateManager(
      { rootFolder: this.#pkiDirectory, automaticallyAcceptUnknownCertificate: false },
      (thumbprint, status) => {
        // node-opcua also verifies the server's own certificate at start (not in the trust list).
        if (thumbprint === this.#ownThumbprint()) return;
        this.#log.warn({ thumbprint, status }, 'OPC UA client certificate refused; it is kept in <pki>/rejected (anomalygpt-edge opcua list|trust)');
      },
    );
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: resolve(this.#pkiDirectory, 'user-tokens'),
      automaticallyAcceptUnknownCertificate: false,
    });
    const hostname = cfg.hostname ?? osHostname();
    const server = new OPCUAServer({
      host: cfg.host,
      hostname,
      port: cfg.port,
      ...endpointSecurity(cfg),
      allowAnonymous: cfg.allowAnonymous,
      // A monitored item that asks for sampling interval 0 gets every change of our pushed
      // tags. node-opcua's default (50 ms) coalesces changes inside that window, and a PLC would
      // miss ResultReady's false → true when an Ack and the next quick result fall in one window.
      serverCapabilities: { minSupportedSampleRate: 0, maxSessions: cfg.maxSessions },
      nodeset_filename: [nodesets.standard, nodesets.machineVision],
      serverCertificateManager,
      userCertificateManager,
      serverInfo: {
        applicationName: { text: 'anomalygpt-edge' },
        applicationUri: `urn:${hostname}:anomalygpt-edge`,
        productUri: 'urn:anomalygpt-edge',
      },
      buildInfo: { productName: 'anomalygpt-edge', manufacturerName: 'anomalygpt-edge' },
      userManager: {
        isValidUser: (username: string, password: string) => {
          const ok = this.#users.isValidUser(username, password);
          if (!ok) this.#log.warn({ username }, 'OPC UA login refused: unknown user or wrong password');
          return ok;
        },
        getUserRoles: (username: string) => this.#users.rolesOf(username),
      },
    });
    this.#server = server;
    try {
      await server.initialize();
      signal.throwIfAborted();
      this.#buildAddressSpace(server);
      await server.start();
      signal.throwIfAborted();
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#heartbeat = setInterval(() => this.#beat(), 1000);
    this.#heartbeat.unref();
    this.#log.info(
      { endpoint: server.getEndpointUrl(), modes: cfg.securityModes, policies: cfg.securityPolicies, anonymous: cfg.allowAnonymous, pki: this.#pkiDirectory },
      'OPC UA server listening',
    );
  }

  #own: string | undefined;

  #ownThumbprint(): string | undefined {
    if (this.#own === undefined) {
      try {
        const pem = readFileSync(resolve(this.#pkiDirectory, 'own', 'certs', 'certificate.pem'), 'latin1');
        this.#own = new X509Certificate(pem).fingerprint.replaceAll(':', '').toLowerCase();
      } catch {
        return undefined; // not written yet
      }
    }
    return this.#own;
  }

  #buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('OPC UA address space not initialised');
    const namespace = addressSpace.registerNamespace(this.#config.namespaceUri);
    this.#namespaceIndex = namespace.index;
    const objects = addressSpace.rootFolder.objects;
    const serverObject = objects.server as unknown as UAObject;
    for (const camera of this.#control.cameras) {
      const log = this.#log.child({ camera: camera.id });
      const tags = new CameraTags(namespace, objects, camera.id, { includeMask: this.#config.includeMask, eventsTo: serverObject });
      const vision = new VisionSystem(addressSpace, namespace, camera.id, tags.object, serverObject);
      this.#stations.set(camera.id, new CameraStation({ camera, tags, vision, logger: log, staleAfterMs: this.#config.staleAfterMs }));
    }
    this.#unsubscribe = this.#control.onHealth((cameraId, health) => this.#stations.get(cameraId)?.setHealth(health));
  }

  #beat(): void {
    this.#beats = (this.#beats + 1) >>> 0;
    const now = Date.now();
    for (const s of this.#stations.values()) s.tick(now, this.#beats);
  }

  publish(verdict: Verdict, _frame: Frame): void {
    this.#stations.get(verdict.cameraId)?.onVerdict(verdict);
  }

  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const s of this.#stations.values()) s.close();
    this.#stations.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      await server.shutdown(this.#config.shutdownTimeoutMs);
      this.#log.info('OPC UA server stopped');
    }
  }
}

