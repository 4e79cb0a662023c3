/**
 * Shared by the OPC UA tests: a DaemonControl whose cameras produce real Verdict objects
 * (alternating pass / fail with two defect locations, optional inference delay, real busy and
 * recipe errors), a server on a free loopback port with its PKI in a temp folder, and real
 * node-opcua client sessions.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import {
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  type ClientSession,
  type UserIdentityInfo,
} from 'node-opcua';
import { AppError, ErrorCodes } from '../../../src/errors.js';
import type { Verdict } from '../../../src/judge/verdict.js';
import type { Logger } from '../../../src/log.js';
import type { CameraControl, CameraSnapshot, DaemonControl } from '../../../src/publish/control.js';
import { OpcuaConfigSchema, type OpcuaConfig } from '../../../src/config/opcua.js';
import { OpcuaServer } from '../../../src/publish/opcua/opcua-server.js';
import type { CameraState } from '../../../src/capture/camera.js';
import type { TriggerMode } from '../../../src/config/index.js';
import { sleep, until } from '../../support/wait.js';
export { sleep, until };
import { capturingLogger, silentLogger } from '../../support/logger.js';
export { capturingLogger, silentLogger };

/** 1×1 white greyscale PNG: a real mask image for the MaskPng tag. */
export const ONE_PIXEL_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c63f80f0001010100b138f6140000000049454e44ae426082',
  'hex',
);

export class TestCamera implements CameraControl {
  readonly id: string;
  health: CameraState;
  readonly triggerMode: TriggerMode;
  delayMs = 0;
  /** The next verdict is decided by the LLM (P(yes) given): the judge passed, the LLM failed it. */
  llmNext: number | undefined;
  /** Error code the next trigger() rejects with. */
  failNext: AppError | undefined;
  recipes = new Set(['bottle', 'cable']);
  recipe = { id: 'bottle', version: '1' };
  /** The drift watch's state of the active recipe, when a test sets one. */
  drift: CameraSnapshot['drift'];
  readonly model = { id: 'mobilenetv2-nsfwjs', version: '1.0.0' };
  /** The sink path, like the pipeline's fan-out (set to OpcuaServer.publish). */
  sink: ((v: Verdict) => void) | undefined;
  seq = 0;
  triggers = 0;
  #busy = false;
  #listeners: Array<(id: string, h: CameraState) => void>;

  constructor(id: string, triggerMode: TriggerMode, health: CameraState, listeners: Array<(id: string, h: CameraState) => void>) {
    this.id = id;
    this.triggerMode = triggerMode;
    this.health = health;
    this.#listeners = listeners;
  }

  snapshot(): CameraSnapshot {
    return {
      id: this.id,
      health: this.health,
      triggerMode: this.triggerMode,
      busy: this.#busy,
      recipe: this.recipe,
      model: this.model,
      counters: { inspected: this.seq, passed: 0, failed: 0, dropped: 0, errors: 0 },
      lastVerdictAt: null,
      ...(this.drift ? { drift: this.drift } : {}),
    };
  }

