/**
 * The `images:` slice of the daemon configuration: the pixel limit of the input guards
 * (README "Input guards"). The bounds of the setting live here, with the schema, so that
 * config imports nothing but root files (README "Import rules"); capture/image-limits.ts
 * applies them and says where each number comes from.
 */
import { Type } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

/** nan.h imp::kMaxLength: the largest Buffer Nan::CopyBuffer accepts without aborting. */
export const BINDING_MAX_BYTES = 0x3fffffff;
/** 4 bytes per pixel: the widest 8-bit layout that reaches getData (BGRA before conversion). */
export const HARD_MAX_PIXELS = Math.floor(BINDING_MAX_BYTES / 4);
export const DEFAULT_MAX_PIXELS = 40_000_000;

export const ImagesSchema = Type.Object(
  {
    maxPixels: Type.Integer({
      minimum: 1,
      maximum: HARD_MAX_PIXELS,
      default: DEFAULT_MAX_PIXELS,
      description: 'image files and camera frames above width × height are refused before decoding (E_IMAGE_TOO_LARGE)',
    }),
  },
  { ...Strict, default: {} },
);
