// Visual segment builder: edits the same rule JSON as the expert textarea.
// The textarea (name="rules") stays the one value the form posts; the builder
// reads it on load and writes it on every change. No inline script (strict CSP):
// the field list comes from a json_script element.
(function () {
  "use strict";
  const root = document.getElementById("segment-builder");
  if (!root) return;
  const textarea = document.getElementById("id_rules");
  const spec = JSON.parse(document.getElementById("segment-fields").textContent);
  const fields = spec.fields, ops = spec.ops, t = spec.text;
  const opsFor = { number: ["eq", "ne", "gt", "gte", "lt", "lte"], choice: ["eq", "ne", "in", "not_in"], text: ["eq", "ne", "in", "not_in"], bool: ["is"] };

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => { if (k === "text") e.textContent = v; else e.setAttribute(k, v); });
    (children || []).forEach((c) => e.appendChild(c));
    return e;
  }
  function select(options, value, cls) {
    const s = el("select", { class: cls });
    options.forEach(([v, label]) => { const o = el("option", { value: v, text: label }); if (v === value) o.selected = true; s.appendChild(o); });
    return s;
  }
  function unwrap(node) { let neg = false; while (node && node.not) { neg = !neg; node = node.not; } return [node || {}, neg]; }

  function condition(rule, negated) {
    const row = el("div", { class: "sb-row", "data-kind": "condition" });
    const first = rule.field in fields ? rule.field : Object.keys(fields)[0];
    const f = select(Object.entries(fields).map(([k, s]) => [k, s.label]), first, "sb-field");
    const op = el("select", { class: "sb-op" });
    const value = el("input", { class: "sb-value", "aria-label": t.value });
    const within = el("input", { class: "sb-within", type: "number", min: "1", max: "3650", placeholder: t.within, "aria-label": t.within });
    const neg = el("label", {}, [el("input", { type: "checkbox", class: "sb-not" }), document.createTextNode(" " + t.not)]);
    const remove = el("button", { type: "button", class: "sb-remove", text: "×", "aria-label": t.remove });
    neg.firstChild.checked = negated;
    function refresh(keep) {
      const s = fields[f.value];
      op.innerHTML = "";
      opsFor[s.kind].forEach((o) => { const opt = el("option", { value: o, text: ops[o] }); if (keep && o === rule.op) opt.selected = true; op.appendChild(opt); });
      within.hidden = !s.windowed;
      // Text with a decimal keyboard: a German "0,7" is accepted (read as 0.7).
      value.type = "text";
      value.inputMode = s.kind === "number" ? "decimal" : "text";
      if (s.kind === "bool") value.setAttribute("list", "sb-bool"); else value.removeAttribute("list");
    }
    refresh(true);
    const v = rule.value;
    value.value = Array.isArray(v) ? v.join(", ") : (v === true ? t.yes : v === false ? t.no : (v === undefined ? "" : String(v)));
    if (rule.within_days) within.value = rule.within_days;
    f.addEventListener("change", () => { refresh(false); write(); });
    remove.addEventListener("click", () => { row.remove(); write(); });
    [op, value, within, neg.firstChild].forEach((x) => x.addEventListener("input", write));
    [op, neg.firstChild].forEach((x) => x.addEventListener("change", write));
    row.append(f, op, value, within, neg, remove);
    return row;
  }

  function group(node, negated, nested) {
    const key = "any" in node ? "any" : "all";
    const box = el("fieldset", { class: "sb-group", "data-kind": "group" });
    const mode = select([["all", t.all], ["any", t.any]], key, "sb-mode");
    const neg = el("label", {}, [el("input", { type: "checkbox", class: "sb-not" }), document.createTextNode(" " + t.not)]);
    neg.firstChild.checked = negated;
    const items = el("div", { class: "sb-items" });
    const addRow = el("button", { type: "button", class: "sb-add", text: t.add_condition });
    const addGroup = el("button", { type: "button", class: "sb-add-group", text: t.add_group });
    box.append(el("legend", {}, [mode, neg]), items, addRow, addGroup);
    if (nested) {
      const remove = el("button", { type: "button", class: "sb-remove", text: "×", "aria-label": t.remove });
      remove.addEventListener("click", () => { box.remove(); write(); });
      box.appendChild(remove);
    }
    (node[key] || []).forEach((child) => items.appendChild(build(child)));
    mode.addEventListener("change", write);
    neg.firstChild.addEventListener("change", write);
    addRow.addEventListener("click", () => { items.appendChild(condition({}, false)); write(); });
    addGroup.addEventListener("click", () => { items.appendChild(group({ all: [] }, false, true)); write(); });
    return box;
  }

  function build(node) {
    const [inner, neg] = unwrap(node);
    return "all" in inner || "any" in inner ? group(inner, neg, true) : condition(inner, neg);
  }

  function parseValue(kind, op, text) {
    if (kind === "number") return text.trim() === "" ? text : Number(text.replace(",", "."));
    if (kind === "bool") { const s = text.trim().toLowerCase(); return s === t.yes.toLowerCase() || s === "true" ? true : s === t.no.toLowerCase() || s === "false" ? false : text; }
    if (op === "in" || op === "not_in") return text.split(",").map((x) => x.trim()).filter(Boolean);
    return text.trim();
  }
  function read(e) {
    let node;
    if (e.dataset.kind === "group") {
      const key = e.querySelector(":scope > legend .sb-mode").value;
      node = { [key]: Array.from(e.querySelector(":scope > .sb-items").children).map(read) };
      return e.querySelector(":scope > legend .sb-not").checked ? { not: node } : node;
    }
    const field = e.querySelector(".sb-field").value, op = e.querySelector(".sb-op").value;
    node = { field: field, op: op, value: parseValue(fields[field].kind, op, e.querySelector(".sb-value").value) };
    const within = e.querySelector(".sb-within").value;
    if (fields[field].windowed && within) node.within_days = parseInt(within, 10);
    return e.querySelector(".sb-not").checked ? { not: node } : node;
  }
  function write() {
    textarea.value = JSON.stringify(read(root.firstElementChild), null, 2);
    textarea.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function load() {
    let rules;
    try { rules = JSON.parse(textarea.value || "{}"); } catch (err) { root.dataset.state = "invalid"; return; }
    if (!rules || typeof rules !== "object" || Array.isArray(rules)) { root.dataset.state = "invalid"; return; }
    if (!Object.keys(rules).length) rules = { all: [] };
    const [inner, neg] = unwrap(rules);
    root.innerHTML = "";
    root.appendChild("all" in inner || "any" in inner ? group(inner, neg, false) : group({ all: [rules] }, false, false));
    root.dataset.state = "ready";
  }
  textarea.addEventListener("change", (ev) => { if (ev.isTrusted) load(); });
  load();
})();
