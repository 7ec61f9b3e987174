// The AAR dashboard page. Everything it shows comes from the admin-only /v1 API of the server that served it.
// Agents write the forum posts and transcripts shown here, so all data is rendered as text (never as HTML).
"use strict";

const TOKEN_KEY = "aar-dashboard-token";
const POLL_MS = 2000; // the live poll of /v1/live
const SLOW_EVERY = 3; // campaigns, spend and the newest transcript page: every third poll
const PROGRESS_MS = 15000; // the best-PGR chart: on a new score, at most this often
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf"];

const $ = (id) => document.getElementById(id);
const view = {
  task: null, version: null, seen: new Set(), tick: 0, campaign: null, agent: null, before: null,
  next: null, progressAt: 0, progress: null, spend: null, cursor: null, timer: null, generation: 0,
};

// --- small helpers ---------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const num = (v, digits = 2) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "—");

function clip(text, limit = 3000) {
  text = String(text ?? "");
  if (text.length <= limit) return el("pre", {}, text);
  return el("details", {}, el("summary", {}, `${text.slice(0, 200)}… (${text.length} characters)`),
    el("pre", {}, text));
}

function integrity(flags) {
  if (!flags || flags.length === 0) return el("span", { class: "badge ok" }, "clean");
  return el("span", {}, flags.map((f) => el("span", { class: "badge flag", title: "integrity flag" }, f)));
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

class ApiError extends Error {}

async function api(path, options = {}, token = sessionStorage.getItem(TOKEN_KEY)) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...(options.headers || {}) },
  });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.status === 401 && token === sessionStorage.getItem(TOKEN_KEY)) logout("the token was refused");
  if (!response.ok) throw new ApiError((body && body.detail) || `${response.status} ${response.statusText}`);
  return body;
}

// --- login -----------------------------------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  const token = $("token-input").value.trim();
  try {
    await api("/v1/tasks", {}, token);
  } catch (error) {
    $("token-error").textContent = error.message;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token-input").value = "";
  boot();
}

function logout(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(view.timer);
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("token-error").textContent = typeof reason === "string" ? reason : "";
  $("live-status").textContent = "not connected";
}

async function boot() {
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  let tasks;
  try {
    tasks = await api("/v1/tasks");
  } catch (error) {
    $("live-status").textContent = `error: ${error.message}`;
    return;
  }
  const names = tasks.map((t) => t.name);
  const wanted = new URLSearchParams(location.search).get("task");
  view.task = names.includes(wanted) ? wanted : names.includes("rt-polarity") ? "rt-polarity" : names[0];
  for (const select of [$("task"), $("start-task")]) {
    select.replaceChildren(...tasks.map((t) => el("option", { value: t.name, title: t.description }, t.name)));
    select.value = view.task;
  }
  loadPosts(true);
  poll();
}

// --- live scores -----------------------------------------------------------------------------------------

async function poll() {
  clearTimeout(view.timer);
  const generation = ++view.generation; // a newer poll (say, after a task change) supersedes this one
  try {
    const live = await api(`/v1/live?task=${encodeURIComponent(view.task)}`);
    if (generation !== view.generation) return;
    if (live.version !== view.version) {
      const first = view.version === null;
      view.version = live.version;
      renderLeaderboard(live.leaderboard);
      renderSubmissions(live.recent, first);
      if (view.campaign && Date.now() - view.progressAt > PROGRESS_MS) loadProgress();
    }
    $("live-status").textContent = `live · updated ${clock(live.at)}`;
    $("live-status").className = "ok-text";
    if (view.tick++ % SLOW_EVERY === 0) await refreshCampaigns();
  } catch (error) {
    $("live-status").textContent = `error: ${error.message}`;
    $("live-status").className = "error";
  }
  if (generation === view.generation && sessionStorage.getItem(TOKEN_KEY)) view.timer = setTimeout(poll, POLL_MS);
}

function renderLeaderboard(board) {
  $("lb-meta").textContent = `${board.task}${board.finalised ? " · finalised" : ""} · ${board.rows.length} agents`;
  const rows = [...board.rows].sort((a, b) => (b.pgr ?? -Infinity) - (a.pgr ?? -Infinity));
  fill($("leaderboard").tBodies[0], rows.map((r, i) => el("tr", { "data-agent": r.agent },
    el("td", {}, i + 1), el("td", {}, r.agent), el("td", { class: "num strong" }, num(r.pgr)),
    el("td", { class: "num" }, num(r.pgr_full, 4)), el("td", { class: "num" }, num(r.private_pgr, 4)),
    el("td", { class: "num" }, num(r.transfer_pgr, 4)), el("td", {}, r.kind),
    el("td", { class: "mono" }, r.submission_id), el("td", {}, integrity([...r.flags, ...r.review])))));
  if (rows.length === 0) fill($("leaderboard").tBodies[0], [el("tr", {}, el("td", { colspan: 9, class: "muted" },
    "no scored submission yet"))]);
}

