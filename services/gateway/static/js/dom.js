// Tiny DOM helpers: build elements from data without innerHTML, so API text can never inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

/** A labelled form control; the id ties label and control together for screen readers. */
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const hintEl = hint ? h("small", { id: `${id}-hint`, class: "hint" }, hint) : null;
  const error = h("small", { id: `${id}-error`, class: "field-error", role: "alert", hidden: true });
  // The error is announced when it appears (role=alert) and stays part of the control's description.
  control.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl, error);
}

/** Show an API validation error next to the control it concerns (or clear it with message=null). */
export function setFieldError(control, message) {
  const error = document.getElementById(`${control.id}-error`);
  if (!error) return;
  error.textContent = message || "";
  error.hidden = !message;
  control.setAttribute("aria-invalid", message ? "true" : "false");
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: String(v) === String(value) }, text)));
}

export function notice(kind, ...children) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

export const fmt = {
  kwh: (v) => (v === null || v === undefined ? "–" : `${Number(v).toLocaleString("en-GB", { maximumFractionDigits: 1 })} kWh`),
  pct: (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)} %`),
  // UK time whatever the browser's zone: settlement days and the chart's axis are Europe/London.
  date: (iso) => new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "Europe/London" }),
  dateTime: (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/London" }),
  fuel: (f) => (f === "electricity" ? "Power" : f === "gas" ? "Gas" : f),
  status: (s) => String(s || "unknown").replaceAll("_", " "),
};

/**
 * Show an API error on a form: 422 details next to the control they name, anything
 * else in the form's own error line. Returns the message for announcing.
 */
export function showFormError(form, err) {
  for (const control of form.querySelectorAll("[aria-invalid=true]")) setFieldError(control, null);
  const general = form.querySelector(".form-error");
  const unplaced = [];
  for (const { field: name, message } of err.fieldErrors || []) {
    const control = name && form.elements.namedItem(name.split(".").pop());
    if (control && control.id) setFieldError(control, message);
    else unplaced.push(message);
  }
  const text = err.fieldErrors?.length ? unplaced.join("; ") : err.message;
  if (general) {
    general.textContent = text;
    general.hidden = !text;
  }
  return err.message;
}

/**
 * Show an API error whose detail is plain text next to the fields it names: `fieldsNamedIn(message)`
 * returns the controls concerned (none: the form's error line, as showFormError does).
 */
export function showErrorAt(form, err, fieldsNamedIn) {
  const plain = err.status >= 400 && err.status < 500 && !err.fieldErrors?.length;
  const controls = plain ? fieldsNamedIn(err.message).filter((c) => c && c.id && !c.closest("[hidden]")) : [];
  if (!controls.length) return showFormError(form, err);
  clearFormError(form);
  for (const control of controls) setFieldError(control, err.message);
  controls[0].focus();
  return err.message;
}

export function clearFormError(form) {
  for (const control of form.querySelectorAll("[aria-invalid=true]")) setFieldError(control, null);
  const general = form.querySelector(".form-error");
  if (general) { general.textContent = ""; general.hidden = true; }
}

export const formError = () => h("p", { class: "form-error", role: "alert", hidden: true });
