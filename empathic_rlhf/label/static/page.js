"use strict";
// What every annotator page shares: the invite token from the URL, element helpers, and the JSON API call that
// turns an error answer into an Error carrying the server's message and status. Loaded before the page's script.
window.EmpathicPage = (function () {
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);

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
    if (!res.ok) {
      const detail = typeof data.detail === "string" ? data.detail : res.statusText;
      const err = new Error(detail); err.status = res.status; throw err;
    }
    return data;
  }

  return { token, $, el, api };
})();
