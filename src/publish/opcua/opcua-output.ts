/**
 * The OPC UA server as the daemon sees it: a lifecycle component and a verdict sink that
 * loads node-opcua only when `opcua.enabled` (its import costs ≈ 0.6 s and prints a Node 20
 * RSA notice on stdout, which a daemon with OPC UA off should not pay for).
 */
import type { Frame } from '../../capture/frame.js';
import type { OpcuaConfig } from '../../config/opcua.js';
import type { OpcuaServer, OpcuaStatus } from './opcua-server.js';
import type { DaemonControl } from '../control.js';
import type { SecretEnvironment } from '../../config/index.js';
import type { Verdict } from '../../judge/verdict.js';
import type { Logger } from '../../log.js';
import type { VerdictSink } from '../sink.js';
import type { Component } from '../../component.js';

export class OpcuaOutput implements Component, VerdictSink {
  readonly name = 'opcua';
  #server: OpcuaServer | undefined;

  constructor(
    private readonly config: OpcuaConfig,
    private readonly logger: Logger,
    private readonly control: DaemonControl,
    private readonly stateDirectory: string,
    private readonly secrets: SecretEnvironment,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    const { OpcuaServer } = await import('./opcua-server.js');
    const server = new OpcuaServer(this.config, this.logger, this.control, this.stateDirectory, { secrets: this.secrets });
    await server.start(signal);
    this.#server = server;
  }

  publish(verdict: Verdict, frame: Frame): void {
    this.#server?.publish(verdict, frame);
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.stop();
  }

  status(): OpcuaStatus {
    return this.#server?.status() ?? { listening: false, endpoint: null, sessions: 0, subscriptions: 0, maxSessions: this.config.maxSessions };
  }

  get endpointUrl(): string | undefined {
    return this.#server?.endpointUrl;
  }
}
