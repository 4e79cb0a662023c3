/**
 * The flat PLC tags of one camera: an Object `ns=<ours>;s=<camera>` with one Variable per
 * tag, NodeId `ns=<ours>;s=<camera>.<Tag>` (stable across restarts and versions: a PLC
 * program addresses them by these strings; the namespace *index* is looked up by URI).
 *
 * Values are pushed (setValueFromSource), never polled: every Variable has
 * MinimumSamplingInterval 0, so monitored items are served on change. Result tags carry the
 * capture time as source timestamp and the StatusCode of tag-quality.ts.
 */
import {
  DataType,
  EventNotifierFlags,
  StatusCodes,
  VariantArrayType,
  type Namespace,
  type StatusCode,
  type UAMethod,
  type UAObject,
  type UAVariable,
  type VariantLike,
} from 'node-opcua';
import type { Verdict } from '../../judge/verdict.js';
import type { CameraSnapshot } from '../control.js';
import { callableBy, writableBy } from './opcua-security.js';
import type { CameraState } from '../../capture/camera.js';

const RESULT_TAGS = ['Pass', 'Fail', 'Score', 'Confidence', 'Locations', 'DefectCount', 'InspectionId', 'DecidedBy', 'LlmPYes', 'JudgePass', 'JudgeScore'] as const;

interface TagSpec {
  readonly dataType: DataType;
  readonly array?: boolean;
  readonly initial: unknown;
  readonly description: string;
}

const TAGS = {
  Pass: { dataType: DataType.Boolean, initial: false, description: 'the last verdict passed' },
  Fail: { dataType: DataType.Boolean, initial: false, description: 'the last verdict failed (not Pass)' },
  Score: { dataType: DataType.Double, initial: 0, description: 'image anomaly score of the last verdict' },
  Confidence: { dataType: DataType.Double, initial: 0, description: 'confidence in the last decision, 0.5 … 1' },
  Locations: { dataType: DataType.String, array: true, initial: [], description: '3×3 grid words of the defects' },
  DefectCount: { dataType: DataType.UInt32, initial: 0, description: 'number of defect regions' },
  InspectionId: { dataType: DataType.String, initial: '', description: 'id of the last verdict' },
  DecidedBy: { dataType: DataType.String, initial: '', description: 'who decided Pass/Fail: judge (the few-shot judge) or llm (AnomalyGPT, per assistant.overrule)' },
  LlmPYes: { dataType: DataType.Double, initial: -1, description: 'the LLM\'s P("yes, an anomaly") for the last verdict; -1 when the LLM was not asked' },
  JudgePass: { dataType: DataType.Boolean, initial: false, description: 'what the few-shot judge decided, whoever decided Pass' },
  JudgeScore: { dataType: DataType.Double, initial: 0, description: 'the judge\'s image anomaly score (Score is the decider\'s: P(yes) when DecidedBy = llm)' },
  MaskPng: { dataType: DataType.ByteString, initial: Buffer.alloc(0), description: 'defect mask PNG (empty on pass)' },
  ResultReady: { dataType: DataType.Boolean, initial: false, description: 'a triggered result is ready; cleared by Ack' },
  Busy: { dataType: DataType.Boolean, initial: false, description: 'a triggered inspection is running' },
  Error: { dataType: DataType.Boolean, initial: false, description: 'the last triggered inspection failed (see LastError)' },
  LastError: { dataType: DataType.String, initial: '', description: 'the last refused command or failed inspection' },
  Recipe: { dataType: DataType.String, initial: '', description: 'active recipe id' },
  RecipeVersion: { dataType: DataType.String, initial: '', description: 'active recipe version' },
  Model: { dataType: DataType.String, initial: '', description: 'model id' },
  ModelVersion: { dataType: DataType.String, initial: '', description: 'model version' },
  CameraState: { dataType: DataType.String, initial: 'starting', description: 'starting|streaming|reconnecting|ended|stopped' },
  Heartbeat: { dataType: DataType.UInt32, initial: 0, description: 'incremented by the server every second' },
  DriftState: { dataType: DataType.String, initial: 'insufficient', description: 'drift watch of the active recipe: ok|watch|drifting|insufficient (README "Drift watch")' },
} satisfies Record<string, TagSpec>;

export type TagName = keyof typeof TAGS;

/** Writable command tags (write-hook.ts decides what a write does). */
const COMMANDS = {
  Trigger: { description: 'rising edge (false→true) starts an inspection', writer: 'operator' },
  Ack: { description: 'write true to clear ResultReady; resets itself', writer: 'operator' },
  RecipeId: { description: 'write a recipe id to switch recipes (engineer)', writer: 'engineer' },
} as const;

export class CameraTags {
  readonly object: UAObject;
  readonly trigger: UAVariable;
  readonly ack: UAVariable;
  readonly recipeId: UAVariable;
  readonly inspect: UAMethod;
  readonly selectRecipe: UAMethod;
  readonly #vars = new Map<TagName, UAVariable>();
  readonly #includeMask: boolean;
  #active = '';

