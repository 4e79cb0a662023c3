/**
 * PLC-writable tags whose writes are commands (Trigger, Ack, RecipeId): the write must be
 * answered with the outcome of the command (BadInvalidState for a trigger while busy,
 * BadNotFound for an unknown recipe), and a refused write must leave the tag unchanged.
 *
 * node-opcua's bindVariable setters cannot do that: a setter's Bad status is stored with the
 * value (the rejected value becomes the tag's value, and subscribers see it). So the tag's
 * writeValue is replaced: the same checks node-opcua makes first (the session's role may
 * write: RolePermissions and UserAccessLevel; the value has the tag's DataType), then the
 * handler decides and stores what it accepts itself, with setValueFromSource.
 */
import {
  NumericRange,
  StatusCodes,
  type DataValue,
  type ISessionContext,
  type MethodFunctorA,
  type StatusCode,
  type UAMethod,
  type UAVariable,
  type Variant,
} from 'node-opcua';
import { toError } from '../../errors.js';
import type { Logger } from '../../log.js';

export type WriteHandler = (value: Variant, context: ISessionContext) => StatusCode | Promise<StatusCode>;

type Callback = (err: Error | null, statusCode?: StatusCode) => void;

export function handleWrites(variable: UAVariable, handler: WriteHandler, log: Logger): void {
  const tag = variable.nodeId.toString();
  const decide = async (context: ISessionContext, dataValue: DataValue, range: unknown): Promise<StatusCode> => {
    if (!variable.isUserWritable(context)) {
      log.warn({ tag, user: context.getUserName() }, 'OPC UA write refused: the session role may not write this tag');
      return StatusCodes.BadUserAccessDenied;
    }
    if (range !== undefined && range !== null && !NumericRange.coerce(range as string).isEmpty()) {
      return StatusCodes.BadIndexRangeInvalid;
    }
    const value = dataValue.value;
    const compatible = variable.checkVariantCompatibility(value);
    if (compatible.isNotGood()) {
      log.warn({ tag, got: value.dataType, status: compatible.name }, 'OPC UA write refused: wrong data type');
      return compatible;
    }
    try {
      return await handler(value, context);
    } catch (e) {
      log.error({ tag, err: toError(e) }, 'OPC UA write handler failed');
      return StatusCodes.BadInternalError;
    }
  };
  const writeValue = (context: ISessionContext, dataValue: DataValue, ...rest: unknown[]): Promise<StatusCode> | undefined => {
    const last = rest.at(-1);
    const callback = typeof last === 'function' ? (last as Callback) : undefined;
    const range = rest.length > 0 && typeof rest[0] !== 'function' ? rest[0] : undefined;
    const outcome = decide(context, dataValue, range);
    if (!callback) return outcome;
    outcome.then((status) => callback(null, status), (e: unknown) => callback(toError(e)));
    return undefined;
  };
  // The overloads of UAVariable.writeValue collapse onto this one implementation.
  (variable as unknown as { writeValue: typeof writeValue }).writeValue = writeValue;
}

/**
 * UAMethod.bindMethod tells an async handler from a callback one by its declared parameter
 * count: it must be exactly (inputArguments, context). This wrapper guarantees that.
 */
export function bindCall(method: UAMethod, handler: (input: Variant[], context: ISessionContext) => Promise<MethodResultLike>): void {
  method.bindMethod((input: Variant[], context: ISessionContext) => handler(input, context));
}

type MethodResultLike = Awaited<ReturnType<MethodFunctorA>>;