  setHealth(h: CameraState): void {
    this.health = h;
    for (const l of this.#listeners) l(this.id, h);
  }

  /** A verdict as the pipeline would make it: odd seq pass, even seq fail with two regions. */
  makeVerdict(capturedAt = Date.now()): Verdict {
    const seq = ++this.seq;
    const pass = seq % 2 === 1;
    const region = (x: number, y: number, grid: 'top left' | 'center') => ({
      box: { x, y, width: 10, height: 8 }, centroid: { x: x + 5, y: y + 4 }, grid, area: 60, peak: 0.93,
    });
    return {
      id: `${this.id}-${capturedAt}-${seq}`,
      cameraId: this.id,
      seq,
      capturedAt,
      decidedAt: Date.now(),
      pass,
      confidence: pass ? 0.8 : 0.95,
      score: pass ? 0.21 : 0.87,
      threshold: 0.5,
      locations: pass ? [] : [region(2, 3, 'top left'), region(150, 110, 'center')],
      ...(pass ? {} : { maskPng: new Uint8Array(ONE_PIXEL_PNG) }),
      recipe: { ...this.recipe },
      model: { ...this.model },
      timings: { preprocessMs: 1, encoderMs: 2, mapMs: 1, judgeMs: 0.5, totalMs: 4.5 },
      frame: { width: 320, height: 240, origin: 'test' },
      judge: { pass, score: pass ? 0.21 : 0.87, threshold: 0.5, confidence: pass ? 0.8 : 0.95, model: { ...this.model } },
    };
  }

  /** A judge pass the LLM turned into a fail (assistant.overrule pass-to-fail), as the assistant publishes it. */
  #llmDecided(v: Verdict, pYes: number): Verdict {
    return {
      ...v, pass: false, score: pYes, threshold: 0.5, confidence: pYes, decidedBy: 'llm',
      model: { id: 'anomalygpt-7b', version: '1' },
      judge: { pass: true, score: 0.21, threshold: 0.5, confidence: 0.8, model: { ...this.model } },
      llm: { pYes, judgePass: true, visionMs: 5, prefillMs: 9 },
    };
  }

  async trigger(): Promise<Verdict> {
    if (this.#busy) throw new AppError(ErrorCodes.CAMERA_BUSY, `camera ${this.id} is busy`);
    if (this.health !== 'streaming') throw new AppError(ErrorCodes.CAMERA_READ, `camera ${this.id} is ${this.health}`);
    this.#busy = true;
    this.triggers++;
    try {
      const capturedAt = Date.now() - 3; // the frame was grabbed a moment before inference
      if (this.delayMs > 0) await sleep(this.delayMs);
      const fail = this.failNext;
      this.failNext = undefined;
      if (fail) throw fail;
      const made = this.makeVerdict(capturedAt);
      const v = this.llmNext === undefined ? made : this.#llmDecided(made, this.llmNext);
      this.llmNext = undefined;
      this.sink?.(v);
      return v;
    } finally {
      this.#busy = false;
    }
  }

  async selectRecipe(recipeId: string): Promise<void> {
    if (!this.recipes.has(recipeId)) throw new AppError(ErrorCodes.RECIPE_NOT_FOUND, `recipe "${recipeId}" not found`);
    this.recipe = { id: recipeId, version: '1' };
  }
}

export class TestControl implements DaemonControl {
  readonly cameras: TestCamera[];
  readonly #listeners: Array<(id: string, h: CameraState) => void> = [];

