import type { DelegationHolders } from './delegation.repository';

export type DelegationState = 'live' | 'revoked' | 'expired' | 'ended';
/** Why a delegation that was neither revoked nor expired ended: decided from current state on every read. */
export type DelegationEnd =
  'person_disabled' | 'agent_disabled' | 'no_longer_agent' | 'passkey_revoked' | 'passkey_flagged' | 'parent_ended';

/** The delegation's state now; `live` only while the person, the agent, the approving passkey and any parent are. */
export function delegationState(
  h: DelegationHolders,
  now: Date,
): { state: DelegationState; endedBecause?: DelegationEnd } {
  const { delegation: d, user, agent, passkey, parent } = h;
  if (d.revokedAt) return { state: 'revoked' };
  if (d.expiresAt.getTime() <= now.getTime()) return { state: 'expired' };
  const ended = (endedBecause: DelegationEnd) => ({ state: 'ended' as const, endedBecause });
  if (user.disabledAt) return ended('person_disabled');
  if (agent.disabledAt) return ended('agent_disabled');
  if (!agent.agent) return ended('no_longer_agent');
  if (!passkey || passkey.userId !== user.id || passkey.revokedAt) return ended('passkey_revoked');
  if (passkey.flaggedAt) return ended('passkey_flagged');
  if (
    d.parentId &&
    (!parent || parent.revokedAt || parent.agentDisabledAt || parent.expiresAt.getTime() <= now.getTime())
  )
    return ended('parent_ended');
  return { state: 'live' };
}
