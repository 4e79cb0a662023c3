/**
 * A secret reference: { env: NAME } or { credential: NAME } (systemd LoadCredential=). A
 * secret is never written in the YAML itself.
 */
import { Type } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

export const SecretRefSchema = Type.Union(
  [
    Type.Object(
      {
        env: Type.String({
          pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
          'x-pattern-message': 'must be an environment variable name (letters, digits, _; not starting with a digit)',
        }),
      },
      Strict,
    ),
    Type.Object(
      {
        credential: Type.String({
          // a file name inside $CREDENTIALS_DIRECTORY: no slashes, not "." or ".."
          pattern: '^(?!\\.\\.?$)[A-Za-z0-9_.-]+$',
          'x-pattern-message': 'must be a credential name (letters, digits, _ . -; no slashes)',
          description: 'systemd credential name (LoadCredential=NAME:/path), read from $CREDENTIALS_DIRECTORY/NAME',
        }),
      },
      Strict,
    ),
  ],
  { 'x-secret': true, description: 'A secret is never written in the file: { env: NAME } or { credential: NAME }' },
);
