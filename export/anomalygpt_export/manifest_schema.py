"""Bundle manifests checked against the JSON Schemas in models/schemas/, which are generated from
the TypeBox schemas the daemon loads bundles with (tools/models/gen-schemas.ts, issue 8). The
export refuses a manifest the runtime would refuse, and the rules (required blocks, roles, id
pattern, enums, closed objects) live in one place: the TypeScript schema.

What a schema cannot say (files listed, sizes that must divide, words that must differ) stays
with the writer (export_bundle.manifest_problems), as it does in TypeScript (manifestProblems).

  python3 -m anomalygpt_export.manifest_schema [--schema ID] BUNDLE_DIR_OR_MANIFEST_JSON ...
      checks each manifest against the schema its `schema` field names (or schema ID, e.g.
      anomalygpt-edge/llm-bundle@1); exit 1 on any problem

The schemas are read from models/schemas/ of the checkout this package sits in, or from the
folder in $ANOMALYGPT_EDGE_SCHEMAS (an installed copy of the package has no checkout around it).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from jsonschema import Draft202012Validator

from .bundle_io import write_json

SCHEMAS_ENV = 'ANOMALYGPT_EDGE_SCHEMAS'
MAX_REPORTED = 12
EX_DATAERR = 65  # sysexits.h: the input data was incorrect

# The manifests' `schema` values this package writes (each picks a models/schemas/ file).
ANOMALYGPT_BUNDLE = 'anomalygpt-edge/anomalygpt-bundle@1'
LLM_BUNDLE = 'anomalygpt-edge/llm-bundle@1'


class ManifestError(ValueError):
    """A manifest (or one block of it) that its JSON Schema refuses; `problems` are
    'JSON-pointer: message' lines, the pointer being where in the manifest the problem is."""

    def __init__(self, where: str, problems: Sequence[str]):
        self.where, self.problems = where, list(problems)
        shown = self.problems[:MAX_REPORTED] + ([f'... and {len(self.problems) - MAX_REPORTED} more'] if len(self.problems) > MAX_REPORTED else [])
        super().__init__(f'{where}: does not match its JSON Schema (models/schemas/):\n  ' + '\n  '.join(shown))


def schemas_dir() -> Path:
    env = os.environ.get(SCHEMAS_ENV)
    # export/anomalygpt_export/manifest_schema.py → the repository root is two folders up.
    return Path(env) if env else Path(__file__).resolve().parents[2] / 'models' / 'schemas'


@lru_cache(maxsize=None)
def _validators() -> dict[str, Draft202012Validator]:
    """Manifest `schema` value (e.g. anomalygpt-edge/llm-bundle@1) → validator, from every
    *.schema.json there: the value is read from the schema's own `schema` const, not listed here."""
    d = schemas_dir()
    out: dict[str, Draft202012Validator] = {}
    for path in sorted(d.glob('*.schema.json')):
        schema = json.loads(path.read_text(encoding='utf-8'))
        Draft202012Validator.check_schema(schema)
        out[schema['properties']['schema']['const']] = Draft202012Validator(schema)
    if not out:
        raise FileNotFoundError(f'no *.schema.json in {d}: run from a checkout (npm run gen:schemas writes them) or set {SCHEMAS_ENV}')
    return out


def _unknown(schema_id: Any) -> str:
    return f'/schema: unknown manifest schema {schema_id!r} (known: {", ".join(sorted(_validators()))})'


def _validator(schema_id: str) -> Draft202012Validator:
    v = _validators().get(schema_id)
    if v is None:
        raise ManifestError('manifest', [_unknown(schema_id)])
    return v


def json_pointer(path: Iterable[Any]) -> str:
    """'/files/0/sha256', the form TypeBox's Value.Errors gives the TS loader; '/' is the root."""
    parts = [str(p).replace('~', '~0').replace('/', '~1') for p in path]
    return '/' + '/'.join(parts) if parts else '/'


