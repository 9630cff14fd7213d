// The in-app notifications inbox and the caller's notification settings: channels (inbox,
// email, a signed webhook), unsubscribing from email and webhooks and resubscribing.

import { api, getOptional, session } from "../api.js";
import { clearFormError, field, fmt, formError, h, mount, notice, showErrorAt } from "../dom.js";

const PREFERENCES = "/api/v1/notifications/preferences";
const CHANNEL_NAMES = { inbox: "In-app inbox", email: "Email", webhook: "Webhook" };

function inbox(items, announce, rerender) {
  if (!items.length) return h("p", { class: "muted" }, "No notifications yet. Trackers and bill alerts will report here.");
  const unread = items.filter((n) => !(n.read ?? n.read_at)).length;
  return [h("p", { class: "muted" }, `${items.length} notifications, ${unread} unread`),
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
    }))];
}

/** The webhook's signing secret, hidden until asked for (it is a credential). */
function secretField(secret) {
  const input = h("input", { id: "webhook-secret", type: "password", value: secret, readonly: true, autocomplete: "off", spellcheck: "false" });
  const toggle = h("button", { type: "button", "aria-pressed": "false", "aria-controls": input.id, onclick: () => {
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    toggle.setAttribute("aria-pressed", String(show));
    toggle.textContent = show ? "Hide secret" : "Show secret";
  } }, "Show secret");
  return h("div", { class: "field" }, h("label", { for: input.id }, "Signing secret"),
    h("div", { class: "inline-control" }, input, toggle),
    h("small", { class: "hint", id: "webhook-secret-hint" },
      "Each webhook is a POST with headers X-Meterstream-Timestamp and X-Meterstream-Signature: "
      + "sha256= followed by the HMAC-SHA256, keyed with this secret, of the timestamp, a dot and the body."));
}

function preferencesForm(prefs, announce, rerender) {
  const checkbox = (channel, label, extra = {}) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "channels", value: channel, checked: prefs.channels.includes(channel) || channel === "inbox", ...extra }), label);
  const webhookUrl = h("input", { type: "url", name: "webhook_url", value: prefs.webhook_url || "", inputmode: "url",
    placeholder: "https://example.com/meterstream-alerts", autocomplete: "url" });
  const channels = h("fieldset", {}, h("legend", {}, "Send my alerts to"),
    checkbox("inbox", "In-app inbox (always on)", { disabled: true }),
    checkbox("email", `Email${session.user?.email ? ` (${session.user.email})` : ""}`),
    checkbox("webhook", "Webhook: a signed HTTP POST to your system"));
  const webhookBox = channels.querySelector("input[value=webhook]");
  const webhook = h("div", { class: "webhook-settings", hidden: !webhookBox.checked },
    field("Webhook URL", webhookUrl, "Where we POST each alert as JSON (https recommended)."), secretField(prefs.webhook_secret));
  webhookBox.addEventListener("change", () => { webhook.hidden = !webhookBox.checked; });

  const form = h("form", { class: "card preferences", "aria-labelledby": "preferences-title", novalidate: true },
    h("h2", { id: "preferences-title" }, "Notification settings"),
    prefs.unsubscribed ? notice("info", "You have unsubscribed: email and webhooks are stopped and alerts arrive in your inbox only. ",
      "The channels below apply again when you resubscribe.") : null,
    channels, webhook, formError(),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save settings")));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    const chosen = [...channels.querySelectorAll("input:checked")].map((i) => i.value);
    // Unticking the webhook keeps its URL for later; the URL is checked only when the webhook is chosen.
    const url = chosen.includes("webhook") ? webhookUrl.value.trim() || null : prefs.webhook_url;
    try {
      await api.put(PREFERENCES, { channels: chosen, webhook_url: url, unsubscribed: prefs.unsubscribed });
      announce("Notification settings saved.");
      rerender();
    } catch (err) {
      announce(showErrorAt(form, err, (message) => (/webhook/i.test(message) ? [webhookUrl] : [])));
    }
  });

  const active = prefs.active_channels.map((c) => CHANNEL_NAMES[c] ?? c).join(", ");
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const subscribe = async (unsubscribed) => {
    try {
      // The saved channels stay as they are: only the subscription changes.
      await api.put(PREFERENCES, { channels: prefs.channels, webhook_url: prefs.webhook_url, unsubscribed });
      announce(unsubscribed ? "You have unsubscribed from email and webhooks." : "You have resubscribed.");
      rerender();
    } catch (err) {
      problem.textContent = err.message;
      problem.hidden = false;
      announce(err.message);
    }
  };
  const subscription = h("section", { class: "card subscription", "aria-labelledby": "subscription-title" },
    h("h2", { id: "subscription-title" }, "Email and webhook alerts"),
    h("p", { class: "subscription-status" }, `${prefs.unsubscribed ? "Unsubscribed" : "Subscribed"}. Alerts now reach you by: ${active}.`),
    prefs.unsubscribed
      ? h("button", { type: "button", class: "primary", onclick: () => subscribe(false) }, "Resubscribe")
      : h("button", { type: "button", class: "danger", onclick: () => subscribe(true) }, "Unsubscribe from email and webhooks"),
    problem,
    h("p", { class: "hint" }, "Unsubscribing stops email and webhooks, as the link in every alert email does; the in-app inbox always works."));
  return [form, subscription];
}

export async function notificationsPage(view, { announce, rerender }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, "Notifications"));
  const [body, prefs] = await Promise.all([getOptional("/api/v1/notifications"), getOptional(PREFERENCES)]);
  if (body === null) return mount(view, head, notice("info", "The notifications inbox is not available yet."));
  const items = Array.isArray(body) ? body : body.notifications || body.items || [];
  mount(view, head, inbox(items, announce, rerender),
    prefs ? preferencesForm(prefs, announce, rerender) : notice("info", "Notification settings are not available yet."));
}
