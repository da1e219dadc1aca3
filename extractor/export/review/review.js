"use strict";
// The review page: a paged document list, and one document at a time rendered from its own
// JSON block, so a batch of thousands opens as fast as its index parses. Article text and
// every value reach the DOM through textContent only, never as HTML.
(function () {
  const PAGE = 100;
  const TYPES = ["actor", "event", "sanction"];
  const $ = (id) => document.getElementById(id);
  const index = JSON.parse($("index").textContent);
  const docs = index.documents;
  let page = 0, shown = docs.map((_, i) => i), current = null;
  // Corrections (`extractor gold from-review` turns the download into eval cases): the gold
  // fields of each record type, as docs/EVAL_FORMAT.md names them.
  const GOLD = {
    actor: ["name", "aliases", "kind"],
    event: ["type", "perpetrators", "targets", "country", "admin1", "location", "date", "fatalities"],
    sanction: ["target", "authority", "measure", "status", "program", "amount", "currency"],
  };
  const LISTS = new Set(["aliases", "perpetrators", "targets"]), NUMBERS = new Set(["fatalities", "amount"]);
  const STORE = "extractor-corrections:" + index.batch_id;
  let corrections = {};
  try { corrections = JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { corrections = {}; }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function summary() {
    const s = index.summary, h = $("summary");
    const parts = [
      [String(s.documents), s.documents === 1 ? " document" : " documents"],
      [`${s.records.actors} / ${s.records.events} / ${s.records.sanctions}`, " actors / events / sanctions"],
      [`${s.prompt_tokens.toLocaleString("en")}+${s.completion_tokens.toLocaleString("en")}`, " tokens"],
      [String(s.model_calls), " model calls"], [String(s.reasks), " re-asks"], [String(s.cache_hits), " cache hits"],
      [s.document_seconds.toFixed(1) + " s", " extracting"],
    ];
    if (s.cost !== undefined) parts.push([s.cost.toFixed(4), " cost"]);
    if (s.ungrounded) parts.push([String(s.ungrounded), " ungrounded"]);
    if (index.bad_lines) parts.push([String(index.bad_lines), " unreadable input lines"]);
    parts.forEach(([b, rest], i) => { if (i) h.append(" · "); h.append(el("b", { text: b }), rest); });
  }

  function listPage() {
    const list = $("doc-list");
    list.replaceChildren();
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(page, pages - 1);
    for (const i of shown.slice(page * PAGE, (page + 1) * PAGE)) {
      const d = docs[i];
      const li = el("li", { "data-doc": String(i), title: d.source },
        el("div", { text: d.source }),
        el("span", { class: "counts", text: `${d.counts.actors} actors · ${d.counts.events} events · ${d.counts.sanctions} sanctions` }));
      if (d.warnings) li.append(el("span", { class: "warn", text: ` · ⚠ ${d.warnings}` }));
      if (d.flagged) li.append(el("span", { class: "bad", text: ` · ${d.flagged} flagged` }));
      if (i === current) li.classList.add("current");
      li.addEventListener("click", () => { location.hash = "doc=" + i; });
      list.append(li);
    }
    $("page").textContent = `${page + 1} / ${pages} (${shown.length})`;
  }

  function filterDocs() {
    const q = $("doc-filter").value.toLowerCase();
    shown = docs.map((_, i) => i).filter((i) => !q || docs[i].source.toLowerCase().includes(q));
    page = 0;
    listPage();
  }

  function fieldsOf(r) {
    return Object.entries(r.fields).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`).join(" · ");
  }

  function correctionOf(source) {
    return corrections[source] || (corrections[source] = { document: source, wrong: [], fix: {}, add: {} });
  }

  function saveCorrections() {
    try { localStorage.setItem(STORE, JSON.stringify(corrections)); } catch (e) { /* private mode: kept in memory */ }
    const n = Object.values(corrections).filter((c) => c.wrong.length || Object.keys(c.fix).length || Object.keys(c.add).length).length;
    $("download").textContent = `download corrections (${n} document${n === 1 ? "" : "s"})`;
  }

  function parseValue(field, raw) {
    const text = raw.trim();
    if (!text) return LISTS.has(field) ? [] : null;
    if (LISTS.has(field)) return text.split(",").map((v) => v.trim()).filter(Boolean);
    if (NUMBERS.has(field)) { const n = Number(text); return Number.isFinite(n) ? n : text; }
    return text;
  }

  function shownValue(v) { return v === null || v === undefined ? "" : Array.isArray(v) ? v.join(", ") : String(v); }

  function fixEditor(source, r, row) {
    const box = el("div", { class: "fix-editor" });
    const fix = correctionOf(source).fix[r.key] || {};
    const inputs = {};
    for (const field of GOLD[r.type]) {
      const value = field in fix ? fix[field] : (field === "type" ? r.event_type : r.fields[field]);
      inputs[field] = el("input", { name: field, value: shownValue(value) });
      box.append(el("label", { text: field + " " }, inputs[field]));
    }
    const save = el("button", { type: "button", class: "save-fix", text: "save fix" });
    save.addEventListener("click", (ev) => {
      ev.stopPropagation();
      const changes = {};
      for (const [field, input] of Object.entries(inputs)) {
        const before = shownValue(field === "type" ? r.event_type : r.fields[field]);
        if (input.value.trim() !== before) changes[field] = parseValue(field, input.value);
      }
      const c = correctionOf(source);
      if (Object.keys(changes).length) c.fix[r.key] = changes; else delete c.fix[r.key];
      row.classList.toggle("fixed", Object.keys(changes).length > 0);
      box.remove();
      saveCorrections();
    });
    box.append(save);
    box.addEventListener("click", (ev) => ev.stopPropagation());
    return box;
  }

  function reviewButtons(source, r, row) {
    const c = correctionOf(source);
    const wrong = el("button", { type: "button", class: "mark-wrong", text: "wrong" });
    const fix = el("button", { type: "button", class: "fix", text: "fix" });
    row.classList.toggle("wrong", c.wrong.includes(r.key));
    row.classList.toggle("fixed", r.key in c.fix);
    wrong.addEventListener("click", (ev) => {
      ev.stopPropagation();
      c.wrong = c.wrong.includes(r.key) ? c.wrong.filter((k) => k !== r.key) : [...c.wrong, r.key];
      row.classList.toggle("wrong", c.wrong.includes(r.key));
      saveCorrections();
    });
    fix.addEventListener("click", (ev) => {
      ev.stopPropagation();
      const open = row.querySelector(".fix-editor");
      if (open) open.remove(); else row.append(fixEditor(source, r, row));
    });
    return el("span", { class: "review" }, wrong, fix);
  }

  function addMissed(source) {
    const box = el("div", { class: "add-missed" }, el("b", { text: "add a missed record " }));
    const kind = el("select", { id: "add-type" });
    for (const t of TYPES) kind.append(el("option", { value: t, text: t }));
    const area = el("textarea", { id: "add-json", rows: "3" });
    const template = () => { area.value = JSON.stringify(Object.fromEntries(GOLD[kind.value].map((f) => [f, LISTS.has(f) ? [] : null]))); };
    template();
    kind.addEventListener("change", template);
    const add = el("button", { type: "button", id: "add-record", text: "add" });
    const note = el("span", { class: "hint" });
    const list = el("ul", { class: "added" });
    const showAdded = () => {
      list.replaceChildren();
      for (const [k, items] of Object.entries(correctionOf(source).add)) for (const item of items) list.append(el("li", { text: `${k}: ${JSON.stringify(item)}` }));
    };
    add.addEventListener("click", () => {
      let record;
      try { record = JSON.parse(area.value); } catch (e) { note.textContent = " not JSON: " + e.message; return; }
      const cleaned = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length)));
      const c = correctionOf(source), key = kind.value + "s";
      c.add[key] = [...(c.add[key] || []), cleaned];
      note.textContent = "";
      template();
      showAdded();
      saveCorrections();
    });
    showAdded();
    box.append(kind, area, add, note, list);
    return box;
  }

  function correctionsFile() {
    const documents = Object.values(corrections)
      .filter((c) => c.wrong.length || Object.keys(c.fix).length || Object.keys(c.add).length || c.reviewed)
      .map((c) => ({ document: c.document, wrong: c.wrong, fix: c.fix, add: c.add }));
    return { format: "extractor-corrections/1", documents };
  }
  window.extractorCorrections = correctionsFile;

  function download() {
    const blob = new Blob([JSON.stringify(correctionsFile(), null, 1) + "\n"], { type: "application/json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: "corrections.json" });
    document.body.append(a);
    a.click();
    a.remove();
  }

  function open(i) {
    const d = docs[i];
    if (!d) return;
    current = i;
    const data = JSON.parse($("doc-" + i).textContent);
    const main = $("doc");
    main.replaceChildren();
    main.append(el("h2", { text: data.source }));
    const m = data.meta;
    main.append(el("p", { class: "meta", text:
      `${m.model} · prompt ${m.prompt_version} · ${m.prompt_tokens}+${m.completion_tokens} tokens · ${m.seconds.toFixed(1)} s · ` +
      `cache ${m.cache_hit ? "hit" : "miss"} · ${m.model_calls} model calls · ${m.reasks} re-asks` + (m.published ? ` · published ${m.published}` : "") }));
    if (m.warnings.length || data.text_problem) {
      const box = el("div", { class: "warnings" });
      if (data.text_problem) box.append(el("div", { text: "article text not shown: " + data.text_problem }));
      for (const w of m.warnings) box.append(el("div", { text: "⚠ " + w }));
      main.append(box);
    }
    // filters
    const filters = el("div", { class: "filters" });
    const checks = {};
    for (const t of TYPES) {
      const box = el("input", { type: "checkbox", id: "show-" + t });
      box.checked = true;
      checks[t] = box;
      filters.append(el("label", { class: "legend t-" + t }, box, ` ${t}s`));
    }
    const etype = el("select", { id: "event-type" }, el("option", { value: "", text: "all event types" }));
    for (const t of index.event_types) etype.append(el("option", { value: t, text: t }));
    const actor = el("select", { id: "actor" }, el("option", { value: "", text: "all actors" }));
    for (const name of [...new Set(data.records.flatMap((r) => r.actors))].sort())
      actor.append(el("option", { value: name, text: name }));
    filters.append(etype, actor);
    main.append(filters);
    // text with highlights
    const columns = el("div", { class: "columns" });
    const text = el("div", { id: "text" });
    const byKey = Object.fromEntries(data.records.map((r) => [r.key, r]));
    if (data.segments) {
      for (const [chunk, keys] of data.segments) {
        if (!keys.length) { text.append(chunk); continue; }
        const types = new Set(keys.map((k) => byKey[k].type));
        const mark = el("mark", { class: "t-" + byKey[keys[0]].type + (types.size > 1 ? " multi" : ""), "data-recs": keys.join(" ") });
        mark.textContent = chunk;
        mark.addEventListener("click", () => select(keys, "text"));
        text.append(mark);
      }
    } else {
      text.append(el("p", { class: "hint", text: "The article text is not available; the records and their quotes are on the right." }));
    }
    const records = el("div", { id: "records" });
    for (const t of ["event", "sanction", "actor"]) {  // what analysts review first
      const group = data.records.filter((r) => r.type === t);
      records.append(el("h3", { text: `${t}s (${group.length})` }));
      for (const r of group) {
        const row = el("div", { class: "rec r-" + t, "data-key": r.key, id: "rec-" + r.key },
          el("b", { text: `${r.key} ${r.label}` }));
        if (!r.grounded) row.append(el("span", { class: "badge", text: "ungrounded" }));
        if (r.fields.checks && r.fields.checks.length) row.append(el("span", { class: "badge", text: "checks failed", title: r.fields.checks.join("; ") }));
        else if (!r.highlighted && data.segments) row.append(el("span", { class: "badge", text: "quote not at its offsets" }));
        row.append(reviewButtons(data.source, r, row));
        row.append(el("div", { class: "fields", text: fieldsOf(r) }));
        if (r.quote) row.append(el("q", { text: r.quote }));
        row.addEventListener("click", () => select([r.key], "records"));
        records.append(row);
      }
    }
    const reviewed = el("input", { type: "checkbox", id: "reviewed" });
    reviewed.checked = Boolean(correctionOf(data.source).reviewed);
    reviewed.addEventListener("change", () => { correctionOf(data.source).reviewed = reviewed.checked; saveCorrections(); });
    records.prepend(el("label", { class: "reviewed", text: " reviewed: every record not marked wrong is right" }));
    records.firstChild.prepend(reviewed);
    records.append(addMissed(data.source));
    columns.append(text, records);
    main.append(columns);
    const apply = () => {
      const visible = new Set(data.records.filter((r) => checks[r.type].checked
        && (!etype.value || r.type !== "event" || r.event_type === etype.value)
        && (!actor.value || r.actors.includes(actor.value))).map((r) => r.key));
      for (const row of records.querySelectorAll(".rec")) row.classList.toggle("hidden", !visible.has(row.dataset.key));
      for (const mark of text.querySelectorAll("mark")) {
        mark.classList.toggle("off", !mark.dataset.recs.split(" ").some((k) => visible.has(k)));
      }
    };
    for (const c of [...Object.values(checks), etype, actor]) c.addEventListener("change", apply);
    listPage();
  }

  function select(keys, from) {
    const wanted = new Set(keys);
    for (const node of document.querySelectorAll(".selected")) node.classList.remove("selected");
    const marks = [...document.querySelectorAll("#text mark")].filter((m) => m.dataset.recs.split(" ").some((k) => wanted.has(k)));
    const rows = keys.map((k) => $("rec-" + k)).filter(Boolean);
    for (const node of [...marks, ...rows]) node.classList.add("selected");
    const target = from === "records" ? marks[0] : rows[0];
    if (target) target.scrollIntoView({ block: "center" });
  }

  function route() {
    const match = /doc=(\d+)/.exec(location.hash);
    if (match) {
      const i = Number(match[1]);
      const at = shown.indexOf(i);
      if (at >= 0) page = Math.floor(at / PAGE);
      open(i);
    }
  }

  summary();
  const button = el("button", { type: "button", id: "download" });
  button.addEventListener("click", download);
  $("summary").append(" ", button);
  saveCorrections();
  $("doc-filter").addEventListener("input", filterDocs);
  $("prev").addEventListener("click", () => { page = Math.max(0, page - 1); listPage(); });
  $("next").addEventListener("click", () => { page += 1; listPage(); });
  window.addEventListener("hashchange", route);
  listPage();
  if (!/doc=\d+/.test(location.hash) && docs.length) location.hash = "doc=0"; else route();
  document.body.dataset.ready = "1";
})();