function renderSubmissions(subs, first) {
  fill($("submissions").tBodies[0], subs.map((s) => {
    const fresh = !first && !view.seen.has(s.id);
    view.seen.add(s.id);
    return el("tr", { "data-id": s.id, class: fresh ? "fresh" : null, title: s.error || null },
      el("td", {}, clock(s.created_at)), el("td", {}, s.agent), el("td", {}, s.kind),
      el("td", {}, el("span", { class: `status ${s.status}` }, s.progress ? `${s.status} ${s.progress}` : s.status)),
      el("td", { class: "num" }, num(s.pgr)),
      el("td", {}, s.status === "done" ? integrity(s.flags) : ""));
  }));
}

// --- campaigns -------------------------------------------------------------------------------------------

async function refreshCampaigns() {
  const list = await api("/v1/campaigns");
  fill($("campaign-list").tBodies[0], list.data.map((c) => el("tr", { class: c.id === view.campaign ? "selected" : null },
    el("td", {}, el("a", { href: "#campaign-detail", onclick: () => selectCampaign(c.id) }, c.id)),
    el("td", {}, c.task), el("td", {}, c.agents.length), el("td", {}, c.backend), el("td", {}, when(c.created_at)),
    el("td", {}, el("span", { class: `state ${c.state}` }, c.state + (c.exit_code !== null ? ` (${c.exit_code})` : ""))),
    el("td", {}, el("button", { type: "button", disabled: c.state === "exited" || c.stop_requested,
      onclick: () => stopCampaign(c.id) }, c.stop_requested ? "stopping" : "Stop")))));
  if (list.count === 0) fill($("campaign-list").tBodies[0], [el("tr", {}, el("td", { colspan: 7, class: "muted" },
    "no campaign yet"))]);
  if (view.campaign) await refreshCampaign();
}

async function startCampaign(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const text = (name) => (form.get(name) || "").trim() || null;
  const body = {
    agents: Number(form.get("agents")), hackers: Number(form.get("hackers") || 0), task: form.get("task"), backend: form.get("backend"), model: text("model"),
    budget: text("budget"), campaign_budget: text("campaign_budget"), sandbox: form.get("sandbox"),
    experiments: Number(form.get("experiments")),
    directions: (form.get("directions") || "").split("\n").map((d) => d.trim()).filter(Boolean),
  };
  $("start-result").className = "full";
  try {
    const campaign = await api("/v1/campaigns", { method: "POST", body: JSON.stringify(body) });
    $("start-result").textContent = `started ${campaign.id} (pid ${campaign.pid})`;
    await selectCampaign(campaign.id);
  } catch (error) {
    $("start-result").textContent = error.message;
    $("start-result").className = "full error";
  }
}

async function stopCampaign(id) {
  await api(`/v1/campaigns/${encodeURIComponent(id)}/stop`, { method: "POST" });
  await refreshCampaigns();
}

async function selectCampaign(id) {
  view.campaign = id;
  view.agent = null;
  view.before = null;
  view.progressAt = 0;
  $("campaign-detail").hidden = false;
  await refreshCampaigns();
  await loadProgress();
}

async function refreshCampaign() {
  const id = encodeURIComponent(view.campaign);
  const [info, spend] = await Promise.all([api(`/v1/campaigns/${id}`), api(`/v1/campaigns/${id}/spend`)]);
  $("cd-id").textContent = info.id;
  $("cd-state").textContent = `${info.task} · ${info.backend} (${info.model}) · ${info.state}`;
  $("cd-log").textContent = info.log_tail || "(no process log: not started from this dashboard)";
  $("spend-meta").textContent = `$${num(spend.cost_usd)} · ${spend.tokens.toLocaleString()} tokens · `
    + `${num(spend.agent_hours)} agent-hours · $${num(spend.usd_per_agent_hour)}/agent-hour`;
  view.spend = spend;
  renderSpend();
  const select = $("tr-agent");
  if (select.options.length !== info.agents.length || select.dataset.campaign !== info.id) {
    select.replaceChildren(...info.agents.map((a) => el("option", { value: a }, a)));
    select.dataset.campaign = info.id;
  }
  if (!view.agent) view.agent = info.agents[0];
  select.value = view.agent;
  if (view.before === null) await loadTranscript(null);
}

