/*
 * The access a person delegates to an agent, as an OAuth scope (RFC 6749 §3.3): space-separated items
 * `dag:<action>:<selector>` with action `read`, `trigger` or `clear` (clear includes marking task states) and selector
 * `id=<glob>` (DAG ids; `*` and `?` are the only wildcards) or `tag=<tag>`. Pure: no I/O, so Airflow's plugin and this
 * service decide on the same canonical text.
 */

export const DAG_ACTIONS = ['read', 'trigger', 'clear'] as const;
export type DagAction = (typeof DAG_ACTIONS)[number];

export interface DagScopeItem {
  action: DagAction;
  kind: 'id' | 'tag';
  /** A glob over DAG ids (kind id) or a tag (kind tag), exactly as written. */
  value: string;
}

/** Airflow's DAG ids are letters, digits, `_ . -`; globs add `*` and `?`, nothing else (no ranges, no escapes). */
const ID_GLOB = /^[A-Za-z0-9_.*?-]{1,250}$/;
const TAG = /^[A-Za-z0-9_.:/-]{1,100}$/;
const ITEM = /^dag:([a-z]+):(id|tag)=(.*)$/;
/** Bounds on what one delegation may name: enough for real grants, small enough to show on one approval page. */
export const MAX_SCOPE_ITEMS = 20;
export const MAX_SCOPE_LENGTH = 2000;

export class DagScopeError extends Error {}

/** True when the scope text names agents' DAG access (any `dag:` item), to route a request to delegation. */
export function isDagScope(scope: string | undefined): boolean {
  return (scope ?? '').split(' ').some((token) => token.startsWith('dag:'));
}

/**
 * Parses and canonicalises: duplicates removed, items ordered by action (read, trigger, clear), then kind, then value.
 * Throws DagScopeError naming the first bad item; an empty scope is an error (a delegation always names something).
 */
export function parseDagScope(text: string): DagScopeItem[] {
  if (text.length > MAX_SCOPE_LENGTH) throw new DagScopeError(`scope is longer than ${MAX_SCOPE_LENGTH} characters`);
  const tokens = [...new Set(text.split(' ').filter(Boolean))];
  if (!tokens.length) throw new DagScopeError('scope names no dag:<action>:<selector> item');
  if (tokens.length > MAX_SCOPE_ITEMS) throw new DagScopeError(`scope names more than ${MAX_SCOPE_ITEMS} items`);
  const items = tokens.map(parseItem);
  return items.sort(compareItems);
}

function parseItem(token: string): DagScopeItem {
  const shown = JSON.stringify(token.slice(0, 60));
  const match = ITEM.exec(token);
  if (!match) throw new DagScopeError(`${shown} is not dag:<read|trigger|clear>:<id=GLOB|tag=TAG>`);
  const [, action, kind, value] = match as unknown as [string, string, 'id' | 'tag', string];
  if (!(DAG_ACTIONS as readonly string[]).includes(action))
    throw new DagScopeError(`${shown}: the action must be read, trigger or clear`);
  if (kind === 'id' && !ID_GLOB.test(value))
    throw new DagScopeError(`${shown}: a DAG id glob is 1-250 of letters, digits, _ . - and the wildcards * ?`);
  if (kind === 'tag' && !TAG.test(value))
    throw new DagScopeError(`${shown}: a tag is 1-100 of letters, digits and _ . : / -`);
  return { action: action as DagAction, kind, value };
}

function compareItems(a: DagScopeItem, b: DagScopeItem): number {
  return (
    DAG_ACTIONS.indexOf(a.action) - DAG_ACTIONS.indexOf(b.action) ||
    a.kind.localeCompare(b.kind) ||
    (a.value < b.value ? -1 : a.value > b.value ? 1 : 0)
  );
}

export function formatDagScope(items: readonly DagScopeItem[]): string {
  return items.map((i) => `dag:${i.action}:${i.kind}=${i.value}`).join(' ');
}

/** The canonical text of a scope (parse + format): what is stored, signed into tokens and compared. */
export function canonicalDagScope(text: string): string {
  return formatDagScope(parseDagScope(text));
}

/** Whether a DAG id matches an id glob (`*` any run, `?` one character; everything else literal). */
export function dagIdMatches(glob: string, dagId: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`).test(dagId);
}

const hasWildcard = (glob: string) => /[*?]/.test(glob);

/**
 * Whether `item` allows nothing that `by` does not, decided conservatively (a "no" may be too strict, never too
 * lax): the same action, and the same selector; or `by` is `id=*` (every DAG); or `item` is one literal DAG id that
 * `by`'s id glob matches. Globs are never compared with globs, nor tags with ids.
 */
function coveredBy(item: DagScopeItem, by: DagScopeItem): boolean {
  if (item.action !== by.action) return false;
  if (by.kind === 'id' && by.value === '*') return true;
  if (item.kind === by.kind && item.value === by.value) return true;
  return item.kind === 'id' && by.kind === 'id' && !hasWildcard(item.value) && dagIdMatches(by.value, item.value);
}

/** Whether every item of `narrower` is covered by some item of `wider` (so a token with it is never wider). */
export function dagScopeWithin(narrower: readonly DagScopeItem[], wider: readonly DagScopeItem[]): boolean {
  return narrower.every((item) => wider.some((by) => coveredBy(item, by)));
}