  constructor(specs: Array<{ id: string; mode?: TriggerMode; health?: CameraState }>) {
    this.cameras = specs.map((s) => new TestCamera(s.id, s.mode ?? 'on-demand', s.health ?? 'streaming', this.#listeners));
  }

  camera(id: string): TestCamera | undefined {
    return this.cameras.find((c) => c.id === id);
  }

  onHealth(listener: (id: string, h: CameraState) => void): () => void {
    this.#listeners.push(listener);
    return () => this.#listeners.splice(this.#listeners.indexOf(listener), 1);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const USERS = { operator: ['op', 'op-secret'], engineer: ['eng', 'eng-secret'] } as const;
export const SECRETS = { env: { OPCUA_OP_PW: USERS.operator[1], OPCUA_ENG_PW: USERS.engineer[1] } };

export function opcuaConfig(overrides: Partial<OpcuaConfig>): OpcuaConfig {
  const raw = {
    enabled: true,
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    users: [
      { username: USERS.operator[0], password: { env: 'OPCUA_OP_PW' }, role: 'operator' },
      { username: USERS.engineer[0], password: { env: 'OPCUA_ENG_PW' }, role: 'engineer' },
    ],
    shutdownTimeoutMs: 0,
    ...overrides,
  };
  const config = Value.Default(OpcuaConfigSchema, raw) as OpcuaConfig;
  if (!Value.Check(OpcuaConfigSchema, config)) throw new Error(`bad test config: ${JSON.stringify([...Value.Errors(OpcuaConfigSchema, config)][0])}`);
  return config;
}

export interface Fixture {
  readonly server: OpcuaServer;
  readonly control: TestControl;
  readonly endpoint: string;
  readonly stateDir: string;
  readonly clientPki: string;
  readonly ns: number;
}

/** A temp folder removed when the process exits (one per test file: PKI creation is slow). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts a server for `control`. With `trustClient`, the test client's certificate is created
 * first and placed in the server's trusted store, as an integrator would after `opcua trust`.
 */
export async function startServer(
  control: TestControl,
  config: Partial<OpcuaConfig>,
  options: { trustClient?: boolean; logger?: Logger } = {},
): Promise<Fixture> {
  const stateDir = tempDir('agpt-opcua-state-');
  const clientPki = join(stateDir, 'client-pki');
  const port = await freePort();
  const cfg = opcuaConfig({ port, ...config });
  if (options.trustClient) {
    const certificate = await clientCertificate(clientPki);
    const trusted = join(stateDir, cfg.pkiDirectory, 'trusted', 'certs');
    mkdirSync(trusted, { recursive: true });
    copyFileSync(certificate, join(trusted, 'test-client.pem'));
  }
  const server = new OpcuaServer(cfg, options.logger ?? silentLogger(), control, stateDir, { secrets: SECRETS });
  for (const c of control.cameras) c.sink = (v) => server.publish(v, undefined as never);
  await server.start(new AbortController().signal);
  return { server, control, endpoint: `opc.tcp://127.0.0.1:${port}`, stateDir, clientPki, ns: server.namespaceIndex };
}

function makeClient(clientPki: string, mode: MessageSecurityMode, policy: SecurityPolicy): OPCUAClient {
  return OPCUAClient.create({
    applicationName: 'agpt-opcua-test',
    endpointMustExist: false,
    securityMode: mode,
    securityPolicy: policy,
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: clientPki, automaticallyAcceptUnknownCertificate: true }),
    connectionStrategy: { maxRetry: 0, initialDelay: 50, maxDelay: 100 },
    requestedSessionTimeout: 20_000,
  });
}

/** Creates the test client's application certificate; returns its file. */
export async function clientCertificate(clientPki: string): Promise<string> {
  const client = makeClient(clientPki, MessageSecurityMode.Sign, SecurityPolicy.Basic256Sha256) as unknown as {
    clientCertificateManager: OPCUACertificateManager;
    createDefaultCertificate(): Promise<void>;
    certificateFile: string;
  };
  await client.clientCertificateManager.initialize();
  await client.createDefaultCertificate();
  await client.clientCertificateManager.dispose();
  return client.certificateFile;
}

export interface Session {
  readonly client: OPCUAClient;
  readonly session: ClientSession;
  close(): Promise<void>;
}

export const MODES = { None: MessageSecurityMode.None, Sign: MessageSecurityMode.Sign, SignAndEncrypt: MessageSecurityMode.SignAndEncrypt };

export async function openSession(
  fx: Pick<Fixture, 'endpoint' | 'clientPki'>,
  options: { mode?: keyof typeof MODES; policy?: keyof typeof SecurityPolicy; user?: UserIdentityInfo | 'operator' | 'engineer' } = {},
): Promise<Session> {
  const mode = options.mode ?? 'SignAndEncrypt';
  const policy = mode === 'None' ? SecurityPolicy.None : SecurityPolicy[options.policy ?? 'Basic256Sha256'];
  const client = makeClient(fx.clientPki, MODES[mode], policy);
  const user = options.user ?? 'operator';
  const identity: UserIdentityInfo =
    typeof user === 'string' ? { type: 1 /* UserName */, userName: USERS[user][0], password: USERS[user][1] } : user;
  try {
    await client.connect(fx.endpoint);
    const session = await client.createSession(identity);
    return {
      client,
      session,
      close: async () => {
        await session.close();
        await client.disconnect();
      },
    };
  } catch (e) {
    await client.disconnect();
    throw e;
  }
}