function renderSpend() {
  const best = Object.fromEntries((view.progress?.agents || []).map((a) => [a.agent, a]));
  fill($("spend").tBodies[0], (view.spend?.agents || []).map((a) => {
    const p = best[a.agent] || {};
    return el("tr", {}, el("td", { title: a.agent }, a.agent.replace(`${view.spend.campaign}-`, "")),
      el("td", {}, a.status), el("td", { class: "num" }, num(a.cost_usd)),
      el("td", { class: "num" }, a.tokens.toLocaleString()), el("td", { class: "num" }, a.model_calls),
      el("td", { class: "num" }, a.tool_calls), el("td", { class: "num" }, num(a.wall_h)),
      el("td", { class: "num" }, num(a.usd_per_agent_hour)), el("td", { class: "num strong" }, num(p.best_pgr, 3)),
      el("td", { class: "num" }, p.submissions ?? "—"), el("td", { class: "num" }, p.flagged ?? "—"),
      el("td", { class: "num" }, p.posts ?? "—"));
  }));
}

async function loadProgress() {
  if (!view.campaign) return;
  view.progressAt = Date.now();
  try {
    view.progress = await api(`/v1/campaigns/${encodeURIComponent(view.campaign)}/progress`);
  } catch (error) {
    $("chart").replaceChildren(el("p", { class: "error" }, error.message));
    return;
  }
  drawChart(view.progress);
  renderSpend();
  await loadIntegrity();
}

async function loadIntegrity() {
  const id = encodeURIComponent(view.campaign);
  let report;
  try {
    report = await api(`/v1/campaigns/${id}/integrity`);
  } catch (error) {
    $("integrity-meta").textContent = error.message;
    return;
  }
  $("integrity-meta").textContent = `${report.attacks.length} attacks · ${report.findings} findings · `
    + `${report.uninspected.length} agents not inspected yet`;
  fill($("inspections").tBodies[0], report.inspections.map((i) => el("tr", {},
    el("td", { title: i.agent }, i.agent.replace(`${report.campaign}-`, "")), el("td", {}, i.role),
    el("td", { class: `verdict ${i.verdict}` }, i.verdict), el("td", {}, i.held ? "held" : "—"),
    el("td", {}, i.evidence.slice(0, 3).join(" · ")),
    el("td", {}, i.held ? el("button", { type: "button", onclick: () => clearHold(id, i.agent) }, "Clear") : ""))));
  fill($("attacks").tBodies[0], report.attacks.map((a) => el("tr", {},
    el("td", { title: a.submission_id }, a.agent.replace(`${report.campaign}-`, "")),
    el("td", { class: `verdict ${a.verdict}` }, a.verdict), el("td", {}, a.flags.join(", ") || "—"),
    el("td", { class: "num" }, num(a.public_pgr, 3)), el("td", { class: "num" }, num(a.private_pgr, 3)),
    el("td", {}, a.description))));
}

async function clearHold(campaign, agent) {
  await api(`/v1/campaigns/${campaign}/agents/${encodeURIComponent(agent)}/clear`, { method: "POST" });
  await loadIntegrity();
}

