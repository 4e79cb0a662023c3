/**
 * Who may do what on the OPC UA server.
 *
 * - Endpoints: the configured message security modes × policies; `None` only when listed
 *   (then with SecurityPolicy.None, which is the only policy that mode takes).
 * - Users: username/password from the config, the password resolved from the environment or
 *   a systemd credential; compared in constant time (../user-directory.ts, shared with the
 *   technician's page).
 * - Roles (OPC 10000-3 §4.8.2 well-known roles): an operator gets AuthenticatedUser +
 *   Operator, an engineer additionally Engineer. The server enforces them through the
 *   RolePermissions of each writable tag and each method (OPC 10000-3 §5.2.9), so a client
 *   also sees them in UserAccessLevel / UserExecutable before it tries.
 * - A session whose identity matches no configured user (an X509 user token, say) is given
 *   the Anonymous role only: node-opcua would otherwise treat "no role" as "every permission"
 *   (its unresolvedPermissionPolicy "allow").
 */
import {
  MessageSecurityMode,
  PermissionType,
  SecurityPolicy,
  WellKnownRoles,
  makeRoles,
  type NodeId,
  type RolePermissionTypeOptions,
} from 'node-opcua';
import type { OpcuaConfig } from '../../config/opcua.js';
import { UserDirectory as BaseUserDirectory } from '../user-directory.js';

export interface EndpointSecurity {
  readonly securityModes: MessageSecurityMode[];
  readonly securityPolicies: SecurityPolicy[];
}

export function endpointSecurity(config: Pick<OpcuaConfig, 'securityModes' | 'securityPolicies'>): EndpointSecurity {
  const securityModes = config.securityModes.map((m) => MessageSecurityMode[m]);
  const securityPolicies: SecurityPolicy[] = config.securityPolicies.map((p) => SecurityPolicy[p]);
  if (config.securityModes.includes('None')) securityPolicies.push(SecurityPolicy.None);
  return { securityModes, securityPolicies };
}

/** The configured users (../user-directory.ts) with their OPC UA roles. */
export class UserDirectory extends BaseUserDirectory {
  /** The well-known roles of a user; Anonymous for anyone not configured (see file comment). */
  rolesOf(username: string): NodeId[] {
    const role = this.roleOf(username);
    if (role === 'engineer') return makeRoles([WellKnownRoles.AuthenticatedUser, WellKnownRoles.Operator, WellKnownRoles.Engineer]);
    if (role === 'operator') return makeRoles([WellKnownRoles.AuthenticatedUser, WellKnownRoles.Operator]);
    return makeRoles([WellKnownRoles.Anonymous]);
  }
}

const READ = PermissionType.Browse | PermissionType.Read | PermissionType.ReadRolePermissions | PermissionType.ReceiveEvents;
const BROWSE = PermissionType.Browse | PermissionType.ReadRolePermissions;

/** Anyone gets `base`; `who` (operator or engineer) and every engineer get `granted`. */
function rolePermissions(base: number, granted: number, who: 'operator' | 'engineer'): RolePermissionTypeOptions[] {
  return [
    { roleId: WellKnownRoles.Anonymous, permissions: base },
    { roleId: WellKnownRoles.AuthenticatedUser, permissions: base },
    { roleId: WellKnownRoles.Operator, permissions: who === 'operator' ? granted : base },
    { roleId: WellKnownRoles.Engineer, permissions: granted },
  ];
}

/** A tag everyone may read and `writer` (and engineers) may write. */
export function writableBy(writer: 'operator' | 'engineer'): RolePermissionTypeOptions[] {
  return rolePermissions(READ, READ | PermissionType.Write, writer);
}

/** A method everyone may see and `caller` (and engineers) may call. */
export function callableBy(caller: 'operator' | 'engineer'): RolePermissionTypeOptions[] {
  return rolePermissions(BROWSE, BROWSE | PermissionType.Call, caller);
}
