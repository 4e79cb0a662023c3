/**
 * Where a folder replay stands, kept across restarts: the folder and the name of the file
 * being read. Written (atomically: temp file, fsync, rename) before the file is decoded, so
 * a file that kills the process is not read again after the restart — issue 9: a folder
 * that restarts from its first file restart-loops into the same crash under systemd.
 */
import { open, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface FolderPosition {
  /** The folder replayed (absolute); a position of another folder is ignored. */
  readonly folder: string;
  /** File name (no folder) of the last file whose reading started. */
  readonly last: string;
}

/** The saved position, or undefined when there is none or it is unreadable/of another folder. */
export async function readFolderPosition(file: string, folder: string): Promise<{ position?: FolderPosition; problem?: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? {} : { problem: `cannot read ${file} (${code ?? String(e)})` };
  }
  try {
    const p = JSON.parse(text) as Partial<FolderPosition>;
    if (typeof p.folder !== 'string' || typeof p.last !== 'string' || p.last === '') return { problem: `${file} has no position` };
    return p.folder === folder ? { position: { folder: p.folder, last: p.last } } : {};
  } catch {
    return { problem: `${file} is not JSON` };
  }
}

/** Replaces the position file; a crash leaves the old or the new one, never half of one. */
export async function writeFolderPosition(file: string, position: FolderPosition): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(position)}\n`);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