// --- the best-PGR chart (inline SVG, drawn here) ---------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawChart(progress) {
  const W = 640, H = 280, L = 48, R = 12, T = 12, B = 36;
  const start = new Date(progress.started_at).getTime();
  const series = progress.agents.map((a, i) => ({
    agent: a.agent, color: COLORS[i % COLORS.length],
    points: a.curve.map((p) => [(new Date(p.at).getTime() - start) / 60000, p.pgr]),
  }));
  const points = series.flatMap((s) => s.points);
  const legend = series.map((s) => el("li", {}, el("span", { class: "swatch", "data-color": s.color }),
    `${s.agent}${s.points.length ? "" : " (no verified score yet)"}`));
  $("chart-legend").replaceChildren(...legend);
  for (const swatch of $("chart-legend").querySelectorAll(".swatch")) swatch.style.background = swatch.dataset.color;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "best verified PGR over time" });
  const xmax = Math.max(1, (Date.now() - start) / 60000, ...points.map((p) => p[0]));
  const ys = points.map((p) => p[1]);
  const ymin = Math.min(0, ...ys), ymax = Math.max(1, ...ys);
  const x = (v) => L + (v / xmax) * (W - L - R);
  const y = (v) => T + (1 - (v - ymin) / (ymax - ymin)) * (H - T - B);
  for (let i = 0; i <= 5; i++) {
    const yv = ymin + ((ymax - ymin) * i) / 5, xv = (xmax * i) / 5;
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(yv), y2: y(yv), class: "gridline" }),
      svg("text", { x: L - 6, y: y(yv) + 4, "text-anchor": "end", class: "tick" }, yv.toFixed(2)),
      svg("text", { x: x(xv), y: H - B + 16, "text-anchor": "middle", class: "tick" }, xv.toFixed(xv < 10 ? 1 : 0)));
  }
  chart.append(svg("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", class: "axis" },
    `minutes since the campaign started (${new Date(start).toLocaleString()})`));
  for (const s of series) {
    if (!s.points.length) continue;
    const steps = [...s.points, [xmax, s.points[s.points.length - 1][1]]];
    let d = `M${x(steps[0][0])},${y(steps[0][1])}`;
    for (let i = 1; i < steps.length; i++) d += ` H${x(steps[i][0])} V${y(steps[i][1])}`;
    chart.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2 }));
    for (const [px, py] of s.points) {
      const dot = svg("circle", { cx: x(px), cy: y(py), r: 3.5, fill: s.color });
      dot.append(svg("title", {}, `${s.agent}: ${py.toFixed(4)}`));
      chart.append(dot);
    }
  }
  if (!points.length) {
    chart.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" },
      "no verified (unflagged) score yet"));
  }
  $("chart").replaceChildren(chart);
}

// --- transcripts -----------------------------------------------------------------------------------------

async function loadTranscript(before) {
  if (!view.campaign || !view.agent) return;
  const query = new URLSearchParams({ limit: "40", ...(before !== null ? { before: String(before) } : {}) });
  const page = await api(`/v1/campaigns/${encodeURIComponent(view.campaign)}/agents/`
    + `${encodeURIComponent(view.agent)}/transcript?${query}`);
  view.before = before;
  view.next = page.next_before;
  $("tr-older").disabled = page.next_before === null;
  const last = page.records.length ? page.records[page.records.length - 1].index : 0;
  $("tr-meta").textContent = page.total ? `records ${last + 1}–${page.records[0].index + 1} of ${page.total}`
    + (before === null ? " (newest, live)" : "") : "no records yet";
  $("transcript").replaceChildren(...page.records.map(renderRecord));
}

function blocks(content) {
  return (Array.isArray(content) ? content : [{ type: "text", text: String(content ?? "") }]).map((b) => {
    if (b.type === "text") return clip(b.text);
    if (b.type === "tool_use") return el("div", { class: "tool" }, `→ ${b.name}`, clip(JSON.stringify(b.input, null, 2)));
    if (b.type === "tool_result") return el("div", { class: b.is_error ? "tool error" : "tool" }, clip(b.content));
    return el("div", { class: "muted" }, `[${b.type}]`);
  });
}

function renderRecord({ index, record: r }) {
  const head = el("div", { class: "head" }, el("span", { class: `type ${r.type}` }, r.type),
    ` #${index + 1} · ${clock(r.at)} · session ${r.session ?? "—"}`);
  let body;
  switch (r.type) {
    case "agent_start":
      body = el("p", {}, `${r.agent} started: ${r.backend} ${r.model}${r.resumed ? " (resumed)" : ""}`);
      break;
    case "session_start": case "session_end":
      body = el("p", { class: "muted" }, r.reason || "—");
      break;
    case "user":
      body = el("div", {}, blocks(r.content));
      break;
    case "model_call":
      body = el("div", {}, el("p", { class: "muted" }, `stop ${r.stop_reason} · $${num(r.cost_usd, 4)} · `
        + `${(r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0)} tokens · ${num(r.latency_s, 1)} s`),
        blocks(r.content));
      break;
    case "tool_call":
      body = el("div", { class: "tool" }, `${r.name}`, clip(JSON.stringify(r.input, null, 2)));
      break;
    case "tool_result":
      body = el("div", { class: r.is_error ? "tool error" : "tool" },
        `${r.name || "result"}${r.is_error ? " (error)" : ""} · ${num(r.duration_s, 2)} s`, clip(r.content));
      break;
    case "agent_end":
      body = el("p", { class: "strong" }, `ended: ${r.reason} · $${num(r.totals?.cost_usd, 4)}`);
      break;
    default:
      body = clip(JSON.stringify(r, null, 2));
  }
  return el("li", { class: `record ${r.type}` }, head, body);
}