def _problems(validator: Draft202012Validator, value: Any, schema_path: Sequence[str], prefix: Sequence[Any]) -> list[str]:
    schema = validator.schema
    for k in schema_path:
        schema = schema[k]
    sub = validator.evolve(schema=schema)
    errors = sorted(sub.iter_errors(value), key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    return [f'{json_pointer([*prefix, *e.absolute_path])}: {e.message}' for e in errors]


def manifest_problems(manifest: Any, schema_id: str | None = None) -> list[str]:
    """Everything the schema (by default the one the manifest's `schema` field names) refuses."""
    if schema_id is None:
        schema_id = manifest.get('schema') if isinstance(manifest, dict) else None
        if not isinstance(schema_id, str):
            return ['/schema: missing; cannot tell which manifest schema applies']
    if schema_id not in _validators():
        return [_unknown(schema_id)]
    return _problems(_validator(schema_id), manifest, (), ())


def validate_manifest(manifest: Any, schema_id: str | None = None, *, where: str = 'manifest') -> None:
    """Raises ManifestError naming every refused path."""
    problems = manifest_problems(manifest, schema_id)
    if problems:
        raise ManifestError(where, problems)


def validate_block(schema_id: str, name: str, value: Any, *, where: str) -> None:
    """One top-level block of a manifest not written yet (e.g. the vision export's `encoder`),
    checked against that property's sub-schema so a bad block fails before later, slower steps."""
    problems = _problems(_validator(schema_id), value, ('properties', name), (name,))
    if problems:
        raise ManifestError(where, problems)


def validate_file_entries(schema_id: str, entries: Sequence[Any], *, where: str) -> None:
    """Entries of a manifest's `files` list, each against the schema's file-entry sub-schema."""
    v = _validator(schema_id)
    problems = [p for i, e in enumerate(entries) for p in _problems(v, e, ('properties', 'files', 'items'), ('files', i))]
    if problems:
        raise ManifestError(where, problems)


def write_manifest(out_dir: str, manifest: dict[str, Any], schema_id: str,
                   relations: Callable[[dict[str, Any]], list[str]] | None = None) -> str:
    """Validates against the schema, then the `relations` the schema cannot express, then writes
    `out_dir/manifest.json` atomically: a refused manifest never lands."""
    path = os.path.join(out_dir, 'manifest.json')
    validate_manifest(manifest, schema_id, where=path)
    problems = relations(manifest) if relations else []
    if problems:
        raise ManifestError(path, problems)
    tmp = f'{path}.tmp-{os.getpid()}'
    write_json(tmp, manifest)
    os.replace(tmp, path)
    return path


def exits_on_manifest_error(main: Callable[..., int | None]) -> Callable[..., int]:
    """For the CLIs: a refused manifest ends the run with its message and exit status 65
    instead of a traceback (the files written so far stay; no manifest.json is written)."""
    @functools.wraps(main)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            return main(*args, **kwargs) or 0
        except ManifestError as e:
            # Under `python3 -m`, the module is __main__; its spec keeps the real name.
            spec = getattr(sys.modules.get(main.__module__), '__spec__', None)
            print(f'{spec.name if spec else main.__module__}: {e}', file=sys.stderr)
            return EX_DATAERR
    return run


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('paths', nargs='+', metavar='BUNDLE_DIR_OR_MANIFEST_JSON')
    ap.add_argument('--schema', help='manifest schema id to check against (default: the manifest\'s own `schema` field)')
    a = ap.parse_args(argv)
    failed = 0
    for arg in a.paths:
        path = os.path.join(arg, 'manifest.json') if os.path.isdir(arg) else arg
        try:
            with open(path, encoding='utf-8') as f:
                manifest = json.load(f)
            validate_manifest(manifest, a.schema, where=path)
            print(f'{path}: ok ({a.schema or manifest["schema"]})')
        except (ManifestError, OSError, json.JSONDecodeError) as e:
            failed += 1
            print(str(e), file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
