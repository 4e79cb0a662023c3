/**
 * OPC 40100-1 Machine Vision: one VisionSystemType instance per camera,
 * `ns=<ours>;s=<camera>.VisionSystem`, from the companion nodeset node-opcua bundles
 * (`nodesets.machineVision`).
 *
 * Per camera, not per daemon: the standard job methods (StartSingleJob, StartContinuous,
 * Stop, Abort) take no camera argument, and the automatic-mode state (Ready, SingleExecution,
 * ContinuousExecution) is a property of one camera's pipeline — two cameras are two
 * independent vision systems to a client, as two smart cameras would be.
 *
 * Instantiated: the mandatory VisionStateMachine with its optional AutomaticModeStateMachine
 * (it carries the job methods), and ResultManagement (the source of ResultReadyEvents).
 * Not instantiated: ConfigurationManagement, RecipeManagement (recipes are selected with the
 * flat RecipeId tag / SelectRecipe method), SafetyStateManagement, SystemState.
 * ResultManagement's mandatory query methods (GetResultById, GetResultComponentsById,
 * GetResultListFiltered) answer BadNotImplemented: results are not stored server-side.
 */
import {
  DataType,
  StatusCodes,
  type IAddressSpace,
  type Namespace,
  type StatusCode,
  type UAMethod,
  type UAObject,
  type Variant,
} from 'node-opcua';
import { callableBy } from './opcua-security.js';
import { VisionStates } from './vision-states.js';
import { bindCall } from './write-hook.js';

export const MACHINE_VISION_URI = 'http://opcfoundation.org/UA/MachineVision';

/** What a client asked for with StartSingleJob/StartContinuous, echoed in the ResultReadyEvent. */
export interface JobRequest {
  readonly measId?: string;
  readonly partId?: string;
  /** ExternalRecipeId.Id; empty = the active recipe. */
  readonly recipeId?: string;
}

/** What the vision system's methods do; implemented by the camera station. */
export interface VisionCommands {
  /** Returns the JobId, or a Bad StatusCode. */
  startSingleJob(request: JobRequest): string | StatusCode;
  startContinuous(request: JobRequest): string | StatusCode;
  stop(how: 'stop' | 'abort'): StatusCode;
  halt(): StatusCode;
  reset(): StatusCode;
}

export class VisionSystem {
  readonly object: UAObject;
  readonly states: VisionStates;
  readonly resultManagement: UAObject;
  readonly #ns: number;
  readonly #addressSpace: IAddressSpace;

  constructor(addressSpace: IAddressSpace, namespace: Namespace, cameraId: string, parent: UAObject, eventsTo: UAObject) {
    this.#addressSpace = addressSpace;
    this.#ns = addressSpace.getNamespaceIndex(MACHINE_VISION_URI);
    const type = addressSpace.findObjectType('VisionSystemType', this.#ns);
    if (!type) throw new Error('the Machine Vision nodeset (OPC 40100-1) is not loaded');
    this.object = type.instantiate({
      browseName: { name: 'VisionSystem', namespaceIndex: namespace.index },
      nodeId: `s=${cameraId}.VisionSystem`,
      componentOf: parent,
      namespace,
      optionals: ['VisionStateMachine.AutomaticModeStateMachine', 'ResultManagement'],
      eventSourceOf: eventsTo,
    });
    const vsm = this.#child(this.object, 'VisionStateMachine');
    this.resultManagement = this.#child(this.object, 'ResultManagement');
    this.states = new VisionStates(vsm, this.#child(vsm, 'AutomaticModeStateMachine'));
    for (const name of ['GetResultById', 'GetResultComponentsById', 'GetResultListFiltered']) {
      const m = this.resultManagement.getMethodByName(name, this.#ns);
      if (m) bindCall(m, async () => ({ statusCode: StatusCodes.BadNotImplemented }));
    }
  }

  #child(parent: UAObject, name: string): UAObject {
    const c = parent.getComponentByName(name, this.#ns);
    if (!c) throw new Error(`VisionSystem: ${name} was not instantiated`);
    return c as UAObject;
  }

  #method(name: string): UAMethod {
    const vsm = this.#child(this.object, 'VisionStateMachine');
    const owner = ['Halt', 'Reset'].includes(name) ? vsm : this.#child(vsm, 'AutomaticModeStateMachine');
    const m = owner.getMethodByName(name, this.#ns);
    if (!m) throw new Error(`VisionSystem: method ${name} missing`);
    m.setRolePermissions(callableBy('operator'));
    return m;
  }

  /** Wires the standard methods to the camera; all callable by operators and engineers. */
  bind(commands: VisionCommands): void {
    const errorOut = (status: StatusCode) => ({
      statusCode: status,
      outputArguments: [{ dataType: DataType.Int32, value: status.isGood() ? 0 : 1 }],
    });
    for (const name of ['StartSingleJob', 'StartContinuous'] as const) {
      bindCall(this.#method(name), async (input) => {
        const request = jobRequest(input);
        const r = name === 'StartSingleJob' ? commands.startSingleJob(request) : commands.startContinuous(request);
        if (typeof r !== 'string') return { statusCode: r };
        const jobId = this.#addressSpace.constructExtensionObject(this.#dataType('JobIdDataType'), { id: r });
        return {
          statusCode: StatusCodes.Good,
          outputArguments: [{ dataType: DataType.ExtensionObject, value: jobId }, { dataType: DataType.Int32, value: 0 }],
        };
      });
    }
    bindCall(this.#method('Stop'), async () => errorOut(commands.stop('stop')));
    bindCall(this.#method('Abort'), async () => errorOut(commands.stop('abort')));
    bindCall(this.#method('Halt'), async () => errorOut(commands.halt()));
    bindCall(this.#method('Reset'), async () => errorOut(commands.reset()));
  }

  #dataType(name: string) {
    const dt = this.#addressSpace.findDataType(name, this.#ns);
    if (!dt) throw new Error(`Machine Vision data type ${name} missing`);
    return dt;
  }

  /** Builds an instance of one of the companion spec's Id structures (JobIdDataType, …). */
  extensionObject(dataType: string, fields: Record<string, unknown>): Variant['value'] {
    return this.#addressSpace.constructExtensionObject(this.#dataType(dataType), fields);
  }

  get namespaceIndex(): number {
    return this.#ns;
  }
}

/** StartSingleJob/StartContinuous inputs: MeasId, PartId, RecipeId, ProductId, Parameters. */
function jobRequest(input: Variant[]): JobRequest {
  const idOf = (v: Variant | undefined): string | undefined => {
    const id = (v?.value as { id?: unknown } | null | undefined)?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  };
  return { measId: idOf(input[0]), partId: idOf(input[1]), recipeId: idOf(input[2]) };
}