// --- forum -----------------------------------------------------------------------------------------------

function postItem(post, extra) {
  const score = post.verified
    ? el("span", { class: "badge ok" }, `PGR ${num(post.verified.pgr)} verified`)
    : Object.keys(post.self_reported || {}).length
      ? el("span", { class: "badge muted" }, `${Object.entries(post.self_reported).map(([k, v]) => `${k}=${v}`)
        .join(" ")} (self-reported)`) : null;
  return el("li", {}, el("a", { href: "#post", onclick: () => loadThread(post.id) }, post.title),
    el("div", { class: "meta" }, el("span", { class: `badge type-${post.type}` }, post.type), ` ${post.author} · `,
      `${post.score} votes · ${post.comment_count} comments · ${when(post.created_at)} `, score,
      post.verified ? integrity(post.verified.flags) : null, extra || null));
}

async function loadPosts(reset) {
  if (reset) { view.cursor = null; $("posts").replaceChildren(); }
  const query = new URLSearchParams({ limit: "20", ...(view.cursor ? { cursor: view.cursor } : {}) });
  try {
    const page = await api(`/v1/forum/posts?${query}`);
    $("posts").append(...page.data.map((p) => postItem(p)));
    view.cursor = page.next_cursor;
    $("posts-more").hidden = !page.next_cursor;
    $("posts-meta").textContent = `${$("posts").children.length} posts shown, newest first`;
  } catch (error) {
    $("posts-meta").textContent = `error: ${error.message}`;
  }
}

async function search(event) {
  event.preventDefault();
  const q = $("search-input").value.trim();
  if (!q) return loadPosts(true);
  try {
    const results = await api(`/v1/forum/search?${new URLSearchParams({ q, k: "30" })}`);
    $("posts").replaceChildren(...results.hits.map((h) => postItem(h.post,
      el("span", { class: "muted" }, ` · match ${num(h.score, 3)}`))));
    $("posts-more").hidden = true;
    $("posts-meta").textContent = `${results.hits.length} results for “${results.query}”`;
  } catch (error) {
    $("posts-meta").textContent = `error: ${error.message}`;
  }
}

async function loadThread(id) {
  try {
    const { post, comments } = await api(`/v1/forum/posts/${id}`);
    const verified = post.verified ? el("p", {}, el("span", { class: "badge ok" },
      `verified PGR ${num(post.verified.pgr)} · submission ${post.verified.submission_id}`),
      integrity(post.verified.flags)) : null;
    $("post").replaceChildren(...[
      el("h3", {}, post.title),
      el("p", { class: "meta" }, el("span", { class: `badge type-${post.type}` }, post.type),
        ` ${post.author} · ${when(post.created_at)} · ${post.score} votes `,
        post.tags.map((t) => el("span", { class: "tag" }, t))),
      verified,
      Object.keys(post.self_reported).length ? el("p", { class: "muted" }, "self-reported (not verified): "
        + Object.entries(post.self_reported).map(([k, v]) => `${k}=${v}`).join(", ")) : null,
      el("div", { class: "body" }, post.body),
      el("h4", {}, `${comments.length} comments`),
      el("ul", { class: "comments" }, comments.map((c) => el("li", { class: "comment", "data-depth": c.depth },
        el("div", { class: "meta" }, `${c.author} · ${when(c.created_at)}`),
        el("div", { class: "body" }, c.deleted ? "[deleted]" : c.body))))].filter(Boolean));
    for (const node of $("post").querySelectorAll(".comment")) node.style.marginLeft = `${node.dataset.depth * 1.5}em`;
  } catch (error) {
    $("post").replaceChildren(el("p", { class: "error" }, error.message));
  }
}

// --- wiring ----------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout());
  $("task").addEventListener("change", (e) => { view.task = e.target.value; view.version = null; poll(); });
  $("start-form").addEventListener("submit", startCampaign);
  $("tr-agent").addEventListener("change", (e) => { view.agent = e.target.value; loadTranscript(null); });
  $("tr-newest").addEventListener("click", () => loadTranscript(null));
  $("tr-older").addEventListener("click", () => view.next !== null && loadTranscript(view.next));
  $("search-form").addEventListener("submit", search);
  $("search-clear").addEventListener("click", () => { $("search-input").value = ""; loadPosts(true); });
  $("posts-more").addEventListener("click", () => loadPosts(false));
  if (sessionStorage.getItem(TOKEN_KEY)) boot(); else logout();
});
