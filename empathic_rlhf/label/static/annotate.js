// Annotator page. Every piece of dialogue text goes into the page through textContent (never parsed as HTML), so
// markup inside a reply is shown as text and never runs. The token comes from the invite link /join/<token>.
"use strict";
(function () {
  const { token, $, el, api } = window.EmpathicPage;  // page.js
  const state = { me: null, cur: null, outcome: null, best: null, ratings: {}, edit: null, shownAt: 0, busy: false,
    pollTimer: null, lookedAt: null, criteriaOpen: null };
  const LONG = 600;  // characters: longer texts are collapsed (a 20,000-character reply would fill a phone 30 times)

  function setProgress(p) {
    const total = p.done + p.left;
    const pct = total ? Math.round((100 * p.done) / total) : 100;
    $("progress-fill").style.width = pct + "%";
    document.querySelector(".progress").setAttribute("aria-valuenow", String(pct));
    $("progress-text").textContent = p.done + " done · " + p.left + (p.left_capped ? "+" : "") + " left";
  }

  // The first labels of a person show the criteria and what Tie / All bad / Skip mean, in place.
  const INTRO_LABELS = 5;

  function show(view) {
    setProgress(view.progress);
    state.cur = view.done ? null : view;
    state.outcome = state.best = state.edit = null;
    state.ratings = {};
    expanded.clear();
    $("error").textContent = "";
    $("picked").textContent = "";
    $("status").hidden = true;
    $("task").hidden = view.done;
    $("done").hidden = !view.done;
    const newcomer = view.progress.done < INTRO_LABELS;
    document.body.classList.toggle("newcomer", newcomer);
    clearTimeout(state.pollTimer);
    if (view.done) { lookLater(); return; }
    $("criteria").open = state.criteriaOpen === null ? newcomer : state.criteriaOpen;
    const t = view.task;
    $("emotion").textContent = t.emotion || "";
    $("emotion").hidden = !t.emotion;
    $("situation").textContent = t.situation || "";
    $("situation").classList.toggle("long", (t.situation || "").length > LONG);
    $("toggle-situation").hidden = !t.situation;
    const hist = $("history");
    hist.replaceChildren();
    for (const turn of t.history) {
      const li = el("li", { class: "turn " + (turn.role === "listener" || turn.role === "assistant" ? "right" : "left") });
      li.append(el("span", { class: "role" }, turn.role), collapsible("p", {}, turn.text));
      hist.append(li);
    }
    $("k").textContent = String(t.candidates.length);
    renderCandidates();
    state.shownAt = performance.now();
    window.scrollTo(0, 0);
  }

  // A refused label (or another message that must not be missed) at the top of the page, task or "All done".
  function notice(text, info) {
    $("notice").textContent = text || "";
    $("notice").hidden = !text;
    $("notice").classList.toggle("info", Boolean(info));
  }

  // "All done": look again now and then (a skip or an expired reservation frees a task), while the page is seen.
  function lookLater() {
    const every = state.me.done_poll_seconds;
    $("done-poll").textContent = "This page looks for new work every " + duration(every) + " while it is open: a task " +
      "comes back when someone skips it or leaves it unfinished for " + duration(60 * state.me.reservation_minutes) +
      ". Keep it open, or come back later." + (state.lookedAt ? " Last looked " + state.lookedAt + "." : "");
    clearTimeout(state.pollTimer);
    state.pollTimer = setTimeout(lookForWork, every * 1000);
  }

  async function lookForWork() {
    clearTimeout(state.pollTimer);
    if (state.cur || state.busy) return;
    if (document.visibilityState === "hidden") return;  // a page nobody sees reserves nothing; it looks when shown
    try {
      const view = await api("GET", "/api/next");
      state.lookedAt = new Date().toLocaleTimeString();
      if (!view.done) notice("");  // what it said about the last label is old news now
      if (!state.cur) show(view);
    } catch (e) {
      state.lookedAt = new Date().toLocaleTimeString() + " (failed: " + e.message + ")";
      if (!state.cur) lookLater();
    }
  }

  function duration(seconds) {
    const [n, unit] = seconds < 90 ? [Math.round(seconds), "second"] : [Math.round(seconds / 60), "minute"];
    return n + " " + unit + (n === 1 ? "" : "s");
  }

  // The choice changed: mark it on the replies in place (nothing moves), and show what follows a choice below them.
  function markChoice() {
    document.querySelectorAll("#candidates .cand").forEach((li) => {
      const on = li.dataset.cand === state.best;
      li.classList.toggle("chosen", on);
      li.querySelector(".pick").setAttribute("aria-pressed", String(on));
    });
    document.querySelectorAll(".outcome").forEach((b) => b.classList.toggle("chosen", b.dataset.outcome === state.outcome));
    $("submit").disabled = state.outcome === null;
    renderAfter();
  }

  function renderCandidates() {
    const list = $("candidates");
    list.replaceChildren();
    state.cur.task.candidates.forEach((c, i) => {
      const li = el("li", { class: "cand", "data-cand": c.cand_id });
      const pick = el("button", { type: "button", class: "pick", "aria-pressed": "false" });
      const text = el("span", { class: "text" + (c.text.length > LONG && !expanded.has(c.cand_id) ? " long" : "") }, c.text);
      pick.append(el("span", { class: "num" }, String(i + 1)), text);
      pick.addEventListener("click", () => choose("best", c.cand_id));
      li.append(pick);
      if (c.text.length > LONG) {
        const more = el("button", { type: "button", class: "link more" },
          expanded.has(c.cand_id) ? "Show less" : "Show all (" + c.text.length.toLocaleString() + " characters)");
        more.addEventListener("click", () => { expanded.has(c.cand_id) ? expanded.delete(c.cand_id) : expanded.add(c.cand_id); renderCandidates(); });
        li.append(more);
      }
      list.append(li);
    });
    markChoice();
  }

  function candNumber(cid) { return state.cur.task.candidates.findIndex((c) => c.cand_id === cid) + 1; }

  function ratingsRequired() {
    const comparison = state.cur.task.kind === "model-comparison" && (state.outcome === "best" || state.outcome === "tie");
    return comparison || (state.me.ratings_required && state.outcome === "best");
  }

  // Below the replies: 1-5 ratings of the chosen reply (or of every reply), and rewriting the chosen one.
  function renderAfter() {
    const box = $("after");
    box.replaceChildren();
    const crits = state.me.criteria;
    const rateAll = state.cur.rate_all && state.outcome !== "all_bad" && state.outcome !== "skip";
    const ids = !crits.length ? [] : rateAll ? state.cur.task.candidates.map((c) => c.cand_id) : state.outcome === "best" ? [state.best] : [];
    const need = ratingsRequired() ? "required" : "optional";
    for (const cid of ids) {
      const head = rateAll ? "Rate reply " + candNumber(cid) + " (" + need + ")" : "Reply " + candNumber(cid) + " chosen. Rate it (" + need + ")";
      box.append(el("h3", {}, head), ratingRows(cid, crits));
    }
    if (state.outcome === "best" && state.best) {
      const c = state.cur.task.candidates.find((x) => x.cand_id === state.best);
      if (state.edit) {
        box.append(el("h3", {}, "Your better version of reply " + candNumber(c.cand_id)), editBox(),
          el("p", { class: "muted small-text" }, "It is saved as an extra reply, written by you, next to the original (which stays as it is). Ctrl+Enter or Submit saves."));
      } else {
        const editBtn = el("button", { type: "button", class: "link" }, "✎ Write a better version of reply " + candNumber(c.cand_id));
        editBtn.append(el("kbd", {}, "E"));
        editBtn.addEventListener("click", () => startEdit(c));
        box.append(editBtn);
      }
    }
    box.hidden = !box.childNodes.length;
  }

  const expanded = new Set();

  // A long text shows its first lines and a button to show the rest.
  function collapsible(tag, attrs, text) {
    const node = el(tag, attrs, text);
    if (text.length <= LONG) return node;
    node.classList.add("long");
    const wrap = el("div", { class: "collapsible" });
    const more = el("button", { type: "button", class: "link more" }, "Show all (" + text.length.toLocaleString() + " characters)");
    more.addEventListener("click", () => {
      const open = node.classList.toggle("long") === false;
      more.textContent = open ? "Show less" : "Show all (" + text.length.toLocaleString() + " characters)";
    });
    wrap.append(node, more);
    return wrap;
  }

  function ratingRows(cid, crits) {
    const box = el("div", { class: "ratings" });
    box.append(el("p", { class: "scale" }, "1 = poor · 5 = excellent"));
    for (const crit of crits) {
      const fs = el("fieldset", { class: "rate" });
      fs.append(el("legend", {}, crit));
      for (let v = 1; v <= 5; v++) {
        const id = "r-" + cid + "-" + crit + "-" + v;
        const input = el("input", { type: "radio", name: "r-" + cid + "-" + crit, id, value: String(v),
          "data-cand": cid, "data-crit": crit, "aria-label": crit + " " + v + (v === 1 ? " (poor)" : v === 5 ? " (excellent)" : "") });
        if ((state.ratings[cid] || {})[crit] === v) input.checked = true;
        input.addEventListener("change", () => { (state.ratings[cid] = state.ratings[cid] || {})[crit] = v; });
        fs.append(input, el("label", { for: id, title: v === 1 ? "poor" : v === 5 ? "excellent" : "" }, String(v)));
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
    renderAfter();
  }

  function choose(outcome, best) {
    if (!state.cur || state.busy) return;
    state.outcome = outcome;
    state.best = best || null;
    if (state.edit && state.edit.cand_id !== state.best) state.edit = null;
    $("error").textContent = "";
    $("picked").textContent = outcome === null ? "" : outcome === "best" ? "Reply " + candNumber(best) + " chosen." +
      (state.me.criteria.length ? " Rating it (below) is " + (ratingsRequired() ? "required." : "optional.") : "")
      : { tie: "Tie: two or more replies are equally best.", all_bad: "All bad: no reply is acceptable.",
          skip: "Skip: someone else will get this one." }[outcome];
    markChoice();
  }

  // The ratings of the replies the page shows ratings for (all, or the chosen one), and which are missing.
  function ratingsToSend() {
    if (state.outcome === "all_bad" || state.outcome === "skip") return {};
    const ids = state.cur.rate_all ? state.cur.task.candidates.map((c) => c.cand_id) : (state.best ? [state.best] : []);
    const out = {};
    for (const id of ids) if (state.ratings[id] && Object.keys(state.ratings[id]).length) out[id] = state.ratings[id];
    return out;
  }

  function missingRatings(sent) {
    const crits = state.me.criteria;
    if (!crits.length) return null;
    if (!ratingsRequired()) return null;
    const ids = state.cur.rate_all ? state.cur.task.candidates.map((c) => c.cand_id) : [state.best];
    for (const id of ids) {
      const missing = crits.filter((c) => !(sent[id] || {})[c]);
      if (missing.length) return "Rate reply " + (state.cur.task.candidates.findIndex((c) => c.cand_id === id) + 1) + " for " + missing.join(", ") + " first.";
    }
    return null;
  }

  async function submit() {
    if (!state.cur || state.outcome === null || state.busy) return;
    const ratings = ratingsToSend();
    const missing = missingRatings(ratings);
    if (missing) { $("error").textContent = missing; $("after").scrollIntoView({ block: "nearest" }); return; }
    state.busy = true;
    const edit = state.outcome === "best" && state.edit && state.edit.text.trim() ? state.edit : null;
    // the label names its task as well as its assignment: the server refuses it if they do not match
    const body = { assignment_id: state.cur.assignment_id, task_id: state.cur.task.task_id, outcome: state.outcome,
      best: state.best, ratings, edit, seconds: (performance.now() - state.shownAt) / 1000 };
    try {
      const res = await api("POST", "/api/labels", body);
      notice("");
      show(res.next);
    } catch (e) {
      if (e.status === 404 || e.status === 409) {
        // reservation expired or the page was stale: say so plainly at the top, above the current task or "All done"
        const lost = "Your last label was NOT saved: " + (e.status === 404
          ? "its reservation had expired (over " + duration(60 * state.me.reservation_minutes) + " since the task was shown), so the task went back to the pool."
          : "this page was out of date (" + e.message + ").");
        try {
          const view = await api("GET", "/api/next");
          show(view);
          notice(lost + (view.done ? " There is nothing left to label now." : " Please label this task."));
        } catch (_) { notice(lost); window.scrollTo(0, 0); }
      } else if (e.status === 503) $("error").textContent = "Not saved yet: the server is busy. Press Enter to try again.";
      else $("error").textContent = "Not saved: " + e.message;
    } finally { state.busy = false; }
  }

  async function undo() {
    if (state.busy) return;
    state.busy = true;
    try {
      const res = await api("POST", "/api/undo");
      notice("");
      show(res.next);
      const was = res.undone_label;
      if (!res.undone) { if (state.cur) $("error").textContent = "Nothing to undo."; else notice("Nothing to undo."); }
      else if (was && state.cur && state.cur.task.task_id === was.task_id) {
        // the task comes back with the earlier answer selected: change it, or submit it again
        state.outcome = was.outcome;
        state.best = was.best;
        state.ratings = JSON.parse(JSON.stringify(was.ratings || {}));
        state.edit = was.edit ? { cand_id: was.edit.cand_id, text: was.edit.text } : null;
        markChoice();
        notice("Undone. Your earlier answer is selected: change it, or Submit again.", true);
      }
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
    if (ev.target.tagName === "INPUT" && ev.target.type === "radio" && /^[1-5]$/.test(key)) {
      // a digit on a focused rating sets that rating (it does not switch the chosen reply)
      const target = document.getElementById("r-" + ev.target.dataset.cand + "-" + ev.target.dataset.crit + "-" + key);
      if (target) { target.checked = true; target.focus(); target.dispatchEvent(new Event("change")); }
      ev.preventDefault();
      return;
    }
    if (/^[1-9]$/.test(key) && Number(key) <= n) choose("best", state.cur.task.candidates[Number(key) - 1].cand_id);
    else if (key === "t") choose("tie");
    else if (key === "b") choose("all_bad");
    else if (key === "s") choose("skip");
    else if (key === "enter") {
      if (ev.target.tagName === "SUMMARY" || ev.target.tagName === "A") return;  // Enter opens those
      if (ev.target.tagName === "BUTTON" && ev.target.id !== "submit" && state.outcome === null) return;
      submit();
    }
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
  $("check-now").addEventListener("click", lookForWork);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && !state.cur && state.me && !$("done").hidden) lookForWork(); });
  // the criteria box stays as the person left it once they opened or closed it themselves
  $("criteria").querySelector("summary").addEventListener("click", () => { state.criteriaOpen = !$("criteria").open; });
  document.querySelectorAll(".outcome").forEach((b) => b.addEventListener("click", () => choose(b.dataset.outcome)));

  (async function start() {
    try {
      state.me = await api("GET", "/api/me");
      $("who").textContent = state.me.name;
      toggleSituation(state.me.show_situation);
      if (state.me.ratings_required) $("ratings-note").textContent = "Rating it 1–5 afterwards is required.";
      if (!state.me.criteria.length) $("ratings-note").textContent = "";
      show(await api("GET", "/api/next"));
    } catch (e) { $("status").textContent = "Cannot load: " + e.message; }
  })();
})();
