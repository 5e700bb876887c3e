import type { DelegationHolders } from './delegation.repository';

export type DelegationState = 'live' | 'revoked' | 'expired' | 'ended';
/** Why a delegation that was neither revoked nor expired ended: decided from current state on every read. */
export type DelegationEnd =
  | 'person_disabled'
  | 'agent_disabled'
  | 'no_longer_agent'
  | 'passkey_revoked'
  | 'passkey_flagged'
  | 'parent_ended'
  | 'person_sessions_ended'
  | 'agent_sessions_ended';

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
  // Ended for good: a disable or a flagged passkey raised the generation since the approval, whatever the state is
  // now (enabled again, unflagged), as for sessions and tokens.
  if (user.sessionGeneration !== d.personGeneration) return ended('person_sessions_ended');
  if (agent.sessionGeneration !== d.agentGeneration) return ended('agent_sessions_ended');
  if (
    d.parentId &&
    (!parent ||
      parent.revokedAt ||
      parent.agentDisabledAt ||
      parent.agentSessionGeneration !== parent.agentGeneration ||
      parent.expiresAt.getTime() <= now.getTime())
  )
    return ended('parent_ended');
  return { state: 'live' };
}
