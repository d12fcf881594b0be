// The looked-up event and user, rendered for a person: the fields that matter first, the
// raw JSON one click away. Rule: the ids shown are links that look the event or user up in
// turn, and nothing here interprets an API value as markup (see dom.js).
import { drawBars } from './charts.js';
import { fmtInt, fmtTime, h } from './dom.js';

function row(term, ...value) {
  return [h('dt', {}, term), h('dd', {}, ...value)];
}

function linkButton(text, onClick, cls = 'link') {
  return h('button', { type: 'button', class: cls, onclick: () => onClick(text) }, text);
}

function raw(value) {
  return h('details', { class: 'raw' }, h('summary', {}, 'raw JSON'), h('pre', {}, JSON.stringify(value, null, 2)));
}

function money(r) {
  return r === undefined ? null : `${r.amount ?? r.revenue} ${r.currency}`;
}

/**
 * A stored event (`GET /v1/events/:id`).
 *
 * @example
 * put(el, eventView(event, { user: lookUpUser }));
 */
export function eventView(e, links) {
  const demo = e.user ? Object.entries(e.user).map(([k, v]) => `${k} ${v}`).join(' · ') : null;
  const props = Object.entries(e.properties ?? {});
  return h('article', { class: 'found event', 'data-event-id': e.id },
    h('div', { class: 'found-head' },
      h('span', { class: 'pill' }, e.type), h('span', { class: 'pill alt' }, e.source),
      e.funnelStage ? h('span', { class: 'pill stage' }, e.funnelStage) : null),
    h('dl', { class: 'kv' },
      row('id', h('code', {}, e.id)),
      row('occurred', h('time', { datetime: e.occurredAt, title: e.occurredAt }, fmtTime(e.occurredAt))),
      e.receivedAt ? row('received', h('time', { datetime: e.receivedAt, title: e.receivedAt }, fmtTime(e.receivedAt))) : null,
      e.userId ? row('user', linkButton(e.userId, links.user)) : null,
      e.sessionId ? row('session', h('code', {}, e.sessionId)) : null,
      e.revenue ? row('revenue', money(e.revenue)) : null,
      demo ? row('profile', demo) : null,
      props.length > 0 ? row('properties', h('ul', { class: 'props' }, props.map(([k, v]) => h('li', {}, h('code', {}, k), ' ', String(v))))) : null),
    raw(e));
}

/**
 * A user's profile (`GET /v1/users/:userId`, DESIGN.md *Analytics*).
 *
 * @example
 * put(el, userView(user, { event: lookUpEvent }));
 */
export function userView(u, links) {
  const profile = Object.entries(u.profile ?? {});
  const types = h('ol', { class: 'hbars compact' });
  drawBars(types, (u.types ?? []).map((t) => ({ label: t.type, value: t.count })), 'no events');
  const recent = u.recent ?? [];
  return h('article', { class: 'found user', 'data-user-id': u.userId },
    h('div', { class: 'found-head' }, h('code', { class: 'big' }, u.userId),
      h('span', { class: 'pill' }, `${fmtInt(u.events)} events`)),
    h('dl', { class: 'kv' },
      row('first seen', h('time', { datetime: u.firstSeen, title: u.firstSeen }, fmtTime(u.firstSeen))),
      row('last seen', h('time', { datetime: u.lastSeen, title: u.lastSeen }, fmtTime(u.lastSeen))),
      profile.length > 0 ? row('profile', profile.map(([k, v]) => `${k} ${v}`).join(' · ')) : null,
      (u.revenue ?? []).length > 0 ? row('revenue', u.revenue.map((r) => `${r.revenue} ${r.currency}`).join(' · ')) : null),
    h('h3', {}, 'Events by type'), types,
    recent.length === 0 ? null : h('h3', {}, `Recent events (${recent.length})`),
    recent.length === 0 ? null : h('ol', { class: 'recent' }, recent.map((e) =>
      h('li', {},
        h('time', { datetime: e.occurredAt, title: e.occurredAt }, fmtTime(e.occurredAt)),
        h('span', { class: 'pill' }, e.type), h('span', { class: 'muted' }, e.source),
        linkButton(e.id, links.event)))),
    raw(u));
}
