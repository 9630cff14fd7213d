// Contacts of the accounts in view: add and edit your own; "General" ones come from billing
// records and are shown read-only.

import { ApiError, api, getOptional } from "../api.js";
import { clearFormError, field, formError, h, mount, notice, select, showErrorAt, showFormError } from "../dom.js";
import { ofCustomerInView } from "../state.js";
import { accounts } from "./accounts.js";

const GENERAL = "General";
const GENERAL_EXPLAINED = "General contacts come from your billing records, so they cannot be added or changed here; "
  + "to change one, update your billing details with us.";
const TYPES = ["Site", "Billing", "Energy manager", "Finance"];

const isGeneral = (c) => String(c.type ?? c.contact_type).toLowerCase() === GENERAL.toLowerCase() || c.editable === false;

function contactItem(c, accountName, announce, rerender) {
  const type = c.type ?? c.contact_type;
  const view = h("div", {}, h("h2", {}, c.name, " ", h("span", { class: "badge" }, type)),
    accountName ? h("p", { class: "muted" }, accountName) : null,
    c.email ? h("p", {}, h("a", { href: `mailto:${c.email}` }, c.email)) : null, c.phone ? h("p", {}, c.phone) : null);
  if (isGeneral(c)) {
    return h("li", { class: "card contact read-only" }, view, h("p", { class: "hint" }, "Read-only. ", GENERAL_EXPLAINED));
  }
  const name = h("input", { name: "name", value: c.name, required: true, autocomplete: "off" });
  const email = h("input", { name: "email", type: "email", value: c.email || "", autocomplete: "off" });
  const phone = h("input", { name: "phone", type: "tel", value: c.phone || "", autocomplete: "off" });
  const form = h("form", { hidden: true, novalidate: true, "aria-label": `Edit ${c.name}` },
    field("Name", name), field("Email", email), field("Phone", phone), formError(),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Cancel")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    try {
      await api.patch(`/api/v1/contacts/${encodeURIComponent(c.contact_id ?? c.id)}`,
        { name: name.value.trim(), email: email.value.trim() || null, phone: phone.value.trim() || null });
      announce("Contact saved.");
      rerender();
    } catch (err) {
      announce(showFormError(form, err instanceof ApiError && err.notAvailable ? new Error("Editing contacts is not available yet.") : err));
    }
  });
  return h("li", { class: "card contact" }, view,
    h("button", { type: "button", "aria-label": `Edit ${c.name}`, onclick: () => { form.hidden = false; name.focus(); } }, "Edit"), form);
}

function addForm(accountList, announce, rerender) {
  const account = select("account", accountList.map((a) => [a.id, a.name]));
  const types = h("datalist", { id: "contact-types" }, TYPES.map((t) => h("option", { value: t })));
  const type = h("input", { name: "type", value: "Site", required: true, maxlength: 20, list: types.id, autocomplete: "off" });
  const name = h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off" });
  const email = h("input", { name: "email", type: "email", maxlength: 254, autocomplete: "off" });
  const phone = h("input", { name: "phone", type: "tel", maxlength: 40, autocomplete: "off" });
  const form = h("form", { class: "card add-contact", "aria-labelledby": "add-contact-title", novalidate: true },
    h("h2", { id: "add-contact-title" }, "Add a contact"),
    h("p", { class: "muted" }, "Someone we can reach about an account's energy data and alerts. An account awaiting contact details is enrolled once it has one."),
    accountList.length > 1 ? field("Account", account) : h("input", { type: "hidden", name: "account", value: accountList[0].id }),
    h("div", { class: "row" }, field("Name", name), field("Type", type, "For example Site or Billing. General contacts come from billing records.")),
    types,
    h("div", { class: "row" }, field("Email", email), field("Phone", phone, "Optional.")),
    formError(),
    h("button", { type: "submit", class: "primary" }, "Add contact"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormError(form);
    const accountId = form.elements.account.value;
    const body = { name: name.value.trim(), type: type.value.trim(), email: email.value.trim() || null, phone: phone.value.trim() || null };
    try {
      await api.post(`/api/v1/accounts/${encodeURIComponent(accountId)}/contacts`, body);
      announce(`Contact ${body.name} added.`);
      rerender();
    } catch (err) {
      if (err instanceof ApiError && err.notAvailable) return announce(showFormError(form, new Error("Adding contacts is not available yet.")));
      // Plain-text refusals: a General contact (type) or an account that is not yours.
      announce(showErrorAt(form, err, (message) => (/general/i.test(message) ? [type] : /account/i.test(message) ? [account] : [])));
    }
  });
  return form;
}

export async function contactsPage(view, { announce, rerender }) {
  const head = h("div", { class: "page-head" }, h("h1", {}, "Contacts"),
    h("p", { class: "muted" }, "Who we contact about your accounts. General contacts come from your billing records and are read-only here."));
  const [body, accountList] = await Promise.all([getOptional("/api/v1/contacts"), accounts().then(ofCustomerInView)]);
  if (body === null) return mount(view, head, notice("info", "Contacts are not available yet."));
  const names = new Map(accountList.map((a) => [a.id, a.name]));
  const items = (Array.isArray(body) ? body : body.contacts || body.items || []).filter((c) => names.has(c.account_id));
  mount(view, head,
    items.length ? h("ul", { class: "contacts" }, items.map((c) => contactItem(c, names.size > 1 ? names.get(c.account_id) : null, announce, rerender)))
      : notice("info", "We have no contact details for you yet: please add them so you can receive notifications."),
    accountList.length ? addForm(accountList, announce, rerender) : null);
}
