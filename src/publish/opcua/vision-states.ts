/**
 * The two state machines of OPC 40100-1 that a VisionSystem exposes (§8.2, §8.3):
 *
 *   VisionStateMachine:          Preoperational(1) · Halted(2) · Error(3) · Operational(4)
 *   AutomaticModeStateMachine    Initialized(5) · Ready(6) · SingleExecution(7) · ContinuousExecution(8)
 *     (sub-state machine of Operational; inactive — BadStateNotActive — outside it)
 *
 * The companion nodeset often has several transitions between the same two states, told apart
 * by what caused them: `ReadyToSingleExecution` (the StartSingleJob method) and
 * `ReadyToSingleExecutionAuto` (the system itself), `…ToReadyStop` / `…ToReadyAbort`. node-opcua
 * needs a selector to pick one (STACK-NOTES), so every move names its cause and the selector
 * takes the transition whose BrowseName ends accordingly. The TransitionEvent a client
 * receives then says truthfully why the state changed.
 */
import { promoteToStateMachine, type TransitionSelector, type UAObject, type UAStateMachineEx, type UATransitionEx } from 'node-opcua';
import type { CameraState } from '../../capture/camera.js';

export type MainState = 'Preoperational' | 'Operational' | 'Halted' | 'Error';
export type AutoState = 'Initialized' | 'Ready' | 'SingleExecution' | 'ContinuousExecution';
/** Why a transition happens: `auto` = the system itself, `method` = a client's method call. */
export type Cause = 'auto' | 'method' | 'stop' | 'abort';

/**
 * The main state a camera's health puts the vision system in (unless a client halted it):
 * a camera that is starting has not loaded yet (Preoperational); one that reconnects has
 * failed and recovers by itself (Error → ErrorToOperationalAuto); one whose source ended or
 * that was stopped does nothing until it is restarted (Halted).
 */
export function mainStateFor(health: CameraState): MainState {
  switch (health) {
    case 'starting':
      return 'Preoperational';
    case 'streaming':
      return 'Operational';
    case 'reconnecting':
      return 'Error';
    default:
      return 'Halted';
  }
}

function selectorFor(cause: Cause): TransitionSelector {
  return (transitions: UATransitionEx[]) => {
    const name = (t: UATransitionEx) => t.browseName.name ?? '';
    const pick =
      cause === 'auto' ? transitions.find((t) => name(t).endsWith('Auto'))
      : cause === 'stop' ? transitions.find((t) => name(t).endsWith('Stop'))
      : cause === 'abort' ? transitions.find((t) => name(t).endsWith('Abort'))
      : transitions.find((t) => !/(Auto|Stop|Abort|Recipe|Product)$/.test(name(t)));
    return pick ?? transitions[0] ?? null;
  };
}

export class VisionStates {
  readonly #main: UAStateMachineEx;
  readonly #auto: UAStateMachineEx;
  /** Where the automatic mode goes on entering Operational (Ready, or ContinuousExecution for a free-running camera). */
  #autoHome: AutoState = 'Ready';

  constructor(visionStateMachine: UAObject, automaticMode: UAObject) {
    this.#main = promoteToStateMachine(visionStateMachine);
    this.#auto = promoteToStateMachine(automaticMode);
    // After power-up the system is Preoperational (§8.2.1); the sub-machine is not active.
    this.#main.setState('Preoperational');
    this.#auto.setState(null);
  }

  get main(): MainState {
    return (this.#main.currentStateNode?.browseName.name ?? 'Preoperational') as MainState;
  }

  get auto(): AutoState | null {
    return (this.#auto.currentStateNode?.browseName.name ?? null) as AutoState | null;
  }

  set autoHome(state: AutoState) {
    this.#autoHome = state;
  }

  /**
   * Moves the main machine to `target`. Halted and Error have no transition to each other or
   * from Halted to Operational: such moves pass through Preoperational, as the spec's state
   * diagram requires (Figure 22).
   */
  goMain(target: MainState, cause: Cause): void {
    if (this.main === target) return;
    if (!this.#main.isValidTransition(target, selectorFor(cause))) this.#setMain('Preoperational', 'auto');
    this.#setMain(target, cause);
  }

  /** Moves the automatic mode (Operational only); `null` deactivates it. */
  goAuto(target: AutoState, cause: Cause): void {
    if (this.main !== 'Operational' || this.auto === target) return;
    if (!this.#auto.isValidTransition(target, selectorFor(cause))) {
      // e.g. SingleExecution → ContinuousExecution: back to Ready first.
      if (this.auto !== 'Ready') this.#auto.setState('Ready', selectorFor('auto'));
    }
    this.#auto.setState(target, selectorFor(cause));
  }

  #setMain(target: MainState, cause: Cause): void {
    if (this.main === target) return;
    if (this.main === 'Operational') this.#auto.setState(null);
    this.#main.setState(target, selectorFor(cause));
    if (target === 'Operational') {
      // Entering Operational starts the sub-machine in its initial state (Part 16 B.4.7);
      // the recipe is loaded already, so Initialized → Ready is automatic.
      this.#auto.setState('Initialized');
      this.#auto.setState('Ready', selectorFor('auto'));
      if (this.#autoHome !== 'Ready') this.#auto.setState(this.#autoHome, selectorFor('auto'));
    }
  }
}
