/**
 * Where a folder replay stands, kept across restarts: the folder and the name of the file
 * being read. Written (atomically: temp file, rename) before the file is decoded, so a file
 * that kills the process is not read again after the restart — issue 9: a folder that
 * restarts from its first file restart-loops into the same crash under systemd.
 *
 * No fsync: what this protects against is the process dying, and the page cache outlives
 * the process. An fsync per file cost 11 ms here (200 writes, ext4 on this VM), more than an
 * inspection (p50 8 ms). After a power loss the position may be an older one or unreadable;
 * readFolderPosition then says so and the replay resumes there or starts at the first file.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

/** Replaces the position file; a process crash leaves the old or the new one, never half of one. */
export async function writeFolderPosition(file: string, position: FolderPosition): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const text = `${JSON.stringify(position)}\n`;
  await writeFile(tmp, text).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(tmp, text);
  });
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
