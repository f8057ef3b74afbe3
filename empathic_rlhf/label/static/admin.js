// Admin dashboard: numbers from /api/admin/*, written with textContent only (annotator names are user input).
"use strict";
(function () {
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  // Numbers for people: thousands separated, at most 3 significant digits after the point, p-values as "< 0.001".
  const nf = new Intl.NumberFormat("en", { maximumFractionDigits: 2 });
  const fmt = (x) => (x === null || x === undefined ? "–" : typeof x !== "number" ? String(x)
    : Number.isInteger(x) ? x.toLocaleString("en") : Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en") : nf.format(x));
  const fmtP = (p) => (p === null || p === undefined ? "–" : p < 0.001 ? "< 0.001" : p.toFixed(3));
  const pct = (x) => (x === null || x === undefined ? "–" : Math.round(100 * x) + "%");
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A small bar chart (inline SVG, no library: the machine may be offline). ``values``: [{label, value}].
  function bars(node, title, values, fmtValue) {
    node.replaceChildren();
    if (!values.length) { node.append(document.createTextNode(title + ": nothing yet")); return; }
    const w = 320, h = 120, pad = 18, max = Math.max(...values.map((v) => v.value), 1e-9);
    const chart = svg("svg", { viewBox: "0 0 " + w + " " + (h + pad), role: "img", "aria-label": title, class: "chart" });
    chart.append(svg("title", {}, title));
    const bw = (w - 4) / values.length;
    values.forEach((v, i) => {
      const bh = Math.max(1, (h - pad) * (v.value === null ? 0 : v.value) / max);
      const bar = svg("rect", { x: 2 + i * bw + 1, y: h - bh, width: Math.max(1, bw - 2), height: bh, class: "bar" });
      bar.append(svg("title", {}, v.label + ": " + fmtValue(v.value)));
      chart.append(bar);
    });
    chart.append(svg("text", { x: 2, y: 12, class: "axis" }, "max " + fmtValue(max)));
    chart.append(svg("text", { x: 2, y: h + pad - 3, class: "axis" }, values[0].label));
    chart.append(svg("text", { x: w - 2, y: h + pad - 3, class: "axis", "text-anchor": "end" }, values[values.length - 1].label));
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = title;
    fig.append(chart, cap);
    node.append(fig);
  }

  async function get(path) {
    const res = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (!res.ok) throw new Error(res.status + " " + res.statusText);
    return res;
  }

  function table(node, head, rows) {
    node.replaceChildren();
    const tr = document.createElement("tr");
    for (const h of head) { const th = document.createElement("th"); th.textContent = h; tr.append(th); }
    node.append(tr);
    for (const r of rows) {
      const row = document.createElement("tr");
      for (const v of r) { const td = document.createElement("td"); td.textContent = typeof v === "string" ? v : fmt(v); row.append(td); }
      node.append(row);
    }
  }

  function tile(label, value) {
    const div = document.createElement("div");
    div.className = "tile";
    const b = document.createElement("b");
    b.textContent = fmt(value);
    div.append(b, document.createTextNode(label));
    return div;
  }

  async function refresh() {
    const st = await (await get("/api/admin/stats")).json();
    const o = st.overall;
    $("tiles").replaceChildren(tile("labels", o.labels), tile("slots taken (labelled or reserved)", o.slots_filled + " / " + o.slots),
      tile("labels last hour", o.labels_last_hour), tile("median s / label", o.median_seconds),
      tile("gold tasks", o.gold_tasks));
    table($("annotators"), ["annotator", "kind", "labels", "skips", "last hour", "median s", "labels / hour", "gold n", "gold accuracy"],
      st.annotators.map((p) => [p.annotator, p.kind, p.labels, p.skips, p.last_hour, p.median_seconds, p.labels_per_hour, p.gold_n, pct(p.gold_accuracy)]));
    bars($("plot-hours"), "Labels per hour (UTC)", st.per_hour.map((x) => ({ label: x.hour.slice(5).replace("T", " "), value: x.labels })), fmt);
    bars($("plot-annotators"), "Labels per annotator", st.annotators.map((p) => ({ label: p.annotator, value: p.labels })), fmt);
    bars($("plot-agreement"), "Krippendorff's α as overlapping tasks accrue",
      st.agreement_curve.map((x) => ({ label: x.tasks + " tasks", value: x.alpha === null ? 0 : Math.max(0, x.alpha) })), fmt);
    const ag = st.agreement;
    // people's agreement; simulated annotators' (never pooled with people's) follows per kind
    const simulated = Object.entries(st.by_kind).filter(([kind]) => kind !== "human").map(([kind, b]) =>
      " Simulated (" + kind + "): " + b.labels + " labels, Fleiss' κ " + fmt(b.agreement.fleiss.kappa) + " on " +
      b.agreement.overlapping_tasks + " tasks.").join("");
    $("agreement").textContent = "People: " + ag.overlapping_tasks + " tasks with 2+ judgements. Fleiss' κ " + fmt(ag.fleiss.kappa) +
      " (" + ag.fleiss.raters + " raters × " + ag.fleiss.tasks + " tasks), Krippendorff's α " + fmt(ag.krippendorff.alpha) + "." + simulated;
    table($("cohen"), ["pair", "tasks", "raw agreement", "Cohen's κ"], ag.cohen.map((c) => [c.a + " / " + c.b, c.n, pct(c.agreement), c.kappa]));
    const pb = st.position_bias;
    $("bias").textContent = "The first shown reply won " + pb.first_shown_wins + " of " + pb.best_labels +
      " best-reply labels (" + pct(pb.rate) + "; by chance " + pct(pb.expected) + "; binomial test p " + fmtP(pb.p_value) + ").";
    const cmp = await (await get("/api/admin/compare")).json();
    table($("compare"), ["A vs B", "criterion", "A wins", "B wins", "ties", "n", "A win rate", "p", "95% CI"],
      cmp.rows.map((r) => [r.model_a + " vs " + r.model_b + (r.source === "human" ? "" : " [" + r.source + "]"), r.criterion, r.wins_a, r.wins_b, r.ties, r.n, pct(r.win_rate_a),
        fmtP(r.p_value), r.ci95 ? pct(r.ci95[0]) + "–" + pct(r.ci95[1]) : "–"]));
    $("status").textContent = "Updated " + new Date().toLocaleTimeString();
  }

  document.querySelectorAll("button[data-file]").forEach((b) => b.addEventListener("click", async () => {
    const blob = await (await get("/api/admin/export/" + b.dataset.file)).blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = b.dataset.file;
    a.click();
    URL.revokeObjectURL(a.href);
  }));
  refresh().catch((e) => { $("status").textContent = "Cannot load: " + e.message; });
  setInterval(() => refresh().catch(() => {}), 30000);
})();
