/**
 * Recipe selection from OPC UA (the RecipeId tag and the SelectRecipe method, engineer role):
 * the camera's answer mapped to a StatusCode a PLC can branch on, the reason in LastError.
 * The old recipe stays active when the switch fails (CameraControl.selectRecipe).
 */
import { DataType, StatusCodes, type StatusCode } from 'node-opcua';
import { isAppError, toError, ErrorCodes } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { CameraControl } from '../control.js';
import type { CameraTags } from './camera-tags.js';

function recipeErrorStatus(code: string): StatusCode {
  switch (code) {
    case 'E_RECIPE_NOT_FOUND':
      return StatusCodes.BadNotFound;
    case 'E_RECIPE_INVALID': // a malformed id, or a recipe file that does not load
      return StatusCodes.BadInvalidArgument;
    case 'E_RECIPE_BUNDLE_MISMATCH': // calibrated with another model bundle: recalibrate
      return StatusCodes.BadConfigurationError;
    case 'E_CAMERA_BUSY':
      return StatusCodes.BadInvalidState;
    default:
      return StatusCodes.BadInternalError;
  }
}

export async function selectRecipe(
  camera: CameraControl,
  tags: CameraTags,
  recipeId: string,
  refuse: (status: StatusCode, message: string) => StatusCode,
  log: Logger,
): Promise<StatusCode> {
  if (recipeId.trim() === '') return refuse(StatusCodes.BadInvalidArgument, 'recipe id is empty');
  try {
    await camera.selectRecipe(recipeId);
  } catch (e) {
    const err = toError(e);
    const code = isAppError(err) ? err.code : ErrorCodes.UNEXPECTED;
    return refuse(recipeErrorStatus(code), `${code}: ${err.message}`);
  }
  const snap = camera.snapshot();
  tags.setActive(snap);
  tags.recipeId.setValueFromSource({ dataType: DataType.String, value: snap.recipe.id });
  log.info({ camera: camera.id, recipe: snap.recipe }, 'recipe selected over OPC UA');
  return StatusCodes.Good;
}
