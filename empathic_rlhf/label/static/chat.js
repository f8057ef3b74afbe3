// Live-chat page. Nothing is sent to the server before the person agrees to the consent text (the first write is
// "start", which records the consent). Every text goes into the page through textContent (never parsed as HTML).
// The token comes from the invite link /chat/<token>; the model runs in a separate worker process, so after a
// message the page long-polls the conversation until the reply (or the candidates to choose from) is there.
"use strict";
(function () {
  const { token, $, el, api } = window.EmpathicPage;  // page.js
  const state = { me: null, chatId: null, view: null, shownAt: 0, busy: false, polling: null };

  function ordinal(n) { return n === 1 ? "" : n + (n === 2 ? "nd" : n === 3 ? "rd" : "th") + " "; }

  // One screen at a time: the consent (with the list of earlier conversations below it), a chat, or "declined".
  function showOnly(section) {
    $("consent").hidden = section !== "consent";
    $("chats").hidden = section !== "consent" || !state.me.chats.length;
    $("chat").hidden = section !== "chat";
    $("declined").hidden = section !== "declined";
    $("status").hidden = true;
    $("new-chat").hidden = section !== "chat";
    $("delete-chat").hidden = section !== "chat";
  }

  function renderList() {
    const list = $("chat-list");
    list.replaceChildren();
    for (const c of state.me.chats) {
      const li = el("li", { class: "chat-item" });
      const open = el("button", { type: "button", class: "link open" }, (c.preview || "(empty)") + " · " + c.turns + " turns");
      open.addEventListener("click", () => openChat(c.chat_id));
      const del = el("button", { type: "button", class: "link danger" }, "Delete");
      del.addEventListener("click", () => removeChat(c.chat_id));
      li.append(open, del);
      list.append(li);
    }
  }

  function render(view) {
    state.view = view;
    const turns = $("turns");
    turns.replaceChildren();
    for (const t of view.turns) {
      const li = el("li", { class: "turn " + (t.role === "assistant" ? "left bot" : "right me") });
      li.append(el("span", { class: "role" }, t.role === "assistant" ? "bot" : "you"), el("p", {}, t.text));
      turns.append(li);
    }
    const p = view.pending;
    const choosing = p !== null && p.status === "ready";
    $("choice").hidden = !choosing;
    $("retry").hidden = !(p && p.status === "failed");
    $("waiting").hidden = !(p && (p.status === "queued" || p.status === "running"));
    if (p && p.status === "queued") $("waiting").textContent = p.ahead > 0 ? "Waiting for the chatbot (" + p.ahead + " ahead of you)…" : "Waiting for the chatbot…";
    if (p && p.status === "running") $("waiting").textContent = "The chatbot is writing…";
    if (p && p.status === "failed") $("error").textContent = "The chatbot failed to answer (" + (p.error || "error") + ").";
    $("message").disabled = p !== null;
    $("send").disabled = p !== null;
    if (choosing) renderChoice(p);
    if (!p) setTimeout(() => $("message").focus(), 0);
    window.scrollTo(0, document.body.scrollHeight);
  }

  function renderChoice(p) {
    const list = $("candidates");
    list.replaceChildren();
    $("k").textContent = String(p.candidates.length);
    p.candidates.forEach((c, i) => {
      const li = el("li", { class: "cand" });
      const pick = el("button", { type: "button", class: "pick" });
      pick.append(el("span", { class: "num" }, String(i + 1)), el("span", { class: "text" }, c.text));
      pick.addEventListener("click", () => choose(c.cand_id));
      li.append(pick);
      list.append(li);
    });
    state.shownAt = performance.now();
  }

  // Long-poll the conversation while its reply is queued or being written.
  async function follow() {
    const p = state.view && state.view.pending;
    if (!p || (p.status !== "queued" && p.status !== "running") || state.polling === p.job_id) return;
    state.polling = p.job_id;
    const chatId = state.chatId;
    try {
      while (state.chatId === chatId) {
        const view = await api("GET", "/api/chat/" + chatId + "?wait_job=" + p.job_id + "&wait=20");
        if (state.chatId !== chatId) return;
        render(view);
        const q = view.pending;
        if (!q || q.job_id !== p.job_id || (q.status !== "queued" && q.status !== "running")) return;
      }
    } catch (e) {
      $("error").textContent = "Lost the connection (" + e.message + "); reload the page to continue.";
    } finally { if (state.polling === p.job_id) state.polling = null; }
  }

  async function openChat(chatId) {
    state.chatId = chatId;
    $("error").textContent = "";
    showOnly("chat");
    render(await api("GET", "/api/chat/" + chatId));
    follow();
  }

  async function agree() {
    if (state.busy) return;
    state.busy = true;
    try {
      const view = await api("POST", "/api/chat/start", { consent: true, consent_version: $("consent").dataset.version });
      state.chatId = view.chat_id;
      $("error").textContent = "";
      showOnly("chat");
      render(view);
    } catch (e) { $("status").hidden = false; $("status").textContent = "Could not start: " + e.message; }
    finally { state.busy = false; }
  }

  async function send(ev) {
    if (ev) ev.preventDefault();
    const text = $("message").value.trim();
    if (!text || state.busy || !state.chatId) return;
    state.busy = true;
    $("error").textContent = "";
    try {
      const view = await api("POST", "/api/chat/messages", { chat_id: state.chatId, text });
      $("message").value = "";
      render(view);
      follow();
    } catch (e) {
      $("error").textContent = e.status === 503 ? "Not sent: the server is busy. Try again." : "Not sent: " + e.message;
    } finally { state.busy = false; }
  }

  async function choose(candId) {
    const p = state.view && state.view.pending;
    if (!p || p.status !== "ready" || state.busy) return;
    state.busy = true;
    try {
      render(await api("POST", "/api/chat/choice", { chat_id: state.chatId, job_id: p.job_id, best: candId,
        seconds: (performance.now() - state.shownAt) / 1000 }));
    } catch (e) { $("error").textContent = "Choice not saved: " + e.message; }
    finally { state.busy = false; }
  }

  async function retry() {
    try { render(await api("POST", "/api/chat/retry", { chat_id: state.chatId })); $("error").textContent = ""; follow(); }
    catch (e) { $("error").textContent = "Could not retry: " + e.message; }
  }

  async function removeChat(chatId) {
    if (!window.confirm("Delete this conversation and the choices you made in it? This cannot be undone.")) return;
    try {
      await api("DELETE", "/api/chat/" + chatId);
      if (state.chatId === chatId) state.chatId = null;
      await home();
    } catch (e) { $("error").textContent = "Not deleted: " + e.message; }
  }

  async function home() {
    state.me = await api("GET", "/api/chat");
    $("who").textContent = state.me.name;
    $("every").textContent = ordinal(state.me.choice_every);
    $("message").maxLength = state.me.message_chars;
    renderList();
    showOnly("consent");
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.target.id === "message") {
      if (ev.key === "Enter" && !ev.shiftKey) send(ev);  // Shift+Enter: a new line
      return;
    }
    const p = state.view && state.view.pending;
    if (!p || p.status !== "ready" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (/^[1-9]$/.test(ev.key) && Number(ev.key) <= p.candidates.length) {
      ev.preventDefault();
      choose(p.candidates[Number(ev.key) - 1].cand_id);
    }
  });

  $("agree").addEventListener("click", agree);
  $("decline").addEventListener("click", () => showOnly("declined"));
  $("composer").addEventListener("submit", send);
  $("retry").addEventListener("click", retry);
  $("new-chat").addEventListener("click", () => { state.chatId = null; home(); });
  $("delete-chat").addEventListener("click", () => removeChat(state.chatId));

  home().catch((e) => { $("status").textContent = "Cannot load: " + e.message; });
})();
