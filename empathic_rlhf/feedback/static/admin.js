// Admin dashboard: numbers from /api/admin/*, written with textContent only (annotator names are user input).
"use strict";
(function () {
  const token = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  const fmt = (x, d = 3) => (x === null || x === undefined ? "–" : typeof x === "number" && !Number.isInteger(x) ? x.toFixed(d) : String(x));

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
      for (const v of r) { const td = document.createElement("td"); td.textContent = fmt(v); row.append(td); }
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
    table($("annotators"), ["annotator", "labels", "skips", "last hour", "median s", "labels / hour", "gold n", "gold accuracy"],
      st.annotators.map((p) => [p.annotator, p.labels, p.skips, p.last_hour, p.median_seconds, p.labels_per_hour, p.gold_n, p.gold_accuracy]));
    const ag = st.agreement;
    $("agreement").textContent = ag.overlapping_tasks + " tasks with 2+ judgements. Fleiss' κ " + fmt(ag.fleiss.kappa) +
      " (" + ag.fleiss.raters + " raters × " + ag.fleiss.tasks + " tasks), Krippendorff's α " + fmt(ag.krippendorff.alpha) + ".";
    table($("cohen"), ["pair", "tasks", "raw agreement", "Cohen's κ"], ag.cohen.map((c) => [c.a + " / " + c.b, c.n, c.agreement, c.kappa]));
    const pb = st.position_bias;
    $("bias").textContent = "The first shown reply won " + pb.first_shown_wins + " of " + pb.best_labels +
      " best-reply labels (rate " + fmt(pb.rate) + ", chance " + fmt(pb.expected) + ", binomial p " + fmt(pb.p_value) + ").";
    const cmp = await (await get("/api/admin/compare")).json();
    table($("compare"), ["A vs B", "criterion", "A wins", "B wins", "ties", "n", "A win rate", "p", "95% CI"],
      cmp.rows.map((r) => [r.model_a + " vs " + r.model_b, r.criterion, r.wins_a, r.wins_b, r.ties, r.n, r.win_rate_a,
        r.p_value, r.ci95 ? "[" + r.ci95[0].toFixed(3) + ", " + r.ci95[1].toFixed(3) + "]" : null]));
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
