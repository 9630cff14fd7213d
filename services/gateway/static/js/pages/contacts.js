// Contacts: "General" ones come from billing records and are shown read-only.

import { ApiError, api, getOptional } from "../api.js";
import { clearFormError, field, formError, h, mount, notice, showFormError } from "../dom.js";

const isGeneral = (c) => String(c.type ?? c.contact_type).toLowerCase() === "general" || c.editable === false;

function contactItem(c, announce, rerender) {
  const type = c.type ?? c.contact_type;
  const view = h("div", {}, h("h2", {}, c.name, " ", h("span", { class: "badge" }, type)),
    h("p", {}, h("a", { href: `mailto:${c.email}` }, c.email)), c.phone ? h("p", {}, c.phone) : null);
  if (isGeneral(c)) {
    return h("li", { class: "card contact read-only" }, view,
      h("p", { class: "hint" }, "General contacts come from your billing records and cannot be changed here."));
  }
  const name = h("input", { name: "name", value: c.name, required: true });
  const email = h("input", { name: "email", type: "email", value: c.email, required: true });
  const form = h("form", { hidden: true, novalidate: true, "aria-label": `Edit ${c.name}` },
    field("Name", name), field("Email", email), formError(),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Cancel")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    try {
      await api.patch(`/api/v1/contacts/${encodeURIComponent(c.contact_id ?? c.id)}`, { name: name.value.trim(), email: email.value.trim() });
      announce("Contact saved.");
      rerender();
    } catch (err) {
      announce(showFormError(form, err instanceof ApiError && err.notAvailable ? new Error("Editing contacts is not available yet.") : err));
    }
  });
  return h("li", { class: "card contact" }, view,
    h("button", { type: "button", onclick: () => { form.hidden = false; name.focus(); } }, "Edit"), form);
}

export async function contactsPage(view, { announce, rerender }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, "Contacts"));
  const body = await getOptional("/api/v1/contacts");
  if (body === null) return mount(view, head, notice("info", "Contacts are not available yet."));
  const items = Array.isArray(body) ? body : body.contacts || body.items || [];
  mount(view, head, items.length ? h("ul", { class: "contacts" }, items.map((c) => contactItem(c, announce, rerender)))
    : notice("info", "We have no contact details for you yet: please add them so you can receive notifications."));
}
