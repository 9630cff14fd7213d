// The in-app notifications inbox.

import { api, getOptional } from "../api.js";
import { fmt, h, mount, notice } from "../dom.js";

export async function notificationsPage(view, { announce, rerender }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, "Notifications"));
  const body = await getOptional("/api/v1/notifications");
  if (body === null) return mount(view, head, notice("info", "The notifications inbox is not available yet."));
  const items = Array.isArray(body) ? body : body.notifications || body.items || [];
  if (!items.length) return mount(view, head, h("p", { class: "muted" }, "No notifications yet. Trackers and bill alerts will report here."));
  const unread = items.filter((n) => !(n.read ?? n.read_at)).length;
  mount(view, head, h("p", { class: "muted" }, `${items.length} notifications, ${unread} unread`),
    h("ul", { class: "inbox" }, items.map((n) => {
      const read = Boolean(n.read ?? n.read_at);
      const id = encodeURIComponent(n.notification_id ?? n.id);
      return h("li", { class: `card ${read ? "read" : "unread"}` },
        h("h2", {}, read ? null : h("span", { class: "badge" }, "New"), " ", n.subject ?? n.title ?? fmt.status(n.kind)),
        h("p", { class: "muted" }, fmt.dateTime(n.created_at ?? n.sent_at ?? n.at)),
        h("p", {}, n.body ?? n.message ?? n.text ?? ""),
        n.link ? h("a", { href: n.link.startsWith("/") && !n.link.startsWith("/#") ? `#${n.link}` : n.link }, "Change this setting") : null,
        read ? null : h("button", { type: "button", onclick: async () => {
          try { await api.post(`/api/v1/notifications/${id}/read`); announce("Marked as read."); rerender(); }
          catch (err) { announce(err.message); }
        } }, "Mark as read"));
    })));
}
