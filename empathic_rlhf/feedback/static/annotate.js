// Annotator page. Every piece of dialogue text goes into the page through textContent (never parsed as HTML), so
// markup inside a reply is shown as text and never runs. The token comes from the invite link /join/<token>.
"use strict";
(function () {
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  const state = { me: null, cur: null, outcome: null, best: null, ratings: {}, edit: null, shownAt: 0, busy: false };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function api(method, path, body) {
    const res = await fetch(path, {
      method, headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) { const err = new Error(data.detail || res.statusText); err.status = res.status; throw err; }
    return data;
  }

  function setProgress(p) {
    const total = p.done + p.left;
    const pct = total ? Math.round((100 * p.done) / total) : 100;
    $("progress-fill").style.width = pct + "%";
    document.querySelector(".progress").setAttribute("aria-valuenow", String(pct));
    $("progress-text").textContent = p.done + " done · " + p.left + (p.left_capped ? "+" : "") + " left";
  }

  function show(view) {
    setProgress(view.progress);
    state.cur = view.done ? null : view;
    state.outcome = state.best = state.edit = null;
    state.ratings = {};
    $("error").textContent = "";
    $("status").hidden = true;
    $("task").hidden = view.done;
    $("done").hidden = !view.done;
    if (view.done) return;
    const t = view.task;
    $("emotion").textContent = t.emotion || "";
    $("emotion").hidden = !t.emotion;
    $("situation").textContent = t.situation || "";
    $("toggle-situation").hidden = !t.situation;
    const hist = $("history");
    hist.replaceChildren();
    for (const turn of t.history) {
      const li = el("li", { class: "turn " + (turn.role === "listener" || turn.role === "assistant" ? "right" : "left") });
      li.append(el("span", { class: "role" }, turn.role), el("p", {}, turn.text));
      hist.append(li);
    }
    $("k").textContent = String(t.candidates.length);
    renderCandidates();
    state.shownAt = performance.now();
    window.scrollTo(0, 0);
  }

  function renderCandidates() {
    const list = $("candidates");
    list.replaceChildren();
    const crits = state.me.criteria;
    state.cur.task.candidates.forEach((c, i) => {
      const li = el("li", { class: "cand" + (state.best === c.cand_id ? " chosen" : "") });
      const pick = el("button", { type: "button", class: "pick", "aria-pressed": String(state.best === c.cand_id) });
      pick.append(el("span", { class: "num" }, String(i + 1)), el("span", { class: "text" }, c.text));
      pick.addEventListener("click", () => choose("best", c.cand_id));
      li.append(pick);
      const rateThis = crits.length && (state.cur.rate_all || state.best === c.cand_id);
      if (rateThis) li.append(ratingRows(c.cand_id, crits));
      if (state.best === c.cand_id) {
        const editBtn = el("button", { type: "button", class: "link" }, state.edit ? "Editing (kept as extra reply)" : "Edit (E)");
        editBtn.addEventListener("click", () => startEdit(c));
        li.append(editBtn);
        if (state.edit && state.edit.cand_id === c.cand_id) li.append(editBox());
      }
      list.append(li);
    });
    document.querySelectorAll(".outcome").forEach((b) => b.classList.toggle("chosen", b.dataset.outcome === state.outcome));
    $("submit").disabled = state.outcome === null;
  }

  function ratingRows(cid, crits) {
    const box = el("div", { class: "ratings" });
    for (const crit of crits) {
      const fs = el("fieldset", { class: "rate" });
      fs.append(el("legend", {}, crit));
      for (let v = 1; v <= 5; v++) {
        const id = "r-" + cid + "-" + crit + "-" + v;
        const input = el("input", { type: "radio", name: "r-" + cid + "-" + crit, id, value: String(v) });
        if ((state.ratings[cid] || {})[crit] === v) input.checked = true;
        input.addEventListener("change", () => { (state.ratings[cid] = state.ratings[cid] || {})[crit] = v; });
        fs.append(input, el("label", { for: id }, String(v)));
      }
      box.append(fs);
    }
    return box;
  }

  function editBox() {
    const area = el("textarea", { class: "edit", rows: "3", "aria-label": "your better reply" });
    area.value = state.edit.text;
    area.addEventListener("input", () => { state.edit.text = area.value; });
    setTimeout(() => area.focus(), 0);
    return area;
  }

  function startEdit(c) {
    if (!state.edit) state.edit = { cand_id: c.cand_id, text: c.text };
    renderCandidates();
  }

  function choose(outcome, best) {
    if (!state.cur || state.busy) return;
    state.outcome = outcome;
    state.best = best || null;
    if (state.edit && state.edit.cand_id !== state.best) state.edit = null;
    renderCandidates();
  }

  async function submit() {
    if (!state.cur || state.outcome === null || state.busy) return;
    state.busy = true;
    const edit = state.edit && state.edit.text.trim() ? state.edit : null;
    const body = { assignment_id: state.cur.assignment_id, outcome: state.outcome, best: state.best,
      ratings: state.ratings, edit, seconds: (performance.now() - state.shownAt) / 1000 };
    try {
      const res = await api("POST", "/api/labels", body);
      show(res.next);
    } catch (e) {
      if (e.status === 404) show(await api("GET", "/api/next"));  // reservation expired: move on
      else $("error").textContent = "Not saved: " + e.message;
    } finally { state.busy = false; }
  }

  async function undo() {
    if (state.busy) return;
    state.busy = true;
    try {
      const res = await api("POST", "/api/undo");
      show(res.next);
      if (!res.undone) $("error").textContent = "Nothing to undo.";
    } catch (e) { $("error").textContent = "Undo failed: " + e.message; } finally { state.busy = false; }
  }

  function toggleSituation(force) {
    const sit = $("situation");
    sit.hidden = force === undefined ? !sit.hidden : !force;
    $("toggle-situation").textContent = sit.hidden ? "Show situation" : "Hide situation";
    $("toggle-situation").setAttribute("aria-expanded", String(!sit.hidden));
  }

  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.tagName === "TEXTAREA" || (ev.target.tagName === "INPUT" && ev.target.type === "text");
    if (typing) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(); }
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || !state.cur) { if (ev.key === "u" && !state.cur) undo(); return; }
    const n = state.cur.task.candidates.length;
    const key = ev.key.toLowerCase();
    if (/^[1-9]$/.test(key) && Number(key) <= n) choose("best", state.cur.task.candidates[Number(key) - 1].cand_id);
    else if (key === "t") choose("tie");
    else if (key === "b") choose("all_bad");
    else if (key === "s") choose("skip");
    else if (key === "enter") { if (ev.target.tagName === "BUTTON" && ev.target.id !== "submit" && state.outcome === null) return; submit(); }
    else if (key === "u") undo();
    else if (key === "e" && state.best) startEdit(state.cur.task.candidates.find((c) => c.cand_id === state.best));
    else if (key === "escape") choose(null);
    else if (key === "?") window.open("/guidelines", "_blank", "noopener");
    else return;
    ev.preventDefault();
  });

  $("submit").addEventListener("click", submit);
  $("undo").addEventListener("click", undo);
  $("toggle-situation").addEventListener("click", () => toggleSituation());
  document.querySelectorAll(".outcome").forEach((b) => b.addEventListener("click", () => choose(b.dataset.outcome)));

  (async function start() {
    try {
      state.me = await api("GET", "/api/me");
      $("who").textContent = state.me.name;
      toggleSituation(state.me.show_situation);
      show(await api("GET", "/api/next"));
    } catch (e) { $("status").textContent = "Cannot load: " + e.message; }
  })();
})();