  constructor(namespace: Namespace, parent: UAObject, cameraId: string, options: { includeMask: boolean; eventsTo: UAObject }) {
    this.#includeMask = options.includeMask;
    this.object = namespace.addObject({
      browseName: cameraId,
      nodeId: `s=${cameraId}`,
      organizedBy: parent,
      eventNotifier: EventNotifierFlags.SubscribeToEvents,
      notifierOf: options.eventsTo,
    });
    for (const [name, spec] of Object.entries(TAGS) as [TagName, TagSpec][]) {
      if (name === 'MaskPng' && !this.#includeMask) continue;
      const v = this.#add(name, spec.dataType, spec.array === true, spec.description);
      const isResult = (RESULT_TAGS as readonly string[]).includes(name) || name === 'MaskPng';
      v.setValueFromSource(this.#variant(spec, spec.initial), isResult ? StatusCodes.BadWaitingForInitialData : StatusCodes.Good);
      this.#vars.set(name, v);
    }
    const command = (name: keyof typeof COMMANDS, dataType: DataType, initial: unknown) => {
      const v = this.#add(name, dataType, false, COMMANDS[name].description, true);
      v.setRolePermissions(writableBy(COMMANDS[name].writer));
      v.setValueFromSource({ dataType, value: initial });
      return v;
    };
    this.trigger = command('Trigger', DataType.Boolean, false);
    this.ack = command('Ack', DataType.Boolean, false);
    this.recipeId = command('RecipeId', DataType.String, '');
    this.inspect = namespace.addMethod(this.object, {
      browseName: 'Inspect',
      nodeId: `s=${cameraId}.Inspect`,
      description: 'inspect the next frame and return its verdict',
      inputArguments: [],
      outputArguments: [
        { name: 'Pass', dataType: DataType.Boolean },
        { name: 'Score', dataType: DataType.Double },
        { name: 'Locations', dataType: DataType.String, valueRank: 1, arrayDimensions: [0] },
        { name: 'InspectionId', dataType: DataType.String },
      ],
    });
    this.inspect.setRolePermissions(callableBy('operator'));
    this.selectRecipe = namespace.addMethod(this.object, {
      browseName: 'SelectRecipe',
      nodeId: `s=${cameraId}.SelectRecipe`,
      description: 'switch the recipe (engineer)',
      inputArguments: [{ name: 'RecipeId', dataType: DataType.String }],
      outputArguments: [],
    });
    this.selectRecipe.setRolePermissions(callableBy('engineer'));
  }

  #add(name: string, dataType: DataType, array: boolean, description: string, writable = false): UAVariable {
    const access = writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead';
    return this.object.namespace.addVariable({
      componentOf: this.object,
      browseName: name,
      nodeId: `s=${this.object.browseName.name}.${name}`,
      description,
      dataType,
      valueRank: array ? 1 : -1,
      arrayDimensions: array ? [0] : null,
      accessLevel: access,
      userAccessLevel: access,
      minimumSamplingInterval: 0,
    });
  }

  #variant(spec: TagSpec, value: unknown): VariantLike {
    return spec.array === true ? { dataType: spec.dataType, arrayType: VariantArrayType.Array, value } : { dataType: spec.dataType, value };
  }

  #set(name: TagName, value: unknown, status: StatusCode = StatusCodes.Good, sourceTimestamp?: Date): void {
    const v = this.#vars.get(name);
    if (v) v.setValueFromSource(this.#variant(TAGS[name], value), status, sourceTimestamp ?? new Date());
  }

  /** Writes the result tags of a verdict, all with source timestamp = capture time. */
  showVerdict(verdict: Verdict, status: StatusCode): void {
    const at = new Date(verdict.capturedAt);
    this.#set('Pass', verdict.pass, status, at);
    this.#set('Fail', !verdict.pass, status, at);
    this.#set('Score', verdict.score, status, at);
    this.#set('Confidence', verdict.confidence, status, at);
    this.#set('Locations', verdict.locations.map((l) => l.grid), status, at);
    this.#set('DefectCount', verdict.locations.length, status, at);
    this.#set('InspectionId', verdict.id, status, at);
    this.#set('DecidedBy', verdict.decidedBy ?? 'judge', status, at);
    this.#set('LlmPYes', verdict.llm?.pYes ?? -1, status, at);
    this.#set('JudgePass', verdict.judge?.pass ?? verdict.pass, status, at);
    this.#set('JudgeScore', verdict.judge?.score ?? verdict.score, status, at);
    if (this.#includeMask) {
      const m = verdict.maskPng;
      this.#set('MaskPng', m ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : Buffer.alloc(0), status, at);
    }
  }

  /** Re-stamps the result tags with a new StatusCode, keeping value and source timestamp. */
  setResultStatus(status: StatusCode): void {
    for (const name of [...RESULT_TAGS, 'MaskPng'] as const) {
      const v = this.#vars.get(name);
      if (!v) continue;
      const dv = v.readValue();
      if (dv.statusCode.value === status.value) continue;
      v.setValueFromSource(dv.value, status, dv.sourceTimestamp ?? new Date());
    }
  }

  setFlag(name: 'Busy' | 'ResultReady' | 'Error', value: boolean): void {
    this.#set(name, value);
  }

  /** LastError and a SystemEvent from the camera Object (for clients that subscribe to events). */
  reportError(message: string): void {
    this.#set('LastError', message);
    this.object.raiseEvent('SystemEventType', {
      message: { dataType: DataType.LocalizedText, value: { text: message } },
      severity: { dataType: DataType.UInt16, value: 600 },
    });
  }

  setHealth(health: CameraState): void {
    this.#set('CameraState', health);
  }

  setHeartbeat(n: number): void {
    this.#set('Heartbeat', n >>> 0);
  }

  /** Written only when it changes (a PLC may monitor it for alarms). */
  setDrift(state: string): void {
    const v = this.#vars.get('DriftState');
    if (v && v.readValue().value.value !== state) this.#set('DriftState', state);
  }

  setActive(snapshot: Pick<CameraSnapshot, 'recipe' | 'model'>): void {
    const key = `${snapshot.recipe.id}\0${snapshot.recipe.version}\0${snapshot.model.id}\0${snapshot.model.version}`;
    if (key === this.#active) return;
    this.#active = key;
    this.#set('Recipe', snapshot.recipe.id);
    this.#set('RecipeVersion', snapshot.recipe.version);
    this.#set('Model', snapshot.model.id);
    this.#set('ModelVersion', snapshot.model.version);
  }

}
