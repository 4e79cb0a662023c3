/**
 * The one place that loads @u4/opencv4nodejs. Loaded through createRequire with the
 * auto-build disabled (STACK-NOTES: an ESM import fails with "No build found" otherwise,
 * and the build helper prints info lines to stdout unless silenced). OpenCV throws plain
 * strings: callers wrap with `toError` from ../errors.js.
 */
import { createRequire } from 'node:module';
import type * as CV from '@u4/opencv4nodejs';

export type Cv = typeof CV;
export type Mat = CV.Mat;

let loaded: Cv | undefined;

export function loadOpenCv(): Cv {
  if (loaded) return loaded;
  process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD = '1';
  const require = createRequire(import.meta.url);
  try {
    require('@u4/opencv-build').Log.silence = true;
  } catch {
    // opencv-build is optional at run time; silence only matters when it is present.
  }
  loaded = require('@u4/opencv4nodejs') as Cv;
  return loaded;
}
