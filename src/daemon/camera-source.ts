/**
 * A camera's `source` config → the options createFrameSource takes. The only translation is
 * the URL credentials: `username` plus `password: { env | credential }` (never in the YAML)
 * are resolved now and put into the URL that OpenCV opens; OpenCvSource redacts them in
 * every description and log line.
 */
import { join } from 'node:path';
import type { SourceOptions } from '../capture/create-source.js';
import type { ImageLimits } from '../capture/image-limits.js';
import { resolveSecret, type SecretEnvironment, type SourceConfig } from '../config/index.js';
import { AppError, ErrorCodes } from '../errors.js';

export function sourceOptions(source: SourceConfig, keyPath: string, secrets: SecretEnvironment = {}): SourceOptions {
  if (source.kind !== 'url') return source;
  const { username, password, ...rest } = source;
  if (username === undefined && password === undefined) return rest;
  if (!URL.canParse(source.url)) {
    // A GStreamer pipeline carries its credentials in its own element properties.
    throw new AppError(ErrorCodes.CONFIG_INVALID, `${keyPath}.username/password: only a URL (scheme://host/…) can take credentials; put them into the pipeline's elements instead`);
  }
  const url = new URL(source.url);
  if (username !== undefined) url.username = encodeURIComponent(username);
  if (password !== undefined) url.password = encodeURIComponent(resolveSecret(password, `${keyPath}.password`, secrets));
  return { ...rest, url: url.toString() };
}

/** Where a folder camera keeps its replay position: <stateDirectory>/sources/<camera id>.position.json. */
export function folderPositionFile(stateDirectory: string, cameraId: string): string {
  return join(stateDirectory, 'sources', `${cameraId}.position.json`);
}

/**
 * What the daemon adds to a camera's source options beyond its config: the image limits for
 * the sources that decode files (folder, sim references) and the folder's position file.
 */
export function withDaemonOptions(options: SourceOptions, daemon: { cameraId: string; stateDirectory: string; limits: ImageLimits }): SourceOptions {
  if (options.kind === 'folder') return { ...options, limits: daemon.limits, positionFile: folderPositionFile(daemon.stateDirectory, daemon.cameraId) };
  if (options.kind === 'sim') return { ...options, limits: daemon.limits };
  return options;
}
