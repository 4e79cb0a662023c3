/**
 * One place that maps a camera's `source` config (discriminated by `kind`) to a FrameSource.
 * The Camera calls this through its `createSource` factory on every (re)open.
 */
import { FolderSource, type FolderSourceOptions } from './folder-source.js';
import type { FrameSource, SourceContext } from './frame-source.js';
import {
  OpenCvSource,
  type DeviceSourceOptions,
  type FileSourceOptions,
  type UrlSourceOptions,
} from './opencv-source.js';
import { SimSource, type SimSourceOptions } from './sim/sim-source.js';

export type SourceOptions =
  | DeviceSourceOptions
  | UrlSourceOptions
  | FileSourceOptions
  | FolderSourceOptions
  | SimSourceOptions;

export type SourceKind = SourceOptions['kind'];

export function createFrameSource(options: SourceOptions, ctx: SourceContext): FrameSource {
  switch (options.kind) {
    case 'device':
    case 'url':
    case 'file':
      return new OpenCvSource(options, ctx);
    case 'folder':
      return new FolderSource(options, ctx);
    case 'sim':
      return new SimSource(options, ctx);
  }
}
