/* postdesk portal — how numbers, words and dates read, as window.postdeskFmt:
 *  - time(iso): a <time> element, local time (relative when recent: "5 min
 *    ago", "yesterday 14:02"), the UTC time in its title;
 *  - when(iso): the same words as text; utc(iso): "2026-01-15 10:30:00 UTC";
 *  - plural(n, one, many): "1 message", "2 messages";
 *  - range(first, shown, total, one, many): "1–50 of 312 tickets".
 * The API's times are UTC, "YYYY-MM-DDTHH:MM:SSZ" (docs/ARCHITECTURE.md).
 * Loaded right after dom.js; needs nothing else.
 */
'use strict';

(function () {
  const { h } = window.postdeskDom;
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const MINUTE = 60000;
  const DAY = 86400000;

  function parse(iso) {
    if (!iso) return null;
    const d = new Date(String(iso));
    return isNaN(d.getTime()) ? null : d;
  }

  function two(n) { return (n < 10 ? '0' : '') + n; }

  function utc(iso) {
    const d = parse(iso);
    if (!d) return String(iso || '');
    return d.getUTCFullYear() + '-' + two(d.getUTCMonth() + 1) + '-' + two(d.getUTCDate()) + ' ' +
      two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) + ':' + two(d.getUTCSeconds()) + ' UTC';
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : (many || one + 's'));
  }

  /* Whole local days from now's day to d's (-1 yesterday, 1 tomorrow). */
  function dayDiff(d, now) {
    const a = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate());
    const b = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    return Math.round((a - b) / DAY);
  }

  const DAY_WORDS = { '-1': 'yesterday', 0: 'today', 1: 'tomorrow' };

  /* Local time in words; now: a Date (tests pass one). */
  function when(iso, now) {
    const d = parse(iso);
    if (!d) return iso ? String(iso) : '—';
    now = now || new Date();
    const ms = now.getTime() - d.getTime();
    const hm = two(d.getHours()) + ':' + two(d.getMinutes());
    if (Math.abs(ms) < MINUTE) return 'just now';
    if (Math.abs(ms) < 60 * MINUTE) {
      const m = plural(Math.floor(Math.abs(ms) / MINUTE), 'min', 'min');
      return ms > 0 ? m + ' ago' : 'in ' + m;
    }
    const days = dayDiff(d, now);
    if (DAY_WORDS[days]) return DAY_WORDS[days] + ' ' + hm;
    const date = d.getDate() + ' ' + MONTHS[d.getMonth()];
    return (d.getFullYear() === now.getFullYear() ? date : date + ' ' + d.getFullYear()) + ', ' + hm;
  }

  /* A <time> element: local words shown, UTC in the title. */
  function time(iso, props) {
    if (!parse(iso)) return h('span', Object.assign({ class: 'muted', text: iso ? String(iso) : '—' }, props));
    return h('time', Object.assign({ datetime: String(iso), title: utc(iso), text: when(iso) }, props));
  }

  /* "1–50 of 312 tickets"; all of them on one page: "3 tickets". */
  function range(first, shown, total, one, many) {
    if (first <= 1 && shown >= total) return plural(total, one, many);
    return first + '–' + (first + shown - 1) + ' of ' + plural(total, one, many);
  }

  window.postdeskFmt = Object.freeze({ utc, when, time, plural, range });
}());
